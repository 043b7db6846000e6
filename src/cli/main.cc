// pairflow: real-time statistical arbitrage. See README.md for the tour and `pairflow --help`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "base/status.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"pairflow: real-time statistical arbitrage (pairs trading)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pairflow 0.1.0");
  pairflow::cli::register_demo(app);
  pairflow::cli::register_backtest(app);
  pairflow::cli::register_gen(app);
  pairflow::cli::register_stats(app);
  pairflow::cli::register_job(app);
  pairflow::cli::register_kafka_mock(app);
  pairflow::cli::register_run(app);
  pairflow::cli::register_features(app);
  pairflow::cli::register_screen(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "pairflow: %s (see pairflow --help)\n", e.what());
    return 2;
  } catch (const pairflow::UserError& e) {
    std::fprintf(stderr, "pairflow: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pairflow: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
