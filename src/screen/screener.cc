#include "screen/screener.h"

#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "screen/selection.h"
#include "stats/mackinnon.h"

namespace pairflow::screen {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Largest t with MacKinnon p(t) <= p for a two-series Engle-Granger statistic (p increases in t).
double df_threshold_for(double p) {
  double lo = -100.0, hi = 10.0;
  if (stats::mackinnon_pvalue(hi, stats::Trend::kConstant, 2) <= p) return hi;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (stats::mackinnon_pvalue(mid, stats::Trend::kConstant, 2) <= p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

bool ranks_before(const ScreenCandidate& a, const ScreenCandidate& b) {
  if (a.adj_pvalue != b.adj_pvalue) return a.adj_pvalue < b.adj_pvalue;
  if (a.pair_pvalue != b.pair_pvalue) return a.pair_pvalue < b.pair_pvalue;
  if (a.score != b.score) return a.score > b.score;
  if (a.y != b.y) return a.y < b.y;
  return a.x < b.x;
}

int count_crossings(std::span<const double> spread) {
  int crossings = 0, last_sign = 0;
  for (double v : spread) {
    const int sign = v > 0 ? 1 : (v < 0 ? -1 : 0);
    if (sign == 0) continue;
    if (last_sign != 0 && sign != last_sign) ++crossings;
    last_sign = sign;
  }
  return crossings;
}

}  // namespace

void adjust_pvalues(std::span<const double> pvalues, Correction correction, double family,
                    std::span<double> adjusted) {
  PAIRFLOW_CHECK(pvalues.size() == adjusted.size(), "adjust_pvalues: size mismatch");
  const double m = std::max<double>(family, static_cast<double>(pvalues.size()));
  if (correction == Correction::kNone) {
    std::copy(pvalues.begin(), pvalues.end(), adjusted.begin());
  } else if (correction == Correction::kBonferroni) {
    for (std::size_t i = 0; i < pvalues.size(); ++i) adjusted[i] = std::min(1.0, pvalues[i] * m);
  } else {
    // Step-up: adjusted p_(r) = min over k >= r of p_(k) * m / k; unlisted tests rank after all.
    std::vector<std::size_t> order(pvalues.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return pvalues[a] != pvalues[b] ? pvalues[a] < pvalues[b] : a < b;
    });
    double running = 1.0;
    for (std::size_t r = order.size(); r-- > 0;) {
      running = std::min(running, pvalues[order[r]] * m / static_cast<double>(r + 1));
      adjusted[order[r]] = std::min(1.0, running);
    }
  }
}

Status Screener::validate(const ScreenerConfig& c) {
  auto bad = [](std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); };
  if (c.window < 20) return bad(fmt::format("screen window must be >= 20, got {}", c.window));
  if (c.neighbours < 0) return bad("neighbours must be >= 0 (0 = every pair)");
  if (!(c.min_abs_corr >= 0 && c.min_abs_corr <= 1)) return bad("min_abs_corr must be in [0, 1]");
  if (!(c.prescreen_pvalue > 0 && c.prescreen_pvalue <= 1))
    return bad("prescreen_pvalue must be in (0, 1]");
  if (!(c.max_pvalue > 0 && c.max_pvalue <= 1)) return bad("max_pvalue must be in (0, 1]");
  if (!(c.min_half_life >= 0 && c.max_half_life >= 0))
    return bad("min_half_life and max_half_life must be >= 0");
  if (!(c.max_hurst > 0)) return bad("max_hurst must be > 0");
  if (c.min_crossings < 0) return bad("min_crossings must be >= 0");
  if (c.stability_splits < 0 || c.stability_splits > c.window / 20)
    return bad("stability_splits must be in [0, window / 20]");
  if (!(c.stability_pvalue > 0 && c.stability_pvalue <= 1))
    return bad("stability_pvalue must be in (0, 1]");
  if (c.max_pairs_per_symbol < 0) return bad("max_pairs_per_symbol must be >= 0");
  if (c.max_candidates < 0) return bad("max_candidates must be >= 0");
  if (c.update_block < 1 || c.update_block > 1024) return bad("update_block must be in [1, 1024]");
  if (c.rebuild_every < 0) return bad("rebuild_every must be >= 0");
  return Status();
}

