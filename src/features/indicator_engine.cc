#include "features/indicator_engine.h"

#include <charconv>

namespace pairflow::features {
namespace {

Status bad(std::string_view item, std::string_view why) {
  return Status(StatusCode::kInvalidArgument,
                "indicator '" + std::string(item) + "': " + std::string(why));
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = text.find(sep, begin);
    out.push_back(text.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) return out;
    begin = end + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<IndicatorSpec> parse_indicator(std::string_view item) {
  item = trim(item);
  const std::vector<std::string_view> parts = split(item, ':');
  const std::string_view name = parts[0];
  struct Kind {
    std::string_view name;
    IndicatorKind kind;
    int default_n;  // 0: n required; -1: no parameter
    int min_n;
  };
  static constexpr Kind kKinds[] = {
      {"logret", IndicatorKind::kLogReturn, -1, 0}, {"sma", IndicatorKind::kSma, 0, 1},
      {"ema", IndicatorKind::kEma, 0, 1},           {"mean", IndicatorKind::kMean, 0, 1},
      {"std", IndicatorKind::kStd, 0, 2},           {"zscore", IndicatorKind::kZScore, 0, 2},
      {"ewmvol", IndicatorKind::kEwmaVol, 0, 1},    {"rsi", IndicatorKind::kRsi, 14, 1},
      {"atr", IndicatorKind::kAtr, 14, 1},          {"hurst", IndicatorKind::kHurst, 100, 32},
      {"corr", IndicatorKind::kCorr, 0, 2},
  };
  const Kind* kind = nullptr;
  for (const Kind& k : kKinds) {
    if (k.name == name) kind = &k;
  }
  if (!kind) {
    return bad(item,
               "unknown kind (known: logret, sma:n, ema:n, mean:n, std:n, zscore:n, ewmvol:n, "
               "rsi[:n], atr[:n], hurst[:w], corr:n:SYMBOL)");
  }
  IndicatorSpec spec;
  spec.kind = kind->kind;
  const std::size_t max_parts =
      kind->kind == IndicatorKind::kCorr ? 3 : (kind->default_n < 0 ? 1 : 2);
  if (parts.size() > max_parts) return bad(item, "too many parameters");
  if (kind->default_n < 0) {
    spec.column = std::string(name);
    return spec;
  }
  if (parts.size() < 2) {
    if (kind->default_n == 0) return bad(item, "needs a length, e.g. " + std::string(name) + ":20");
    spec.n = kind->default_n;
  } else {
    const std::string_view p = parts[1];
    int n = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (ec != std::errc() || ptr != p.data() + p.size())
      return bad(item, "length '" + std::string(p) + "' is not an integer");
    if (n < kind->min_n || n > 1000000)
      return bad(item, "length must be in " + std::to_string(kind->min_n) + "..1000000");
    spec.n = n;
  }
  spec.column = std::string(name) + "_" + std::to_string(spec.n);
  if (kind->kind == IndicatorKind::kCorr) {
    if (parts.size() < 3 || parts[2].empty())
      return bad(item, "needs the other symbol, e.g. corr:20:SPY");
    spec.reference = std::string(parts[2]);
    spec.column += "_" + spec.reference;
  }
  return spec;
}

Result<std::vector<IndicatorSpec>> parse_indicators(std::string_view list) {
  std::vector<IndicatorSpec> out;
  if (trim(list).empty()) return out;
  for (std::string_view item : split(list, ',')) {
    auto spec = parse_indicator(item);
    if (!spec) return spec.status();
    for (const IndicatorSpec& s : out) {
      if (s.column == spec->column) return bad(item, "is listed twice (column " + s.column + ")");
    }
    out.push_back(std::move(*spec));
  }
  return out;
}

IndicatorEngine::IndicatorEngine(std::vector<IndicatorSpec> specs, const SymbolTable* symbols)
    : specs_(std::move(specs)), symbols_(symbols) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const IndicatorSpec& spec = specs_[i];
    const int out = static_cast<int>(i);
    auto add = [&](auto& cols) {
      cols.emplace_back();
      cols.back().out = out;
      cols.back().n = spec.n;
      return &cols.back();
    };
    switch (spec.kind) {
      case IndicatorKind::kLogReturn:
        logret_.push_back({spec.kind, out});
        break;
      case IndicatorKind::kSma:
        add(sma_);
        break;
      case IndicatorKind::kEma:
        add(ema_);
        break;
      case IndicatorKind::kMean:
      case IndicatorKind::kStd:
      case IndicatorKind::kZScore: {
        Col<RollingMoments>* col = nullptr;
        for (auto& c : moments_) {
          if (c.n == spec.n) col = &c;
        }
        if (!col) col = add(moments_);
        col->outputs.push_back({spec.kind, out});
        break;
      }
      case IndicatorKind::kEwmaVol:
        add(ewmvol_);
        break;
      case IndicatorKind::kRsi:
        add(rsi_);
        break;
      case IndicatorKind::kAtr:
        add(atr_);
        break;
      case IndicatorKind::kHurst:
        PAIRFLOW_CHECK(spec.n >= 32, "hurst window must be >= 32");
        add(hurst_);
        break;
      case IndicatorKind::kCorr:
        PAIRFLOW_CHECK(spec.n >= 2, "corr window must be >= 2");
        add(corr_)->reference = spec.reference;
        break;
    }
  }
}

void IndicatorEngine::ensure(SymbolId max_symbol) {
  if (max_symbol < symbols_seen_) return;
  const std::size_t n = static_cast<std::size_t>(max_symbol) + 1;
  returns_.resize(n);
  auto grow = [n](auto& cols) {
    for (auto& c : cols) {
      using K = typename std::decay_t<decltype(c.state)>::value_type;
      while (c.state.size() < n) c.state.emplace_back(K(c.n));
    }
  };
  grow(sma_);
  grow(ema_);
  grow(moments_);
  grow(ewmvol_);
  grow(rsi_);
  grow(atr_);
  grow(hurst_);
  grow(corr_);
  symbols_seen_ = n;
}

void IndicatorEngine::update_correlations(std::span<const Bar> bars) {
  const std::size_t cols = specs_.size();
  for (Col<RollingCorrelation>& c : corr_) {
    if (!c.resolved && symbols_ != nullptr) {
      if (auto id = symbols_->find(c.reference)) {
        c.reference_id = *id;
        c.resolved = true;
      }
    }
    double ref = kNaN;
    if (c.resolved) {
      for (std::size_t k = 0; k < bars.size(); ++k) {
        if (bars[k].symbol == c.reference_id) ref = rets_[k];
      }
    }
    for (std::size_t k = 0; k < bars.size(); ++k) {
      double v = kNaN;
      if (!std::isnan(ref) && !std::isnan(rets_[k]))
        v = c.state[bars[k].symbol].update(rets_[k], ref);
      values_[k * cols + c.out] = v;
    }
  }
}

}  // namespace pairflow::features
