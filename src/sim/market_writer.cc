#include "sim/market_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <memory>
#include <vector>

#include "base/buffered_file.h"
#include "base/json_writer.h"
#include "base/status.h"

namespace pairflow::sim {

std::size_t write_ticks_csv(MarketGenerator& market, const std::string& path) {
  BufferedFile out(path);
  out.append("ts,symbol,price,size,bid,ask\n");
  std::size_t rows = 0;
  Tick t;
  while (market.next(t)) {
    fmt::format_to(std::back_inserter(out.buffer()), "{},{},{:.2f},{},{:.2f},{:.2f}\n",
                   format_timestamp(t.ts), market.symbols().name(t.symbol), t.price, t.size, t.bid,
                   t.ask);
    out.maybe_flush();
    ++rows;
  }
  out.close();
  return rows;
}

void sample_mids(MarketGenerator& market, Timestamp interval,
                 const std::function<void(Timestamp ts, std::span<const double> mids)>& on_row) {
  const MarketSpec& spec = market.spec();
  const std::int64_t step = interval / kNanosPerSecond;
  const std::int64_t per_session = spec.session_length / kNanosPerSecond;
  if (step < 1 || interval % kNanosPerSecond != 0 || step > per_session)
    throw UserError("--interval must be whole seconds and no longer than a session");
  std::vector<double> mids(market.symbols().size());
  for (std::int64_t session = 0; session < spec.sessions; ++session) {
    for (std::int64_t start = 0; start + step <= per_session; start += step) {
      const std::int64_t second = session * per_session + start;
      market.advance_to_second(second + step - 1);
      const auto& log_mids = market.log_mids();
      for (std::size_t s = 0; s < mids.size(); ++s) mids[s] = std::exp(log_mids[s]);
      on_row(market.time_of_second(second), mids);
    }
  }
}

std::size_t write_bars_csv(MarketGenerator& market, Timestamp interval, const std::string& path) {
  // The interval is checked before the file is created.
  BufferedFile* out_ptr = nullptr;
  std::unique_ptr<BufferedFile> out;
  std::size_t rows = 0;
  sample_mids(market, interval, [&](Timestamp ts, std::span<const double> mids) {
    if (!out_ptr) {
      out = std::make_unique<BufferedFile>(path);
      out_ptr = out.get();
      out->append("ts");
      for (const auto& name : market.symbols().names()) {
        out->append(",");
        out->append(name);
      }
      out->append("\n");
    }
    out->append(format_timestamp(ts));
    for (double mid : mids) fmt::format_to(std::back_inserter(out->buffer()), ",{:.4f}", mid);
    out->append("\n");
    out->maybe_flush();
    ++rows;
  });
  if (out) out->close();
  return rows;
}

std::string truth_json(const MarketGenerator& market) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("seed", market.spec().seed).field("symbols", market.spec().symbols);
  w.field("sectors", market.spec().sectors).key("planted").begin_array();
  for (const auto& p : market.planted()) {
    w.begin_object().field("y", p.y).field("x", p.x).field("hedge_ratio", p.hedge_ratio);
    w.field("intercept", p.intercept).field("half_life_s", p.half_life_s);
    w.field("spread_std", p.spread_std).end_object();
  }
  w.end_array().end_object();
  return out;
}

}  // namespace pairflow::sim