Screener::Screener(int num_symbols, const ScreenerConfig& config)
    : config_(config),
      n_(num_symbols),
      w_(config.window),
      rebuild_every_(config.rebuild_every > 0 ? config.rebuild_every : config.window) {
  auto status = validate(config);
  PAIRFLOW_CHECK(status.is_ok(), status.message());
  PAIRFLOW_CHECK(num_symbols >= 0, "screener: negative universe size");
  df_threshold_ = df_threshold_for(config.prescreen_pvalue);
  const std::size_t n = n_;
  ref_.assign(n, 0.0);
  last_.assign(n, 0.0);
  seen_.assign(n, 0);
  levels_.assign((w_ + 1) * n, 0.0);
  rets_.assign(w_ * n, 0.0);
  s_.assign(n * n, 0.0);
  g_.assign(n * n, 0.0);
  rsum_.assign(n, 0.0);
  lsum_.assign(n, 0.0);
  const std::size_t block = config.update_block * n;
  pa_.assign(block, 0.0);
  pb_.assign(block, 0.0);
  pc_.assign(block, 0.0);
  pd_.assign(block, 0.0);
  corr_row_.assign(n, 0.0);
  uses_.assign(n, 0);
  js_.reserve(n);
}

void Screener::on_bar(std::span<const double> log_prices) {
  PAIRFLOW_CHECK(static_cast<int>(log_prices.size()) == n_, "screener: bar of the wrong width");
  const std::size_t n = n_;
  const int nl = w_ + 1;
  double* old_level = &levels_[lhead_ * n];  // the oldest row, overwritten by the new levels
  const double* newest = &levels_[((lhead_ + nl - 1) % nl) * n];
  double* old_ret = &rets_[rhead_ * n];
  double* a = &pa_[pending_ * n];
  double* b = &pb_[pending_ * n];
  double* c = &pc_[pending_ * n];
  double* d = &pd_[pending_ * n];
  for (std::size_t s = 0; s < n; ++s) {
    const double p = log_prices[s];
    if (std::isfinite(p)) {
      if (seen_[s] == 0) ref_[s] = p;
      last_[s] = p;
      ++seen_[s];
    } else if (seen_[s] > 0) {
      ++seen_[s];
    }
    if (seen_[s] > w_ + 1) seen_[s] = w_ + 1;
    const double lv = seen_[s] > 0 ? last_[s] - ref_[s] : 0.0;
    const double r = lv - newest[s];
    const double lo = old_level[s], ro = old_ret[s];
    a[s] = r - ro;
    b[s] = r + ro;
    c[s] = lv - lo;
    d[s] = lv + lo;
    rsum_[s] += r - ro;
    lsum_[s] += lv - lo;
    old_level[s] = lv;
    old_ret[s] = r;
  }
  lhead_ = (lhead_ + 1) % nl;
  rhead_ = (rhead_ + 1) % w_;
  ++bars_;
  if (++pending_ == config_.update_block) flush();
  if (++since_rebuild_ >= rebuild_every_) rebuild();
}

void Screener::flush() {
  if (pending_ == 0 || n_ == 0) {
    pending_ = 0;
    return;
  }
  if (pending_ == 1) {
    cblas_dsyr2(CblasRowMajor, CblasUpper, n_, 0.5, pa_.data(), 1, pb_.data(), 1, s_.data(), n_);
    cblas_dsyr2(CblasRowMajor, CblasUpper, n_, 0.5, pc_.data(), 1, pd_.data(), 1, g_.data(), n_);
  } else {
    cblas_dsyr2k(CblasRowMajor, CblasUpper, CblasTrans, n_, pending_, 0.5, pa_.data(), n_,
                 pb_.data(), n_, 1.0, s_.data(), n_);
    cblas_dsyr2k(CblasRowMajor, CblasUpper, CblasTrans, n_, pending_, 0.5, pc_.data(), n_,
                 pd_.data(), n_, 1.0, g_.data(), n_);
  }
  pending_ = 0;
}

