// `pairflow fix-sim`: a FIX 4.4 counterparty on the paper broker's fill model (fix/fix_sim.h),
// for trying the FIX gateway without a broker. Its market is the generated market of the config
// (the one `pairflow demo` trades) or a ticks CSV file. SIGUSR1 drops the connection (the gateway
// reconnects and recovers by resend); SIGINT or SIGTERM stops it and prints its state.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/common_options.h"
#include "engine/config.h"
#include "engine/tick_source.h"
#include "fix/fix_sim.h"
#include "sim/market.h"

namespace pairflow::cli {
namespace {

int g_signal_pipe[2] = {-1, -1};

void on_signal(int signal) {
  const unsigned char byte = static_cast<unsigned char>(signal);
  [[maybe_unused]] const ssize_t n = ::write(g_signal_pipe[1], &byte, 1);
}

struct SimOptions {
  CommonOptions common;
  std::string ticks;
  int port = 9878;
  std::string sender = "FIXSIM", target = "PAIRFLOW", store = "memory", store_path, log_path;
  int heartbeat_s = 30;
  std::uint64_t drop_after = 0;
  std::string state_path;
};

void run_sim(const SimOptions& o) {
  const engine::EngineConfig config = make_config(o.common);
  fix::SimConfig sim;
  sim.session.port = o.port;
  sim.session.sender_comp_id = o.sender;
  sim.session.target_comp_id = o.target;
  sim.session.heartbeat_s = o.heartbeat_s;
  sim.session.store = o.store;
  sim.session.store_path = o.store_path;
  sim.session.log_path = o.log_path;
  sim.paper = config.broker;
  sim.drop_after_orders = o.drop_after;
  sim.state_path = o.state_path;
  if (o.store == "file" && o.store_path.empty())
    throw UserError("fix-sim: --store file needs --store-path DIR");

  // Signals are handled by whichever thread receives them (QuickFIX's, a sanitizer's): the
  // handler only writes the signal's number to a pipe, and this thread reads it.
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) throw UserError("fix-sim: pipe failed");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaction(s, &sa, nullptr);

  SymbolTable symbols;
  std::function<bool(Tick&)> feed;
  std::unique_ptr<sim::MarketGenerator> generator;
  std::unique_ptr<engine::CsvTickSource> csv;
  if (o.ticks.empty()) {
    generator = std::make_unique<sim::MarketGenerator>(config.market);
    feed = [&](Tick& t) {
      if (!generator->next(t)) return false;
      t.symbol = symbols.intern(generator->symbols().name(t.symbol));
      return true;
    };
  } else {
    csv = std::make_unique<engine::CsvTickSource>(o.ticks, symbols);
    feed = [&](Tick& t) {
      std::string error;
      while (true) {
        switch (csv->next(t, error)) {
          case engine::ReadResult::kTick:
            return true;
          case engine::ReadResult::kEnd:
            return false;
          case engine::ReadResult::kBadRow:
            std::fprintf(stderr, "pairflow: fix-sim: skipped %s\n", error.c_str());
            break;
        }
      }
    };
  }
  fix::FixSimulator simulator(sim, feed, symbols);
  std::printf("fix-sim listening on port %d as %s (counterparty %s)\n", o.port, o.sender.c_str(),
              o.target.c_str());
  std::fflush(stdout);
  while (true) {
    unsigned char signal = 0;
    const ssize_t n = ::read(g_signal_pipe[0], &signal, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || signal != SIGUSR1) break;
    simulator.drop();
    std::fprintf(stderr, "pairflow: fix-sim: SIGUSR1: connection dropped\n");
  }
  std::printf("%s\n", simulator.state().to_json().c_str());
}

}  // namespace

void register_fix_sim(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "fix-sim",
      "a FIX 4.4 counterparty on the paper fill model, for trying the FIX gateway (SIGUSR1 drops "
      "the connection)");
  auto o = std::make_shared<SimOptions>();
  cmd->add_option("--config", o->common.config_path,
                  "config TOML: its [market] (the generated market) and [broker] (the fill model)");
  cmd->add_option("--set", o->common.overrides, "override a setting: section.key=value");
  cmd->add_option("--ticks", o->ticks, "market from a ticks CSV (default: the generated market)");
  cmd->add_option("--port", o->port, "port to listen on")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--sender", o->sender, "its SenderCompID")->capture_default_str();
  cmd->add_option("--target", o->target, "the gateway's CompID")->capture_default_str();
  cmd->add_option("--heartbeat", o->heartbeat_s, "heartbeat interval, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--store", o->store, "message store: memory or file")
      ->capture_default_str()
      ->check(CLI::IsMember({"memory", "file"}));
  cmd->add_option("--store-path", o->store_path, "file store directory");
  cmd->add_option("--fix-log", o->log_path, "directory for QuickFIX's message and event logs");
  cmd->add_option("--drop-after", o->drop_after,
                  "drop the connection once, after this many orders (before answering)");
  cmd->add_option("--state", o->state_path,
                  "JSON file rewritten after every message: orders, duplicates, positions");
  cmd->callback([o] { run_sim(*o); });
}

}  // namespace pairflow::cli
