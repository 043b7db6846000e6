#include "stream/control_socket.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "base/status.h"

namespace pairflow::stream {
namespace {

std::atomic<std::uint64_t> g_sigusr1{0};
extern "C" void on_sigusr1(int) { g_sigusr1.fetch_add(1, std::memory_order_relaxed); }

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void ControlSocket::install_sigusr1() {
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
}

std::uint64_t ControlSocket::sigusr1_count() { return g_sigusr1.load(std::memory_order_relaxed); }

ControlSocket::ControlSocket(std::string path, std::chrono::milliseconds answer_timeout)
    : path_(std::move(path)), answer_timeout_(answer_timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof addr.sun_path)
    throw UserError(fmt::format("{}: a control socket path must have 1 to {} characters", path_,
                                sizeof addr.sun_path - 1));
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw UserError(fmt::format("{}: socket: {}", path_, std::strerror(errno)));
  // A socket file left by a process that died is replaced; one in use by a live process is not.
  if (::connect(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ::close(listen_fd_);
    throw UserError(fmt::format("{}: another process is listening on this control socket", path_));
  }
  ::close(listen_fd_);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::unlink(path_.c_str());
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    const std::string error = std::strerror(errno);
    ::close(listen_fd_);
    throw UserError(fmt::format("{}: cannot listen on the control socket: {}", path_, error));
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw UserError(fmt::format("{}: pipe: {}", path_, std::strerror(errno)));
  }
  thread_ = std::thread([this] { serve(); });
}

ControlSocket::~ControlSocket() {
  stop_.store(true);
  ::close(wake_[1]);
  if (thread_.joinable()) thread_.join();
  ::close(wake_[0]);
  ::close(listen_fd_);
  ::unlink(path_.c_str());
}

void ControlSocket::serve() {
  while (!stop_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void ControlSocket::handle(int fd) {
  // One line (up to 64 KiB), read within a second.
  std::string line;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (line.find('\n') == std::string::npos && line.size() < 65536) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    line.append(buffer, static_cast<std::size_t>(n));
  }
  if (const auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  std::uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    queue_.push_back({id, line});
  }
  const auto until = std::chrono::steady_clock::now() + answer_timeout_;
  while (std::chrono::steady_clock::now() < until && !stop_.load()) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = answers_.find(id); it != answers_.end()) {
        write_all(fd, it->second + "\n");
        answers_.erase(it);
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard lock(mutex_);
    std::erase_if(queue_, [&](const Request& r) { return r.id == id; });
  }
  write_all(fd, fmt::format("{{\"ok\":false,\"error\":\"the job did not answer within {} ms "
                            "(it may be busy or stopping)\"}}\n",
                            answer_timeout_.count()));
}

std::vector<ControlSocket::Request> ControlSocket::take() {
  std::lock_guard lock(mutex_);
  std::vector<Request> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

void ControlSocket::answer(std::uint64_t id, std::string reply) {
  std::lock_guard lock(mutex_);
  answers_[id] = std::move(reply);
}

}  // namespace pairflow::stream
