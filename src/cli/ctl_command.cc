// `pairflow ctl`: the operator's remote control for a running execution job. Kill switch commands
// (pause, flatten, halt), resume, re-arm, acknowledging a reconciliation difference, and status,
// sent to the job's control socket (answered, exit status from the answer) or published on the
// `control` topic of a Kafka cluster (every execution job reading it applies the command).
#include <fmt/format.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/status.h"
#include "cli/commands.h"
#include "exec/kill_switch.h"
#include "exec/wire.h"
#include "model/topics.h"
#include "stream/kafka_transport.h"

namespace pairflow::cli {
namespace {

struct CtlOptions {
  std::string action, mode, socket, brokers, topic = std::string(topics::kControl), by, reason;
  double timeout_s = 15;
};

exec::ControlCommand make_command(const CtlOptions& o) {
  exec::ControlCommand c;
  c.reason = o.reason;
  c.by = o.by;
  if (c.by.empty()) {
    const char* user = std::getenv("USER");
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    c.by = fmt::format("{}@{}", user && *user ? user : "unknown", host);
  }
  const std::string& a = o.action;
  if (a == "kill") {
    c.kind = exec::CommandKind::kKill;
    const std::string mode = o.mode.empty() ? "halt" : o.mode;
    if (!exec::parse_kill_mode(mode, c.mode) || c.mode == exec::KillMode::kNone)
      throw UserError(fmt::format("ctl kill: mode '{}' is not pause, flatten or halt", mode));
    return c;
  }
  if (!o.mode.empty()) throw UserError(fmt::format("ctl {}: takes no mode (only kill does)", a));
  if (a == "pause" || a == "flatten" || a == "halt") {
    c.kind = exec::CommandKind::kKill;
    exec::parse_kill_mode(a, c.mode);
  } else if (a == "resume") {
    c.kind = exec::CommandKind::kResume;
  } else if (a == "rearm") {
    c.kind = exec::CommandKind::kRearm;
  } else if (a == "acknowledge") {
    c.kind = exec::CommandKind::kAcknowledge;
  } else if (a == "status") {
    c.kind = exec::CommandKind::kStatus;
  } else {
    throw UserError(fmt::format(
        "ctl: unknown action '{}' (kill [pause|flatten|halt], pause, flatten, halt, resume, rearm, "
        "acknowledge, status)",
        a));
  }
  return c;
}

// One command, one answer line. Throws UserError when the job cannot be reached or does not answer.
std::string ask_socket(const std::string& path, const std::string& line, double timeout_s) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw UserError(fmt::format("{}: not a control socket path", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw UserError(fmt::format("{}: socket: {}", path, std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    throw UserError(fmt::format(
        "{}: no execution job is listening ({}); start one with params control_socket = \"{}\"",
        path, error, path));
  }
  const std::string out = line + "\n";
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::write(fd, out.data() + sent, out.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw UserError(fmt::format("{}: write: {}", path, std::strerror(errno)));
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(timeout_s * 1e3));
  while (reply.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      ::close(fd);
      throw UserError(fmt::format("{}: no answer within {} s", path, timeout_s));
    }
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (const auto nl = reply.find('\n'); nl != std::string::npos) reply.resize(nl);
  if (reply.empty()) throw UserError(fmt::format("{}: the job closed without answering", path));
  return reply;
}

void run_ctl(const CtlOptions& o) {
  if (o.socket.empty() == o.brokers.empty())
    throw UserError(
        "ctl: give exactly one of --socket PATH (a running job's control socket) or "
        "--brokers HOST:PORT (publish on the control topic)");
  const exec::ControlCommand command = make_command(o);
  const std::string line = exec::to_json(command);
  if (!o.brokers.empty()) {
    if (command.kind == exec::CommandKind::kStatus)
      throw UserError(
          "ctl status: needs --socket (status is an answer, read control.status on "
          "Kafka)");
    stream::KafkaSink sink(o.brokers);
    sink.require_topics({o.topic});
    sink.produce(o.topic, "ctl", line);
    sink.flush();
    std::printf("published on %s: %s\n", o.topic.c_str(), line.c_str());
    return;
  }
  const std::string reply = ask_socket(o.socket, line, o.timeout_s);
  std::printf("%s\n", reply.c_str());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool ok = false;
  if (parser.parse(reply).get(root) || root["ok"].get_bool().get(ok))
    throw UserError(fmt::format("{}: the answer is not a status: {}", o.socket, reply));
  if (!ok) {
    std::string_view error = "refused";
    if (root["error"].get_string().get(error)) error = "refused";
    throw UserError(fmt::format("ctl {}: {}", o.action, error), 1);
  }
}

}  // namespace

void register_ctl(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "ctl",
      "control a running execution job: kill [pause|flatten|halt], pause, flatten, halt, resume, "
      "rearm, acknowledge, status");
  auto o = std::make_shared<CtlOptions>();
  cmd->add_option("action", o->action,
                  "kill, pause, flatten, halt, resume, rearm, acknowledge or status")
      ->required();
  cmd->add_option("mode", o->mode, "for kill: pause, flatten or halt (default halt)");
  cmd->add_option("--socket", o->socket, "the job's control socket (its control_socket param)");
  cmd->add_option("--brokers", o->brokers, "publish on the control topic of this Kafka cluster");
  cmd->add_option("--topic", o->topic, "the control topic (with --brokers)")->capture_default_str();
  cmd->add_option("--by", o->by, "who sends it, for the audit log (default USER@HOST)");
  cmd->add_option("--reason", o->reason, "why, for the audit log");
  cmd->add_option("--timeout", o->timeout_s, "seconds to wait for the answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([o] { run_ctl(*o); });
}

}  // namespace pairflow::cli