void Screener::rebuild() {
  pending_ = 0;  // recomputed from the window below
  since_rebuild_ = 0;
  const std::size_t n = n_;
  const int nl = w_ + 1;
  // Move each symbol's reference to its last level: the window's levels stay near zero.
  std::vector<double>& shift = corr_row_;  // scratch of size n
  for (std::size_t s = 0; s < n; ++s) {
    shift[s] = seen_[s] > 0 ? ref_[s] - last_[s] : 0.0;
    if (seen_[s] > 0) ref_[s] = last_[s];
  }
  std::fill(lsum_.begin(), lsum_.end(), 0.0);
  std::fill(rsum_.begin(), rsum_.end(), 0.0);
  // Rows not written yet (an expanding window) stay zero: they are not in the window.
  const int filled = levels_now();
  for (int k = 0; k < filled; ++k) {
    double* l = &levels_[((oldest_level_row() + k) % nl) * n];
    for (std::size_t s = 0; s < n; ++s) {
      if (seen_[s] > 0) l[s] += shift[s];
      lsum_[s] += l[s];
    }
  }
  for (int row = 0; row < w_; ++row) {
    const double* r = &rets_[row * n];
    for (std::size_t s = 0; s < n; ++s) rsum_[s] += r[s];
  }
  if (n_ == 0) return;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n_, nl, 1.0, levels_.data(), n_, 0.0,
              g_.data(), n_);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n_, w_, 1.0, rets_.data(), n_, 0.0, s_.data(),
              n_);
}

double Screener::correlation(SymbolId i, SymbolId j) {
  flush();
  if (i > j) std::swap(i, j);
  const std::size_t n = n_;
  const double m = returns_now();
  const double cov = s_[i * n + j] - rsum_[i] * rsum_[j] / m;
  const double vi = s_[i * n + i] - rsum_[i] * rsum_[i] / m;
  const double vj = s_[j * n + j] - rsum_[j] * rsum_[j] / m;
  return cov / std::sqrt(vi * vj);
}

void Screener::pair_levels(SymbolId a, SymbolId b, std::vector<double>& ya,
                           std::vector<double>& yb) const {
  window_levels(a, ya);
  window_levels(b, yb);
  const auto skip = static_cast<std::ptrdiff_t>(ya.size()) - std::min(span(a), span(b));
  if (skip > 0) {
    ya.erase(ya.begin(), ya.begin() + skip);
    yb.erase(yb.begin(), yb.begin() + skip);
  }
}

void Screener::window_levels(SymbolId s, std::vector<double>& out) const {
  const int nl = w_ + 1, count = levels_now(), from = oldest_level_row();
  out.resize(count);
  for (int k = 0; k < count; ++k) out[k] = levels_[((from + k) % nl) * std::size_t(n_) + s];
}

// Lag-0 DF t-statistic (no constant, as coint's ADF on residuals) of u = y - a - b x, from the
// window's sums alone. Levels l_0..l_W, returns r_t = l_t - l_{t-1}; "lagged" = l_0..l_{W-1}.
double Screener::lag0_df(int y, int x, double b, double a) const {
  const std::size_t n = n_;
  const double m = returns_now();
  const int nl = w_ + 1;
  const double* first = &levels_[oldest_level_row() * n];
  const double* last = &levels_[((lhead_ + nl - 1) % nl) * n];
  const int lo = std::min(y, x), hi = std::max(y, x);
  const double y0 = first[y], x0 = first[x], yw = last[y], xw = last[x];
  const double gyy = g_[y * n + y], gxx = g_[x * n + x], gxy = g_[lo * n + hi];
  const double syy = s_[y * n + y], sxx = s_[x * n + x], sxy = s_[lo * n + hi];
  // Lagged-level sums.
  const double ly = lsum_[y] - yw, lx = lsum_[x] - xw;
  const double lyy = gyy - yw * yw, lxx = gxx - xw * xw, lxy = gxy - yw * xw;
  const double su = ly - b * lx - a * m;
  const double suu = lyy - 2 * b * lxy + b * b * lxx - 2 * a * (ly - b * lx) + a * a * m;
  // Sums of return x lagged level by telescoping.
  const double ry_y = 0.5 * (yw * yw - y0 * y0 - syy);
  const double rx_x = 0.5 * (xw * xw - x0 * x0 - sxx);
  const double cross = yw * xw - y0 * x0 - sxy;  // sum r_y x' + r_x y'
  const double sdu = rsum_[y] - b * rsum_[x];
  const double sduu = ry_y - b * cross + b * b * rx_x - a * sdu;
  const double sdd = syy - 2 * b * sxy + b * b * sxx;
  (void)su;
  if (!(suu > 0)) return kInf;
  const double gamma = sduu / suu;
  const double ssr = std::max(0.0, sdd - gamma * sduu);
  const double se = std::sqrt(ssr / (m - 1) / suu);
  return se > 0 ? gamma / se : (gamma < 0 ? -kInf : kInf);
}

