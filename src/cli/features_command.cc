// `pairflow features`: bars and indicators of a ticks CSV, offline, with the streaming code
// (features::FeaturePipeline). Output columns: ts,symbol,open,high,low,close,volume,vwap,count,
// then one column per indicator (empty while an indicator is warming up).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <memory>
#include <string>

#include "base/buffered_file.h"
#include "base/reject_policy.h"
#include "cli/commands.h"
#include "engine/run_drivers.h"
#include "engine/tick_source.h"
#include "features/feature_pipeline.h"

namespace pairflow::cli {
namespace {

struct FeaturesOptions {
  std::string ticks, bars = "1m", indicators, out, lateness = "0";
  std::int64_t max_rejects = 0;
};

void append_number(std::string& buf, double v) {
  buf.push_back(',');
  if (std::isfinite(v)) fmt::format_to(std::back_inserter(buf), "{}", v);
}

void run_features(const FeaturesOptions& o) {
  auto bar_spec = features::parse_bar_spec(o.bars);
  if (!bar_spec) throw UserError(fmt::format("--bars: {}", bar_spec.status().message()));
  if (o.lateness != "0" && !o.lateness.empty()) {
    auto lateness = parse_duration(o.lateness);
    if (!lateness || *lateness < 0)
      throw UserError(
          fmt::format("--lateness '{}': expected a duration such as 0, 500ms or 2s", o.lateness));
    bar_spec->allowed_lateness = *lateness;
  }
  auto specs = features::parse_indicators(o.indicators);
  if (!specs) throw UserError(fmt::format("--indicators: {}", specs.status().message()));
  for (const auto& s : *specs) {
    if (s.kind == features::IndicatorKind::kCorr && bar_spec->kind != features::BarKind::kTime)
      throw UserError(
          fmt::format("--indicators: {} needs time bars (--bars 1s, 1m, ...)", s.column));
  }

  SymbolTable symbols;
  engine::CsvTickSource source(o.ticks, symbols);
  features::FeaturePipeline pipeline(*bar_spec, *specs, &symbols);

  BufferedFile out(o.out);
  std::string& buf = out.buffer();
  buf += "ts,symbol,open,high,low,close,volume,vwap,count";
  for (const auto& s : *specs) {
    buf += ',';
    append_csv_field(buf, s.column);
  }
  buf.push_back('\n');

  std::uint64_t rows = 0;
  auto on_row = [&](const Bar& b, std::span<const double> values) {
    buf += format_timestamp(b.ts);
    buf += ',';
    append_csv_field(buf, symbols.name(b.symbol));
    append_number(buf, b.open);
    append_number(buf, b.high);
    append_number(buf, b.low);
    append_number(buf, b.close);
    append_number(buf, b.volume);
    append_number(buf, b.vwap);
    fmt::format_to(std::back_inserter(buf), ",{}", b.count);
    for (double v : values) append_number(buf, v);
    buf.push_back('\n');
    ++rows;
    out.maybe_flush();
  };
  const engine::FeatureRun run =
      engine::run_features([&](Tick& tick, std::string& error) { return source.next(tick, error); },
                           pipeline, on_row, o.max_rejects, "--max-rejects",
                           [&](const std::string& why) { return source.reader().where(why); });
  out.close();
  std::printf(
      "features: %llu ticks, %llu bars of %zu symbols, %llu late ticks rejected, "
      "%llu bad rows skipped; wrote %s\n",
      static_cast<unsigned long long>(run.ticks), static_cast<unsigned long long>(rows),
      symbols.size(), static_cast<unsigned long long>(pipeline.late_rejected()),
      static_cast<unsigned long long>(run.rejected), o.out.c_str());
  if (run.rejected > 0) std::printf("  first bad row: %s\n", run.first_reject.c_str());
}

}  // namespace

void register_features(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "features", "bars and streaming indicators of a ticks CSV, computed offline (CSV out)");
  auto o = std::make_shared<FeaturesOptions>();
  cmd->add_option("--ticks", o->ticks, "ticks CSV: ts,symbol,price,size[,bid,ask]")->required();
  cmd->add_option("--bars", o->bars,
                  "time bars of a duration (1s, 1m, ...), or tick:N, volume:X, dollar:X")
      ->required();
  cmd->add_option("--indicators", o->indicators,
                  "comma-separated: logret, sma:n, ema:n, mean:n, std:n, zscore:n, ewmvol:n, "
                  "rsi[:14], atr[:14], hurst[:100], corr:n:SYMBOL");
  cmd->add_option("--out", o->out, "output CSV")->required();
  cmd->add_option("--lateness", o->lateness,
                  "allowed lateness of out-of-order ticks (default 0); later ones are counted");
  cmd->add_option("--max-rejects", o->max_rejects,
                  "bad rows tolerated before failing (default 0; -1 = any)")
      ->check(CLI::Range(std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()));
  cmd->callback([o] { run_features(*o); });
}

}  // namespace pairflow::cli
