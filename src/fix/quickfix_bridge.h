// QuickFixBridge: one FIX 4.4 session over QuickFIX (initiator or acceptor), seen through plain
// C++ types. QuickFIX 1.15's headers use dynamic exception specifications, which C++17 removed, so
// the one file that includes them (quickfix_bridge.cc) is compiled as C++14 and nothing else in
// pairflow sees a QuickFIX type. This header stays C++14.
//
// Application messages cross as FixMessage: the message type (tag 35) and the body fields in order.
// Session-level work - logon, heartbeats, test requests, sequence numbers, gap fills, resend
// requests, the message store (memory, or files that survive a restart) - is QuickFIX's.
//
// Threads: QuickFIX runs the socket on its own thread; BridgeEvents are called there (implement
// them thread-safely). send(), drop() and the getters may be called from any thread.
// Lifecycle: construct (throws std::runtime_error on bad settings or an unusable port/store),
// start(), ..., stop() (or the destructor: logs out and joins).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pairflow {
namespace fix {

struct FixMessage {
  std::string type;  // MsgType (35): "D", "F", "H", "8", "9", ...
  std::vector<std::pair<int, std::string>> fields;
  bool poss_dup = false;  // inbound: PossDupFlag (43) - a message the counterparty sent again

  FixMessage& add(int tag, std::string value) {
    fields.emplace_back(tag, std::move(value));
    return *this;
  }
  // The first value of `tag`, or nullptr.
  const std::string* get(int tag) const {
    for (const auto& f : fields)
      if (f.first == tag) return &f.second;
    return nullptr;
  }
};

struct BridgeSettings {
  bool acceptor = false;
  std::string host = "127.0.0.1";  // initiator: where to connect
  int port = 9878;                 // initiator: connect to; acceptor: listen on (0: any free port)
  std::string sender_comp_id = "PAIRFLOW", target_comp_id = "FIXSIM";
  int heartbeat_s = 30;
  int reconnect_s = 1;           // initiator: seconds between connection attempts
  std::string store = "memory";  // "memory" or "file"
  std::string store_path;        // file store directory
  std::string log_path;          // FIX message log directory ("" = none)
  // Initiator: ask for sequence numbers 1/1 on the first logon of this process (ResetSeqNumFlag);
  // reconnects within the process resume the sequence and recover gaps with resend requests.
  bool reset_on_first_logon = true;
  // Resent application messages of these types are replaced by a gap fill (a stale order must
  // not reach the market again: the order journal decides what is resent).
  std::vector<std::string> never_resend;
};

class BridgeEvents {
 public:
  virtual ~BridgeEvents() {}
  virtual void on_logon() {}
  virtual void on_logout() {}
  virtual void on_message(const FixMessage& message) = 0;
  // Something QuickFIX refused or could not parse, or a message in a state it cannot take.
  virtual void on_session_problem(const std::string& what) {}
};

class QuickFixBridge {
 public:
  QuickFixBridge(const BridgeSettings& settings, BridgeEvents& events);
  ~QuickFixBridge();
  QuickFixBridge(const QuickFixBridge&) = delete;
  QuickFixBridge& operator=(const QuickFixBridge&) = delete;

  void start();
  void stop();
  // False when the session is not logged on (nothing is sent; the caller queues it). With
  // `store_when_offline`, a message for a session that is not logged on is stored with its
  // sequence number instead, for the counterparty's resend request after it reconnects (fix-sim's
  // reports). True when it was sent or stored.
  bool send(const FixMessage& message, bool store_when_offline = false);
  bool logged_on() const;
  // Closes the connection now, as a network failure would (the session reconnects / is
  // reconnected to, and resumes its sequence numbers).
  void drop();
  // Acceptor: the port it listens on (useful with port 0).
  int port() const;
  std::uint64_t messages_sent() const;
  std::uint64_t messages_received() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fix
}  // namespace pairflow
