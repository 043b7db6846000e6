#include "stream/health.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/status.h"

namespace pairflow::stream {
namespace {

std::string http_response(int code, const char* reason, const std::string& type,
                          const std::string& body) {
  return fmt::format(
      "HTTP/1.0 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      code, reason, type, body.size(), body);
}

// Reads until the end of the request head (or 4 KiB, or `timeout_ms`); returns its first line.
std::string read_request_line(int fd, int timeout_ms) {
  std::string head;
  char buf[1024];
  while (head.size() < 4096 && head.find("\r\n\r\n") == std::string::npos &&
         head.find("\n\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  const auto end = head.find_first_of("\r\n");
  return head.substr(0, end);
}

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::int64_t JobHealth::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

HealthServer::HealthServer(JobHealth& health, std::string job, const std::string& bind, int port,
                           std::chrono::milliseconds stall_after)
    : health_(health), job_(std::move(job)), stall_after_(stall_after) {
  const std::string where = fmt::format("--health-port: {}:{}", bind, port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, bind.c_str(), &addr.sin_addr) != 1)
    throw UserError(where + ": not an IPv4 address");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw UserError(where + ": " + std::strerror(errno));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw UserError(where + ": " + why);
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw UserError(where + ": pipe: " + std::strerror(errno));
  }
  thread_ = std::thread([this] { serve(); });
}

HealthServer::~HealthServer() {
  if (wake_[1] >= 0) {
    const char c = 0;
    [[maybe_unused]] const ssize_t n = ::write(wake_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_[0], wake_[1]})
    if (fd >= 0) ::close(fd);
}

void HealthServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    send_all(fd, respond(read_request_line(fd, 2000)));
    ::close(fd);
  }
}

std::string HealthServer::respond(const std::string& request_line) const {
  // "GET /path HTTP/1.x"
  const auto sp1 = request_line.find(' ');
  const auto sp2 = sp1 == std::string::npos ? sp1 : request_line.find(' ', sp1 + 1);
  const std::string method = request_line.substr(0, sp1);
  std::string path = sp1 == std::string::npos ? "" : request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (const auto q = path.find('?'); q != std::string::npos) path.resize(q);
  if (method != "GET" && method != "HEAD")
    return http_response(405, "Method Not Allowed", "text/plain", "GET only\n");
  const std::int64_t beat = health_.heartbeat_ms.load();
  const double age_s = beat == 0 ? -1.0 : (JobHealth::now_ms() - beat) / 1000.0;
  const bool started = health_.started.load(), assigned = health_.assigned.load(),
             stopping = health_.stopping.load();
  const bool ready = started && assigned && !stopping;
  const bool alive = beat != 0 && age_s * 1000.0 <= static_cast<double>(stall_after_.count());
  if (path == "/healthz" || path == "/livez") {
    // Before the first turn the job is starting (setup, restore): alive, not ready.
    const bool ok = alive || beat == 0;
    return http_response(ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "application/json",
                         fmt::format("{{\"job\":\"{}\",\"alive\":{},\"heartbeat_age_s\":{:.3f}}}\n",
                                     job_, ok, age_s));
  }
  if (path == "/readyz") {
    return http_response(
        ready ? 200 : 503, ready ? "OK" : "Service Unavailable", "application/json",
        fmt::format(
            "{{\"job\":\"{}\",\"ready\":{},\"started\":{},\"assigned\":{},\"stopping\":{}}}\n",
            job_, ready, started, assigned, stopping));
  }
  if (path == "/metrics") {
    std::string body;
    auto counter = [&](const char* name, const std::atomic<std::uint64_t>& value,
                       const char* help) {
      body += fmt::format(
          "# HELP pairflow_job_{0}_total {2}\n# TYPE pairflow_job_{0}_total "
          "counter\npairflow_job_{0}_total{{job=\"{1}\"}} {3}\n",
          name, job_, help, value.load());
    };
    counter("consumed", health_.consumed, "Messages polled from the inputs.");
    counter("processed", health_.processed, "Messages processed without error.");
    counter("produced", health_.produced, "Messages produced to the outputs.");
    counter("dead_lettered", health_.dead_lettered, "Messages sent to the dead-letter topic.");
    counter("checkpoints", health_.checkpoints, "Checkpoints saved.");
    body += fmt::format(
        "# HELP pairflow_job_ready 1 when the job is ready for traffic.\n# TYPE pairflow_job_ready "
        "gauge\npairflow_job_ready{{job=\"{}\"}} {}\n",
        job_, ready ? 1 : 0);
    body += fmt::format(
        "# HELP pairflow_job_heartbeat_age_seconds Seconds since the job loop last turned.\n# "
        "TYPE pairflow_job_heartbeat_age_seconds gauge\n"
        "pairflow_job_heartbeat_age_seconds{{job=\"{}\"}} {:.3f}\n",
        job_, age_s < 0 ? 0.0 : age_s);
    return http_response(200, "OK", "text/plain; version=0.0.4", body);
  }
  return http_response(404, "Not Found", "text/plain", "try /healthz, /readyz or /metrics\n");
}

std::optional<int> http_get_status(const std::string& host, int port, const std::string& path,
                                   std::chrono::milliseconds timeout, std::string* body,
                                   std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    if (error) *error = fmt::format("{}: {}", host, ::gai_strerror(rc));
    return std::nullopt;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      ::close(fd);
      fd = -1;
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    if (error) *error = fmt::format("{}:{}: connection refused or timed out", host, port);
    return std::nullopt;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  send_all(fd, fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\n\r\n", path, host));
  std::string response;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  // "HTTP/1.0 200 OK"
  const auto sp = response.find(' ');
  if (response.rfind("HTTP/", 0) != 0 || sp == std::string::npos) {
    if (error) *error = fmt::format("{}:{}{}: no HTTP answer", host, port, path);
    return std::nullopt;
  }
  if (body) {
    const auto split = response.find("\r\n\r\n");
    *body = split == std::string::npos ? "" : response.substr(split + 4);
  }
  return std::atoi(response.c_str() + sp + 1);
}

}  // namespace pairflow::stream