Result<PairTest> parse_pair_test(std::string_view text) {
  if (text == "both") return PairTest::kBoth;
  if (text == "either") return PairTest::kEither;
  return Status(StatusCode::kInvalidArgument,
                fmt::format("pair_test must be 'both' or 'either', got '{}'", text));
}

const char* pair_test_name(PairTest test) { return test == PairTest::kBoth ? "both" : "either"; }

double pair_pvalue(PairTest test, double p_yx, double p_xy) {
  return test == PairTest::kBoth ? std::max(p_yx, p_xy) : std::min(1.0, 2 * std::min(p_yx, p_xy));
}

const char* stage_name(ScreenStage stage) {
  switch (stage) {
    case ScreenStage::kFamily:
      return "family";
    case ScreenStage::kCorrelation:
      return "correlation";
    case ScreenStage::kPrescreen:
      return "prescreen";
    case ScreenStage::kEngleGranger:
      return "engle-granger";
    case ScreenStage::kSignificance:
      return "significance";
    case ScreenStage::kHalfLife:
      return "half-life";
    case ScreenStage::kHurst:
      return "hurst";
    case ScreenStage::kCrossings:
      return "crossings";
    case ScreenStage::kLegMargin:
      return "leg-margin";
    case ScreenStage::kStability:
      return "stability";
    case ScreenStage::kLegSharing:
      return "leg-sharing";
    case ScreenStage::kLimit:
      return "limit";
    case ScreenStage::kSelected:
      return "selected";
  }
  return "?";
}

