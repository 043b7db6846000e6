// pairflow: real-time statistical arbitrage. See README.md for the tour and `pairflow --help`.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cli/commands.h"

namespace {

// CLI11 reads an unknown word where a command is expected as a missing command ("A subcommand is
// required"), and `pairflow UNKNOWN --help` as a request for the root help. Name the word instead.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word.starts_with("-")) return "";  // options are CLI11's to judge
    const std::vector<CLI::App*> commands = at->get_subcommands({});
    if (commands.empty()) return "";
    CLI::App* next = nullptr;
    std::string names;
    for (CLI::App* c : commands) {
      if (c->get_name() == word) next = c;
      names += (names.empty() ? "" : ", ") + c->get_name();
    }
    if (!next) return fmt::format("unknown command '{}{}' (commands: {})", path, word, names);
    at = next;
    path += next->get_name() + " ";
  }
  return "";
}

}  // namespace

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
  pairflow::cli::register_ctl(app);
  pairflow::cli::register_fix_sim(app);
  pairflow::cli::register_report(app);
  pairflow::cli::register_history(app);
  pairflow::cli::register_probe(app);
  if (std::string error = unknown_command(app, argc, argv); !error.empty()) {
    std::fprintf(stderr, "pairflow: %s (see pairflow --help)\n", error.c_str());
    return 2;
  }
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
