// Orders per second through the FIX gateway to fix-sim on loopback: NewOrderSingle out, fill
// ExecutionReport back, both QuickFIX sessions in this process (their own threads), memory and
// file message stores. Orders are pipelined (the gateway does not wait for one report before the
// next order); the clock stops when the last order's fill has been read by the gateway. Also the
// round trip of one order at a time (p50 / p99).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "fix/fix_gateway.h"
#include "fix/fix_sim.h"

namespace pairflow {
namespace {

constexpr Timestamp kT0 = 1'700'000'000'000'000'000;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Run {
  double orders_per_s = 0, p50_us = 0, p99_us = 0;
};

Run run(const std::string& store, int orders) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("bench_fix_" + store)).string();
  std::filesystem::remove_all(dir);
  const int port = free_port();
  SymbolTable sim_symbols, symbols;
  const SymbolId sim_a = sim_symbols.intern("AAA");
  fix::SimConfig sim;
  sim.session.port = port;
  sim.session.sender_comp_id = "FIXSIM";
  sim.session.target_comp_id = "PAIRFLOW";
  sim.session.heartbeat_s = 30;
  sim.session.store = store;
  sim.session.store_path = dir + "/sim";
  // One quote every microsecond of event time, for ever: the market never runs out.
  std::int64_t n = 0;
  fix::FixSimulator simulator(
      sim,
      [&](Tick& t) {
        t = Tick{.ts = kT0 + n++ * 1000,
                 .symbol = sim_a,
                 .price = 100,
                 .size = 100,
                 .bid = 99.99,
                 .ask = 100.01};
        return true;
      },
      sim_symbols);
  fix::GatewayConfig g;
  g.session.port = port;
  g.session.store = store;
  g.session.store_path = dir + "/gateway";
  g.queue_limit = 1'000'000;
  fix::FixGateway gateway(g, symbols);
  gateway.view({});  // waits for the logon
  const SymbolId a = symbols.intern("AAA");
  std::vector<exec::BrokerReport> reports;
  std::int64_t filled = 0;
  auto fills = [&] {
    for (const auto& r : reports) {
      filled += r.kind == exec::ReportKind::kFill;
      if (r.kind == exec::ReportKind::kReject) {
        std::fprintf(stderr, "bench_fix: order %llu rejected: %s\n",
                     static_cast<unsigned long long>(r.client_order_id), r.reason.c_str());
        std::exit(1);
      }
    }
    reports.clear();
    return filled;
  };
  std::uint64_t id = 1;
  auto order = [&](Timestamp ts) {
    return Order{.client_order_id = id++, .ts = ts, .symbol = a, .side = Side::kBuy, .qty = 1};
  };
  Run out;
  // One at a time.
  std::vector<double> rtt;
  for (int i = 0; i < 2000; ++i) {
    const Timestamp ts = kT0 + 1'000'000 + static_cast<Timestamp>(i) * 1000;
    const auto t0 = std::chrono::steady_clock::now();
    const auto want = fills() + 1;
    gateway.send(order(ts), ts);
    while (fills() < want) {
      gateway.wait_for_reports(std::chrono::milliseconds(10));
      gateway.poll(reports);
    }
    rtt.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(rtt.begin(), rtt.end());
  out.p50_us = rtt[rtt.size() / 2];
  out.p99_us = rtt[rtt.size() * 99 / 100];
  // Pipelined.
  fills();
  filled = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < orders; ++i) {
    const Timestamp ts = kT0 + 1'000'000 + static_cast<Timestamp>(2000 + i) * 1000;
    gateway.send(order(ts), ts);
    if (i % 64 == 0) {
      gateway.poll(reports);
      fills();
    }
  }
  while (fills() < orders) {
    gateway.wait_for_reports(std::chrono::milliseconds(10));
    gateway.poll(reports);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.orders_per_s = orders / s;
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace
}  // namespace pairflow

int main() {
  using namespace pairflow;
  const int orders = 50'000;
  const Run memory = run("memory", orders);
  const Run file = run("file", orders);
  for (const auto& [name, r] : {std::pair{"memory store", memory}, {"file store", file}}) {
    std::printf(
        "FIX NewOrderSingle -> fill, %-12s %9.0f orders/s pipelined (%d orders); one at a "
        "time p50 %6.1f us p99 %6.1f us\n",
        name, r.orders_per_s, orders, r.p50_us, r.p99_us);
  }
  std::printf("target >= 20000 orders/s (memory store): %s; file / memory throughput: %.2fx\n",
              memory.orders_per_s >= 20'000 ? "met" : "NOT met",
              file.orders_per_s / memory.orders_per_s);
  return 0;
}
