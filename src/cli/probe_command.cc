// `pairflow probe URL`: an HTTP GET that exits 0 on a 2xx answer and 1 otherwise, for container
// healthchecks (the image has no curl): `pairflow probe http://127.0.0.1:8081/readyz`.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "base/status.h"
#include "cli/commands.h"
#include "stream/health.h"

namespace pairflow::cli {

void register_probe(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "probe", "GET an http://HOST:PORT/PATH URL; exit 0 on 2xx (container healthchecks)");
  struct ProbeOptions {
    std::string url;
    double timeout_s = 2;
    bool quiet = false;
  };
  auto o = std::make_shared<ProbeOptions>();
  cmd->add_option("url", o->url, "http://HOST:PORT/PATH")->required();
  cmd->add_option("--timeout", o->timeout_s, "seconds (default 2)")->check(CLI::Range(0.01, 600.0));
  cmd->add_flag("--quiet", o->quiet, "print nothing");
  cmd->callback([o] {
    const std::string prefix = "http://";
    if (o->url.rfind(prefix, 0) != 0)
      throw UserError(fmt::format("probe: '{}': expected http://HOST:PORT/PATH", o->url));
    const std::string rest = o->url.substr(prefix.size());
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = authority.rfind(':');
    int port = 80;
    std::string host = authority;
    if (colon != std::string::npos) {
      host = authority.substr(0, colon);
      const std::string digits = authority.substr(colon + 1);
      std::size_t used = 0;
      try {
        port = std::stoi(digits, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (digits.empty() || used != digits.size() || port < 1 || port > 65535)
        throw UserError(fmt::format("probe: '{}': bad port", o->url));
    }
    std::string body, error;
    const auto status = stream::http_get_status(
        host, port, path, std::chrono::milliseconds(static_cast<std::int64_t>(o->timeout_s * 1000)),
        &body, &error);
    if (!status) {
      if (!o->quiet) std::fprintf(stderr, "probe: %s\n", error.c_str());
      std::exit(1);
    }
    if (!o->quiet) std::printf("%d %s", *status, body.empty() ? "\n" : body.c_str());
    std::fflush(stdout);
    if (*status < 200 || *status >= 300) std::exit(1);
  });
}

}  // namespace pairflow::cli
