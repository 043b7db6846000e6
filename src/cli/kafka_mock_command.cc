// `pairflow kafka-mock`: librdkafka's mock cluster, for trying jobs without Kafka.
//
// A test tool, not a broker: librdkafka's mock keeps at most about 5 MB (or 100,000 messages) per
// partition and drops older messages past that, so a large input needs more partitions.
//
// The mock's brokers listen on 127.0.0.1 at ports librdkafka picks. `--port P` adds a fixed
// bootstrap address (BIND:P, forwarded to the first broker), so containers that share the
// mock's network namespace (compose `network_mode: service:kafka`) find it at a known address;
// the metadata they then get names the brokers' 127.0.0.1 ports, which they share too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "cli/commands.h"
#include "stream/kafka_transport.h"

namespace pairflow::cli {
namespace {

// Forwards every connection to BIND:PORT to 127.0.0.1:TARGET, byte for byte, one thread each.
class Forwarder {
 public:
  Forwarder(const std::string& bind, int port, int target) : target_(target) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, bind.c_str(), &addr.sin_addr) != 1)
      throw UserError("kafka-mock --bind " + bind + ": not an IPv4 address");
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 64) != 0)
      throw UserError("kafka-mock --port " + std::to_string(port) + ": " + std::strerror(errno));
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~Forwarder() {
    stop_.store(true);
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    if (accept_thread_.joinable()) accept_thread_.join();
    std::lock_guard lock(mu_);
    for (auto& p : pumps_) p.thread.join();
  }

 private:
  void accept_loop() {
    while (!stop_.load()) {
      const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (stop_.load()) return;
        continue;
      }
      std::lock_guard lock(mu_);
      // Join the pumps whose connection ended (healthchecks connect every few seconds), so a
      // long-running mock does not keep a finished thread per connection.
      std::erase_if(pumps_, [](Pump& p) {
        if (!p.done->load()) return false;
        p.thread.join();
        return true;
      });
      auto done = std::make_shared<std::atomic<bool>>(false);
      pumps_.push_back({std::thread([this, client, done] {
                          pump(client);
                          done->store(true);
                        }),
                        done});
    }
  }
  void pump(int client) {
    const int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(target_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (upstream >= 0 && connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      char buf[65536];
      pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      while (!stop_.load()) {
        if (poll(fds, 2, 200) < 0) break;
        bool closed = false;
        for (int i = 0; i < 2 && !closed; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          const ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
          if (n <= 0) {
            closed = true;
            break;
          }
          for (ssize_t sent = 0; sent < n;) {
            const ssize_t w = send(fds[1 - i].fd, buf + sent, n - sent, MSG_NOSIGNAL);
            if (w <= 0) {
              closed = true;
              break;
            }
            sent += w;
          }
        }
        if (closed) break;
      }
    }
    if (upstream >= 0) close(upstream);
    close(client);
  }

  int target_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  struct Pump {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mu_;
  std::vector<Pump> pumps_;
};

}  // namespace

void register_kafka_mock(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "kafka-mock",
      "serve librdkafka's mock Kafka cluster (for tests: it keeps about 5 MB per partition and "
      "drops older messages); prints its bootstrap address first");
  auto brokers = std::make_shared<int>(1);
  auto topics = std::make_shared<std::string>();
  auto port = std::make_shared<int>(0);
  auto bind = std::make_shared<std::string>("127.0.0.1");
  cmd->add_option("--brokers", *brokers, "number of brokers")->check(CLI::Range(1, 16));
  cmd->add_option("--topics", *topics, "topics to create: name[:partitions],...");
  cmd->add_option("--port", *port,
                  "also accept bootstrap connections on this fixed port (forwarded to the first "
                  "broker; for containers sharing the mock's network namespace)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--bind", *bind, "address of --port (default 127.0.0.1)");
  cmd->callback([brokers, topics, port, bind] {
    // Block the stop signals before any librdkafka thread starts, then wait for one.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    stream::KafkaMockCluster cluster(*brokers, stream::parse_topic_specs(*topics));
    std::unique_ptr<Forwarder> forwarder;
    std::string bootstrap = cluster.bootstrap();
    if (*port > 0) {
      // "127.0.0.1:PORT[,...]": the first broker's port.
      const std::string first = bootstrap.substr(0, bootstrap.find(','));
      const int target = std::stoi(first.substr(first.rfind(':') + 1));
      forwarder = std::make_unique<Forwarder>(*bind, *port, target);
      bootstrap = *bind + ":" + std::to_string(*port) + "," + bootstrap;
    }
    std::printf("%s\n", bootstrap.c_str());
    std::fflush(stdout);
    int signal = 0;
    sigwait(&stop, &signal);
  });
}

}  // namespace pairflow::cli
