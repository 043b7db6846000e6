// Liveness, readiness and metrics of a running job, over HTTP, for container orchestrators
// (Kubernetes probes, compose healthchecks) and Prometheus.
//
// JobHealth is written by the job's thread (JobRunner: a heartbeat every loop turn, started after
// setup and the checkpoint restore, assigned while the source can deliver, the counters) and by a
// stop signal (stopping); HealthServer's thread reads it. Atomics only, no locks.
//
// HealthServer answers, on its own thread, one HTTP/1.0 request per connection:
//   GET /healthz  200 while the job loop turned within `stall_after` (alive), else 503
//   GET /readyz   200 when started, assigned and not stopping (ready for traffic), else 503
//   GET /metrics  Prometheus text: pairflow_job_{consumed,processed,produced,dead_lettered,
//                 checkpoints}_total, pairflow_job_ready, pairflow_job_heartbeat_age_seconds
// Bodies are one JSON line (probes) or the metrics text. Lifecycle: construct (binds; throws
// UserError naming the address), destroy (stops the thread, closes the socket).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

namespace pairflow::stream {

struct JobHealth {
  std::atomic<std::int64_t> heartbeat_ms{0};  // steady clock, ms; 0 = never turned
  std::atomic<bool> started{false};           // setup, recover and the checkpoint restore done
  std::atomic<bool> assigned{false};          // the source can deliver (partitions assigned)
  std::atomic<bool> stopping{false};          // a stop was requested: draining
  std::atomic<std::uint64_t> consumed{0}, processed{0}, produced{0}, dead_lettered{0},
      checkpoints{0};

  static std::int64_t now_ms();
  void beat() { heartbeat_ms.store(now_ms(), std::memory_order_relaxed); }
  bool ready() const { return started.load() && assigned.load() && !stopping.load(); }
};

class HealthServer {
 public:
  // `port` 0 picks a free one (port() tells which).
  HealthServer(JobHealth& health, std::string job, const std::string& bind, int port,
               std::chrono::milliseconds stall_after);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;
  int port() const { return port_; }

 private:
  void serve();
  std::string respond(const std::string& request_line) const;

  JobHealth& health_;
  std::string job_;
  std::chrono::milliseconds stall_after_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe that ends the accept loop
  std::thread thread_;
};

// GET http://HOST:PORT/PATH with a timeout: the status code, or nullopt (with `error` set) when
// nothing answered. For `pairflow probe` (compose healthchecks in an image without curl).
std::optional<int> http_get_status(const std::string& host, int port, const std::string& path,
                                   std::chrono::milliseconds timeout, std::string* body,
                                   std::string* error);

}  // namespace pairflow::stream
