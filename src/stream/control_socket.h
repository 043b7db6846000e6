// ControlSocket: how an operator reaches a running job from outside its data: a Unix domain socket
// that takes one JSON command per connection and answers one JSON line (`pairflow ctl` is the
// client), and SIGUSR1.
//
// A listener thread accepts connections and queues each command with its connection; the job's
// thread takes them (take()) whenever it runs - at every message and at every poll, at most a poll
// timeout apart - and answers each (answer()); the listener writes the answer and closes. A
// command not answered within `answer_timeout` gets {"ok":false,"error":"..."}.
//
// SIGUSR1 (install_sigusr1) only sets a flag (async-signal-safe); sigusr1_count() tells the job's
// thread how many arrived. Lifecycle: construct (binds, throws UserError naming the path), take()
// and answer() on the job's thread, destroy (stops the thread, removes the socket file).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pairflow::stream {

class ControlSocket {
 public:
  struct Request {
    std::uint64_t id = 0;
    std::string text;  // one line, as received (JSON expected; the job parses it)
  };

  explicit ControlSocket(std::string path,
                         std::chrono::milliseconds answer_timeout = std::chrono::seconds(10));
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // The commands received since the last call, oldest first.
  std::vector<Request> take();
  void answer(std::uint64_t id, std::string reply);
  const std::string& path() const { return path_; }

  static void install_sigusr1();
  static std::uint64_t sigusr1_count();

 private:
  void serve();
  void handle(int fd);

  std::string path_;
  std::chrono::milliseconds answer_timeout_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: closing the write end wakes the listener to stop
  std::mutex mutex_;
  std::deque<Request> queue_;
  std::map<std::uint64_t, std::string> answers_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pairflow::stream