void Screener::screen(ScreenResult& out) {
  flush();
  out.candidates.clear();
  out.ranked.clear();
  out.symbols_ready = out.pairs = out.tests = 0;
  out.corr_passed = out.prescreen_passed = out.eg_failed = out.significant = 0;
  out.pvalue_cutoff = 0;
  const std::size_t n = n_;
  const double m = returns_now(), nl = levels_now();
  const bool rank_all = config_.rank_all;

  // Per symbol: 1 / centred return norm (0 when not ready or constant), centred level SS.
  std::vector<double> inv_norm(n, 0.0), lvar(n, 0.0);
  std::vector<char> ready(n, 0);
  for (std::size_t s = 0; s < n; ++s) {
    const double v = s_[s * n + s] - rsum_[s] * rsum_[s] / m;
    lvar[s] = g_[s * n + s] - lsum_[s] * lsum_[s] / nl;
    if (symbol_ready(static_cast<SymbolId>(s)) && v > 0 && lvar[s] > 0) {
      ready[s] = 1;
      inv_norm[s] = 1.0 / std::sqrt(v);
      ++out.symbols_ready;
    }
  }
  leg_stat_.assign(n, std::numeric_limits<double>::quiet_NaN());
  out.pairs = out.symbols_ready * (out.symbols_ready - 1) / 2;

  struct Survivor {
    int i, j;
    double corr;
  };
  std::vector<Survivor> survivors;
  std::vector<ScreenCandidate> stopped;  // rank_all: pairs that never reach Engle-Granger
  auto stop = [&](int i, int j, double corr, double df_stat, ScreenStage stage) {
    ScreenCandidate c;
    c.y = static_cast<SymbolId>(i);
    c.x = static_cast<SymbolId>(j);
    c.corr = corr;
    c.df_stat = df_stat;
    c.stat = c.score = c.half_life = c.hurst = c.hedge_ratio = c.intercept = c.leg_stat =
        std::numeric_limits<double>::quiet_NaN();
    c.pvalue = c.pvalue_reverse = c.pair_pvalue = c.adj_pvalue =
        std::numeric_limits<double>::quiet_NaN();
    c.stage = stage;
    stopped.push_back(c);
  };
  auto corr_of = [&](std::size_t i, std::size_t j) {
    const std::size_t lo = std::min(i, j), hi = std::max(i, j);
    return (s_[lo * n + hi] - rsum_[lo] * rsum_[hi] / m) * inv_norm[lo] * inv_norm[hi];
  };

  // The family: each ready symbol with its `neighbours` most correlated ready symbols (ties by
  // id), as partner lists j > i; every pair when neighbours = 0.
  const int k = config_.neighbours;
  if (k > 0) {
    partners_.assign(n, {});
    std::vector<std::pair<double, int>> row;
    for (std::size_t i = 0; i < n; ++i) {
      if (!ready[i]) continue;
      row.clear();
      for (std::size_t j = 0; j < n; ++j)
        if (j != i && ready[j]) row.emplace_back(-std::fabs(corr_of(i, j)), static_cast<int>(j));
      const std::size_t take = std::min<std::size_t>(row.size(), static_cast<std::size_t>(k));
      std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(take), row.end());
      for (std::size_t r = 0; r < take; ++r) {
        const std::size_t j = static_cast<std::size_t>(row[r].second);
        partners_[std::min(i, j)].push_back(static_cast<int>(std::max(i, j)));
      }
    }
    for (auto& list : partners_) {
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      out.tests += static_cast<std::int64_t>(list.size());
    }
  } else {
    out.tests = out.pairs;
  }

  const double th = config_.min_abs_corr;
  for (std::size_t i = 0; i < n; ++i) {
    if (!ready[i]) continue;
    const double* srow = &s_[i * n];
    const double ri = rsum_[i] / m, ni = inv_norm[i];
    // Correlations of row i: a contiguous, vectorisable pass.
    for (std::size_t j = i + 1; j < n; ++j)
      corr_row_[j] = (srow[j] - ri * rsum_[j]) * ni * inv_norm[j];
    js_.clear();
    if (k > 0) {
      std::size_t next = 0;
      const auto& family = partners_[i];
      for (std::size_t j = i + 1; j < n; ++j) {
        if (!ready[j]) continue;
        const bool member = next < family.size() && family[next] == static_cast<int>(j);
        if (member) ++next;
        if (member && std::fabs(corr_row_[j]) >= th) {
          js_.push_back(static_cast<int>(j));
        } else if (rank_all) {
          stop(static_cast<int>(i), static_cast<int>(j), corr_row_[j], kInf,
               member ? ScreenStage::kCorrelation : ScreenStage::kFamily);
        }
      }
    } else {
      for (std::size_t j = i + 1; j < n; ++j) {
        if (!ready[j]) continue;
        if (std::fabs(corr_row_[j]) >= th) {
          js_.push_back(static_cast<int>(j));
        } else if (rank_all) {
          stop(static_cast<int>(i), static_cast<int>(j), corr_row_[j], kInf,
               ScreenStage::kCorrelation);
        }
      }
    }
    out.corr_passed += static_cast<std::int64_t>(js_.size());
    const double* grow = &g_[i * n];
    for (int j : js_) {
      const double cij = grow[j] - lsum_[i] * lsum_[j] / nl;
      const double b1 = cij / lvar[j], a1 = (lsum_[i] - b1 * lsum_[j]) / nl;
      const double b2 = cij / lvar[i], a2 = (lsum_[j] - b2 * lsum_[i]) / nl;
      const double t1 = lag0_df(static_cast<int>(i), j, b1, a1);
      const double t2 = lag0_df(j, static_cast<int>(i), b2, a2);
      if (std::min(t1, t2) <= df_threshold_) {
        survivors.push_back({static_cast<int>(i), j, corr_row_[j]});
      } else if (rank_all) {
        stop(static_cast<int>(i), j, corr_row_[j], std::min(t1, t2), ScreenStage::kPrescreen);
      }
    }
  }
  out.prescreen_passed = static_cast<std::int64_t>(survivors.size());

  // The spread statistics of a pair's better direction, from its Engle-Granger residual. Only the
  // significant pairs need them (the filters come after the correction): the others get them
  // with rank_all alone. Hurst's variance method costs ~100 passes over the window.
  auto spread_stats = [](ScreenCandidate& c, std::span<const double> resid) {
    auto hl = stats::half_life(resid);
    c.half_life = hl ? *hl : kInf;
    auto h = stats::hurst(resid);
    c.hurst = h ? h->hurst : std::numeric_limits<double>::quiet_NaN();
    c.crossings = count_crossings(resid);
  };
  // Full Engle-Granger on the survivors, both directions; the better one is kept.
  std::vector<ScreenCandidate> tested;
  std::vector<double> resid, best_resid;
  std::vector<double> wi, wj;
  for (const auto& sv : survivors) {
    pair_levels(sv.i, sv.j, wi, wj);
    ScreenCandidate best;
    bool have = false;
    double pvalues[2] = {1.0, 1.0};
    for (int dir = 0; dir < 2; ++dir) {
      const auto& y = dir == 0 ? wi : wj;
      const auto& x = dir == 0 ? wj : wi;
      auto r = coint_.run(y, x, config_.coint);
      if (!r) {
        ++out.eg_failed;
        continue;
      }
      pvalues[dir] = r->pvalue;
      if (!have || r->pvalue < best.pvalue || (r->pvalue == best.pvalue && r->stat < best.stat)) {
        have = true;
        best.y = static_cast<SymbolId>(dir == 0 ? sv.i : sv.j);
        best.x = static_cast<SymbolId>(dir == 0 ? sv.j : sv.i);
        best.stat = r->stat;
        best.pvalue = r->pvalue;
        best.hedge_ratio = r->hedge_ratio;
        best.intercept = r->intercept;
        best.usedlag = r->usedlag;
        auto res = coint_.residuals();
        best_resid.assign(res.begin(), res.end());
      }
    }
    if (!have) {
      if (rank_all) stop(sv.i, sv.j, sv.corr, kInf, ScreenStage::kEngleGranger);
      continue;
    }
    // The window's levels are relative to per-symbol references: report the intercept of the
    // absolute log prices (log y = a + b log x).
    best.intercept += ref_[best.y] - best.hedge_ratio * ref_[best.x];
    best.pvalue_reverse = static_cast<int>(best.y) == sv.i ? pvalues[1] : pvalues[0];
    best.pair_pvalue = pair_pvalue(config_.pair_test, pvalues[0], pvalues[1]);
    best.corr = sv.corr;
    {
      const double cij = g_[sv.i * n + sv.j] - lsum_[sv.i] * lsum_[sv.j] / nl;
      const int yy = static_cast<int>(best.y), xx = static_cast<int>(best.x);
      const double b = cij / lvar[xx], a = (lsum_[yy] - b * lsum_[xx]) / nl;
      best.df_stat = lag0_df(yy, xx, b, a);
    }
    if (rank_all) spread_stats(best, best_resid);
    for (int leg : {sv.i, sv.j}) {
      if (std::isnan(leg_stat_[leg])) {
        window_levels(leg, ys_scratch_);
        ys_scratch_.erase(ys_scratch_.begin(),
                          ys_scratch_.end() - span(static_cast<SymbolId>(leg)));
        auto a = adf_.run(ys_scratch_);
        leg_stat_[leg] = a ? a->stat : kInf;
      }
    }
    best.leg_stat = std::min(leg_stat_[sv.i], leg_stat_[sv.j]);
    best.score = -best.stat;
    tested.push_back(best);
  }

  // Multiple-testing control over the whole family, then the filters.
  std::vector<double> p(tested.size()), adj(tested.size());
  for (std::size_t t = 0; t < tested.size(); ++t) p[t] = tested[t].pair_pvalue;
  adjust_pvalues(p, config_.correction, static_cast<double>(out.tests), adj);
  const double max_hl = config_.max_half_life > 0 ? config_.max_half_life : m / 4.0;
  std::vector<double> ys, xs;
  std::vector<ScreenCandidate> rejected;
  for (std::size_t t = 0; t < tested.size(); ++t)
    if (adj[t] <= config_.max_pvalue)
      out.pvalue_cutoff = std::max(out.pvalue_cutoff, tested[t].pair_pvalue);
  for (std::size_t t = 0; t < tested.size(); ++t) {
    auto& c = tested[t];
    c.adj_pvalue = adj[t];
    c.stage = ScreenStage::kSelected;
    if (!rank_all && c.adj_pvalue <= config_.max_pvalue) {
      // The same test again gives the same residual, bit for bit.
      pair_levels(c.y, c.x, ys, xs);
      auto r = coint_.run(ys, xs, config_.coint);
      PAIRFLOW_CHECK(r.is_ok(), "screener: a tested pair failed its second run");
      spread_stats(c, coint_.residuals());
    }
    if (!(c.adj_pvalue <= config_.max_pvalue)) {
      c.stage = ScreenStage::kSignificance;
    } else if (!(c.half_life >= config_.min_half_life && c.half_life <= max_hl)) {
      c.stage = ScreenStage::kHalfLife;
    } else if (!(c.hurst <= config_.max_hurst)) {
      c.stage = ScreenStage::kHurst;
    } else if (c.crossings < config_.min_crossings) {
      c.stage = ScreenStage::kCrossings;
    } else if (!(c.stat <= c.leg_stat - config_.min_leg_margin)) {
      c.stage = ScreenStage::kLegMargin;
    }
    if (c.adj_pvalue <= config_.max_pvalue) ++out.significant;
    if (config_.stability_splits > 1 && (c.stage == ScreenStage::kSelected || rank_all)) {
      pair_levels(c.y, c.x, ys, xs);
      c.stability_pvalue =
          max_subwindow_pvalue(ys, xs, config_.stability_splits, config_.coint, coint_);
      if (c.stage == ScreenStage::kSelected && !(c.stability_pvalue <= config_.stability_pvalue))
        c.stage = ScreenStage::kStability;
    }
    if (c.stage == ScreenStage::kSelected) ++out.filtered_passed;
    if (c.stage == ScreenStage::kSelected) {
      out.candidates.push_back(c);
    } else if (rank_all) {
      rejected.push_back(c);
    }
  }
  std::sort(out.candidates.begin(), out.candidates.end(), ranks_before);
  if (config_.consistent_triangles && out.candidates.size() > 1) {
    // Greedy by rank: a candidate sharing a leg with kept pairs needs each third side. Kept pairs
    // are indexed by symbol and third sides cached, so the cost is bounded by one test per pair.
    std::vector<ScreenCandidate> kept;
    std::vector<std::vector<int>> kept_partners(n);
    std::map<std::pair<int, int>, bool> third_cache;
    auto third_passes = [&](int a, int b) {
      const auto key = std::minmax(a, b);
      auto it = third_cache.find(key);
      if (it != third_cache.end()) return it->second;
      pair_levels(static_cast<SymbolId>(a), static_cast<SymbolId>(b), ys, xs);
      auto ab = coint_.run(ys, xs, config_.coint);
      auto ba = coint_.run(xs, ys, config_.coint);
      const bool pass = pair_pvalue(config_.pair_test, ab ? ab->pvalue : 1.0,
                                    ba ? ba->pvalue : 1.0) <= out.pvalue_cutoff;
      third_cache.emplace(key, pass);
      return pass;
    };
    for (auto& c : out.candidates) {
      const int y = static_cast<int>(c.y), x = static_cast<int>(c.x);
      bool consistent = true;
      for (int other : kept_partners[y])
        if (other != x && !third_passes(other, x)) consistent = false;
      for (int other : kept_partners[x])
        if (consistent && other != y && !third_passes(other, y)) consistent = false;
      if (consistent) {
        kept.push_back(c);
        kept_partners[y].push_back(x);
        kept_partners[x].push_back(y);
      } else {
        c.stage = ScreenStage::kLegSharing;
        if (rank_all) rejected.push_back(c);
      }
    }
    out.candidates.swap(kept);
  }
  if (rank_all) {
    std::vector<ScreenCandidate> all = out.candidates;
    keep_per_symbol(out.candidates, config_.max_pairs_per_symbol,
                    static_cast<std::size_t>(config_.max_candidates), uses_);
    // The pairs dropped by the per-symbol limit or max_candidates, with the stage that did it.
    std::size_t kept = 0;
    for (auto& c : all) {
      if (kept < out.candidates.size() && out.candidates[kept].y == c.y &&
          out.candidates[kept].x == c.x) {
        ++kept;
        continue;
      }
      c.stage = config_.max_candidates > 0 &&
                        out.candidates.size() >= static_cast<std::size_t>(config_.max_candidates)
                    ? ScreenStage::kLimit
                    : ScreenStage::kLegSharing;
      rejected.push_back(c);
    }
    std::sort(rejected.begin(), rejected.end(), ranks_before);
    // Family members stopped early first (by their DF statistic), then the pairs outside it.
    std::sort(
        stopped.begin(), stopped.end(), [](const ScreenCandidate& a, const ScreenCandidate& b) {
          const bool fa = a.stage == ScreenStage::kFamily, fb = b.stage == ScreenStage::kFamily;
          if (fa != fb) return fb;
          if (a.df_stat != b.df_stat) return a.df_stat < b.df_stat;
          if (std::fabs(a.corr) != std::fabs(b.corr)) return std::fabs(a.corr) > std::fabs(b.corr);
          return a.y != b.y ? a.y < b.y : a.x < b.x;
        });
    out.ranked = out.candidates;
    out.ranked.insert(out.ranked.end(), rejected.begin(), rejected.end());
    out.ranked.insert(out.ranked.end(), stopped.begin(), stopped.end());
  } else {
    keep_per_symbol(out.candidates, config_.max_pairs_per_symbol,
                    static_cast<std::size_t>(config_.max_candidates), uses_);
  }
}

}  // namespace pairflow::screen
