// pairflow._core: statistics (stats/) and the all-pairs screen (screen/), for pairflow.stats and
// pairflow.screen. The GIL is released while the engine computes.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <thread>

#include "pymodule/bindings.h"
#include "pymodule/convert.h"
#include "screen/screener.h"
#include "screen/table_screen.h"
#include "stats/adf.h"
#include "stats/coint.h"
#include "stats/hurst.h"
#include "stats/johansen.h"
#include "stats/kalman.h"

namespace pairflow::pymodule {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename T>
T value_or_raise(Result<T> result, const std::string& context) {
  if (!result) raise_error(fmt::format("{}: {}", context, result.status().message()));
  return std::move(*result);
}

stats::Trend trend_arg(const std::string& text, const char* fn) {
  return value_or_raise(stats::parse_trend(text), fmt::format("{}: trend", fn));
}

stats::AutoLag autolag_arg(py::handle object, const char* fn) {
  if (object.is_none()) return stats::AutoLag::kNone;
  std::string text = py::str(object);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return value_or_raise(stats::parse_autolag(text), fmt::format("{}: autolag", fn));
}

py::tuple crit_tuple(const double crit[3]) { return py::make_tuple(crit[0], crit[1], crit[2]); }

py::dict adf(py::handle x, py::handle maxlag, const std::string& trend, py::handle autolag) {
  Series series = as_series(x, "adfuller: x");
  stats::AdfOptions options;
  options.trend = trend_arg(trend, "adfuller");
  options.autolag = autolag_arg(autolag, "adfuller");
  options.maxlag = optional_int(maxlag, "adfuller: maxlag");
  Result<stats::AdfResult> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = stats::adf(series.values, options);
  }
  const auto& r = value_or_raise(std::move(result), "adfuller");
  py::dict out;
  out["stat"] = r.stat;
  out["pvalue"] = r.pvalue;
  out["usedlag"] = r.usedlag;
  out["nobs"] = r.nobs;
  out["crit"] = crit_tuple(r.crit);
  out["icbest"] = r.icbest;
  out["maxlag"] = r.maxlag;
  return out;
}

stats::CointOptions coint_options(const std::string& trend, py::handle maxlag, py::handle autolag,
                                  const char* fn) {
  stats::CointOptions options;
  options.trend = trend_arg(trend, fn);
  options.autolag = autolag_arg(autolag, fn);
  options.maxlag = optional_int(maxlag, fmt::format("{}: maxlag", fn).c_str());
  return options;
}

py::dict coint(py::handle y, py::handle x, const std::string& trend, py::handle maxlag,
               py::handle autolag) {
  Series ys = as_series(y, "coint: y0"), xs = as_series(x, "coint: y1");
  const stats::CointOptions options = coint_options(trend, maxlag, autolag, "coint");
  Result<stats::CointResult> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = stats::coint(ys.values, xs.values, options);
  }
  const auto& r = value_or_raise(std::move(result), "coint");
  py::dict out;
  out["stat"] = r.stat;
  out["pvalue"] = r.pvalue;
  out["crit"] = crit_tuple(r.crit);
  out["hedge_ratio"] = r.hedge_ratio;
  out["intercept"] = r.intercept;
  out["usedlag"] = r.usedlag;
  out["nobs"] = r.nobs;
  return out;
}

// Every pair of columns (i < j: y = column i, x = column j; both directions with
// `both_directions`), split over `threads` threads, each with its own workspace.
py::dict coint_all_pairs(py::handle table, const std::string& trend, py::handle maxlag,
                         py::handle autolag, bool both_directions, int threads) {
  Matrix m = as_matrix(table, "coint_all_pairs: data", /*contiguous_columns=*/true);
  const stats::CointOptions options = coint_options(trend, maxlag, autolag, "coint_all_pairs");
  const int n = m.table.cols;
  if (n < 2)
    raise_error(
        fmt::format("coint_all_pairs: {} column{}: need at least two", n, n == 1 ? "" : "s"));
  if (threads < 0) raise_error("coint_all_pairs: threads must be >= 0 (0 = one per core)");
  std::vector<std::int32_t> ys, xs;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      ys.push_back(i);
      xs.push_back(j);
      if (both_directions) {
        ys.push_back(j);
        xs.push_back(i);
      }
    }
  const std::size_t count = ys.size();
  std::vector<double> stat(count), pvalue(count), crit1(count), crit5(count), crit10(count),
      hedge(count), intercept(count);
  std::vector<std::int32_t> usedlag(count), nobs(count);
  std::vector<std::string> errors(count);
  {
    py::gil_scoped_release released;
    const int workers = std::max(
        1, std::min<int>(
               threads == 0 ? static_cast<int>(std::thread::hardware_concurrency()) : threads,
               static_cast<int>(count)));
    auto work = [&](int worker) {
      stats::CointWorkspace workspace;
      for (std::size_t k = worker; k < count; k += workers) {
        auto r = workspace.run(m.column(ys[k]), m.column(xs[k]), options);
        if (!r) {
          stat[k] = pvalue[k] = crit1[k] = crit5[k] = crit10[k] = hedge[k] = intercept[k] = kNaN;
          usedlag[k] = nobs[k] = -1;
          errors[k] = r.status().message();
          continue;
        }
        stat[k] = r->stat;
        pvalue[k] = r->pvalue;
        crit1[k] = r->crit[0];
        crit5[k] = r->crit[1];
        crit10[k] = r->crit[2];
        hedge[k] = r->hedge_ratio;
        intercept[k] = r->intercept;
        usedlag[k] = r->usedlag;
        nobs[k] = r->nobs;
      }
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& t : pool) t.join();
  }
  py::list error_list(count);
  for (std::size_t k = 0; k < count; ++k)
    error_list[k] = errors[k].empty() ? py::object(py::none()) : py::object(py::str(errors[k]));
  py::dict out;
  out["y"] = to_numpy(std::move(ys));
  out["x"] = to_numpy(std::move(xs));
  out["stat"] = to_numpy(std::move(stat));
  out["pvalue"] = to_numpy(std::move(pvalue));
  out["crit_1"] = to_numpy(std::move(crit1));
  out["crit_5"] = to_numpy(std::move(crit5));
  out["crit_10"] = to_numpy(std::move(crit10));
  out["hedge_ratio"] = to_numpy(std::move(hedge));
  out["intercept"] = to_numpy(std::move(intercept));
  out["usedlag"] = to_numpy(std::move(usedlag));
  out["nobs"] = to_numpy(std::move(nobs));
  out["error"] = error_list;
  out["borrowed"] = m.borrowed;
  return out;
}

py::dict johansen(py::handle endog, int det_order, int k_ar_diff) {
  Matrix m = as_matrix(endog, "coint_johansen: endog", /*contiguous_columns=*/true);
  std::vector<std::span<const double>> columns;
  for (int c = 0; c < m.table.cols; ++c) columns.push_back(m.column(c));
  Result<stats::JohansenResult> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = stats::coint_johansen(columns, det_order, k_ar_diff);
  }
  auto r = value_or_raise(std::move(result), "coint_johansen");
  const std::size_t k = static_cast<std::size_t>(r.neqs);
  std::vector<double> evec(k * k), cvt(k * 3), cvm(k * 3);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) evec[j * k + i] = r.evec[i * k + j];  // to column-major
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t c = 0; c < 3; ++c) {
      cvt[c * k + i] = r.cvt[i][c];
      cvm[c * k + i] = r.cvm[i][c];
    }
  py::dict out;
  out["eig"] = to_numpy(std::move(r.eig));
  out["lr1"] = to_numpy(std::move(r.lr1));
  out["lr2"] = to_numpy(std::move(r.lr2));
  out["evec"] = to_numpy_matrix(std::move(evec), k, k);
  out["cvt"] = to_numpy_matrix(std::move(cvt), k, 3);
  out["cvm"] = to_numpy_matrix(std::move(cvm), k, 3);
  out["nobs"] = r.nobs;
  return out;
}

py::tuple hurst(py::handle x, const std::string& method, int min_scale, int max_scale,
                int num_scales) {
  Series series = as_series(x, "hurst: x");
  stats::HurstOptions options;
  if (method == "variance")
    options.method = stats::HurstMethod::kVariance;
  else if (method == "rs")
    options.method = stats::HurstMethod::kRescaledRange;
  else if (method == "dfa")
    options.method = stats::HurstMethod::kDfa;
  else
    raise_error(fmt::format("hurst: method '{}': expected variance, rs or dfa", method));
  options.min_scale = min_scale;
  options.max_scale = max_scale;
  options.num_scales = num_scales;
  Result<stats::HurstResult> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = stats::hurst(series.values, options);
  }
  const auto& r = value_or_raise(std::move(result), "hurst");
  return py::make_tuple(r.hurst, r.intercept, r.r2, r.num_scales);
}

double half_life(py::handle spread) {
  Series series = as_series(spread, "half_life: spread");
  Result<double> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = stats::half_life(series.values);
  }
  return value_or_raise(std::move(result), "half_life");
}

py::dict kalman_hedge(py::handle x, py::handle y, double delta, double ve,
                      std::array<double, 2> initial_state, std::array<double, 4> initial_cov) {
  Series xs = as_series(x, "kalman_hedge: x"), ys = as_series(y, "kalman_hedge: y");
  if (xs.values.size() != ys.values.size())
    raise_error(
        fmt::format("kalman_hedge: x has {} values, y has {}", xs.values.size(), ys.values.size()));
  stats::KalmanHedgeOptions options;
  options.delta = delta;
  options.ve = ve;
  options.initial_state = initial_state;
  options.initial_cov = initial_cov;
  Result<std::vector<stats::KalmanStep>> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = stats::kalman_hedge(xs.values, ys.values, options);
  }
  const auto steps = value_or_raise(std::move(result), "kalman_hedge");
  const std::size_t n = steps.size();
  std::vector<double> slope(n), intercept(n), e(n), q(n), cov(n * 4);
  for (std::size_t t = 0; t < n; ++t) {
    slope[t] = steps[t].slope;
    intercept[t] = steps[t].intercept;
    e[t] = steps[t].e;
    q[t] = steps[t].q;
    for (std::size_t c = 0; c < 4; ++c) cov[c * n + t] = steps[t].cov[c];
  }
  py::dict out;
  out["slope"] = to_numpy(std::move(slope));
  out["intercept"] = to_numpy(std::move(intercept));
  out["e"] = to_numpy(std::move(e));
  out["q"] = to_numpy(std::move(q));
  out["cov"] = to_numpy_matrix(std::move(cov), n, 4);
  return out;
}

// ---- the screen ---------------------------------------------------------------------------

// The screener's settings from keyword arguments (None = the default), named as `pairflow
// screen`'s options and the [screener] section's keys.
screen::ScreenerConfig screener_config(const py::dict& options) {
  screen::ScreenerConfig c;
  for (auto item : options) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (v.is_none()) continue;
    auto as_double = [&] {
      if (!PyFloat_Check(v.ptr()) && !PyLong_Check(v.ptr()))
        throw py::type_error(fmt::format("screen: {} must be a number", key));
      return v.cast<double>();
    };
    auto as_int = [&] { return *optional_int(v, fmt::format("screen: {}", key).c_str()); };
    auto as_bool = [&] {
      if (!PyBool_Check(v.ptr()))
        throw py::type_error(fmt::format("screen: {} must be a bool", key));
      return v.cast<bool>();
    };
    auto as_text = [&] {
      if (!PyUnicode_Check(v.ptr()))
        throw py::type_error(fmt::format("screen: {} must be a str", key));
      return v.cast<std::string>();
    };
    if (key == "window")
      c.window = as_int();
    else if (key == "neighbours")
      c.neighbours = as_int();
    else if (key == "pair_test")
      c.pair_test = value_or_raise(screen::parse_pair_test(as_text()), "screen: pair_test");
    else if (key == "min_corr")
      c.min_abs_corr = as_double();
    else if (key == "prescreen_pvalue")
      c.prescreen_pvalue = as_double();
    else if (key == "correction")
      c.correction = value_or_raise(screen::parse_correction(as_text()), "screen: correction");
    else if (key == "max_pvalue")
      c.max_pvalue = as_double();
    else if (key == "trend")
      c.coint.trend = trend_arg(as_text(), "screen");
    else if (key == "maxlag")
      c.coint.maxlag = as_int();
    else if (key == "autolag")
      c.coint.autolag = autolag_arg(v, "screen");
    else if (key == "min_half_life")
      c.min_half_life = as_double();
    else if (key == "max_half_life")
      c.max_half_life = as_double();
    else if (key == "max_hurst")
      c.max_hurst = as_double();
    else if (key == "min_crossings")
      c.min_crossings = as_int();
    else if (key == "min_leg_margin")
      c.min_leg_margin = as_double();
    else if (key == "stability_splits")
      c.stability_splits = as_int();
    else if (key == "stability_pvalue")
      c.stability_pvalue = as_double();
    else if (key == "triangles")
      c.consistent_triangles = as_bool();
    else if (key == "per_symbol")
      c.max_pairs_per_symbol = as_int();
    else if (key == "top")
      c.max_candidates = as_int();
    else if (key == "rank_all")
      c.rank_all = as_bool();
    else
      throw py::type_error(fmt::format("screen: unknown option '{}'", key));
  }
  return c;
}

py::dict candidates_frame(const std::vector<screen::ScreenCandidate>& list) {
  const std::size_t n = list.size();
  std::vector<std::int32_t> y(n), x(n), crossings(n), usedlag(n);
  std::vector<double> corr(n), stat(n), pvalue(n), hedge(n), intercept(n), half_life(n), hurst(n),
      score(n), adj(n), reverse(n), pair(n), df(n), leg(n), stability(n);
  std::vector<std::uint8_t> selected(n);
  py::list stage(n);
  for (std::size_t k = 0; k < n; ++k) {
    const auto& c = list[k];
    y[k] = static_cast<std::int32_t>(c.y);
    x[k] = static_cast<std::int32_t>(c.x);
    corr[k] = c.corr;
    stat[k] = c.stat;
    pvalue[k] = c.pvalue;
    hedge[k] = c.hedge_ratio;
    intercept[k] = c.intercept;
    half_life[k] = c.half_life;
    hurst[k] = c.hurst;
    crossings[k] = c.crossings;
    usedlag[k] = c.usedlag;
    score[k] = c.score;
    adj[k] = c.adj_pvalue;
    reverse[k] = c.pvalue_reverse;
    pair[k] = c.pair_pvalue;
    df[k] = c.df_stat;
    leg[k] = c.leg_stat;
    stability[k] = c.stability_pvalue;
    stage[k] = screen::stage_name(c.stage);
    selected[k] = c.stage == screen::ScreenStage::kSelected;
  }
  py::dict out;
  out["y"] = to_numpy(std::move(y));
  out["x"] = to_numpy(std::move(x));
  out["corr"] = to_numpy(std::move(corr));
  out["stat"] = to_numpy(std::move(stat));
  out["pvalue"] = to_numpy(std::move(pvalue));
  out["hedge_ratio"] = to_numpy(std::move(hedge));
  out["intercept"] = to_numpy(std::move(intercept));
  out["half_life"] = to_numpy(std::move(half_life));
  out["hurst"] = to_numpy(std::move(hurst));
  out["crossings"] = to_numpy(std::move(crossings));
  out["usedlag"] = to_numpy(std::move(usedlag));
  out["score"] = to_numpy(std::move(score));
  out["adj_pvalue"] = to_numpy(std::move(adj));
  out["pvalue_reverse"] = to_numpy(std::move(reverse));
  out["pair_pvalue"] = to_numpy(std::move(pair));
  out["df_stat"] = to_numpy(std::move(df));
  out["leg_stat"] = to_numpy(std::move(leg));
  out["stability_pvalue"] = to_numpy(std::move(stability));
  out["stage"] = stage;
  out["selected"] = to_numpy(std::move(selected)).attr("astype")("bool");
  return out;
}

py::dict result_counts(const screen::ScreenResult& r) {
  py::dict out;
  out["pairs"] = r.pairs;
  out["symbols_ready"] = r.symbols_ready;
  out["tests"] = r.tests;
  out["corr_passed"] = r.corr_passed;
  out["prescreen_passed"] = r.prescreen_passed;
  out["eg_failed"] = r.eg_failed;
  out["significant"] = r.significant;
  out["filtered_passed"] = r.filtered_passed;
  out["selected"] = r.candidates.size();
  out["pvalue_cutoff"] = r.pvalue_cutoff;  // not a count: the raw pair p the correction accepted
  return out;
}

// Natural logs with the C library's log, the one `pairflow screen --log` and the engine use: numpy's
// own log (a SIMD approximation on AVX-512 machines) differs in the last bit for about one value
// in five, and those bits would make pairflow.screen(log=True) disagree with the CLI.
py::array_t<double> log_values(py::array_t<double, py::array::c_style | py::array::forcecast> in) {
  py::array_t<double> out(in.request().shape);
  const double* src = in.data();
  double* dst = out.mutable_data();
  const auto n = static_cast<std::size_t>(in.size());
  {
    py::gil_scoped_release released;
    for (std::size_t i = 0; i < n; ++i) dst[i] = std::log(src[i]);
  }
  return out;
}

py::dict screen_table(py::handle prices, const std::vector<std::string>& names,
                      const py::dict& options) {
  Matrix m = as_matrix(prices, "screen: prices", /*contiguous_columns=*/false);
  const screen::ScreenerConfig config = screener_config(options);
  Result<screen::TableScreen> result = Status(StatusCode::kInternal, "not run");
  {
    py::gil_scoped_release released;
    result = screen::screen_table(m.table, names, config, "screen");
  }
  if (!result) raise_error(result.status().message());
  const screen::TableScreen& s = *result;
  py::dict out;
  out["candidates"] = candidates_frame(s.config.rank_all ? s.result.ranked : s.result.candidates);
  out["counts"] = result_counts(s.result);
  out["summary"] = screen::describe_screen(s);
  out["untestable"] = s.untestable;
  out["window"] = s.config.window;
  out["borrowed"] = m.borrowed;
  return out;
}

// The streaming screener, for step-by-step research: feed bars, screen whenever wanted.
class PyScreener {
 public:
  PyScreener(int symbols, const py::dict& options) : config_(screener_config(options)) {
    if (symbols < 2) raise_error(fmt::format("Screener: {} symbols: need at least two", symbols));
    if (auto s = screen::Screener::validate(config_); !s) raise_error("Screener: " + s.message());
    screener_ = std::make_unique<screen::Screener>(symbols, config_);
  }
  void on_bar(py::handle values) {
    Series row = as_series(values, "Screener.on_bar: values");
    check_width(row.values.size());
    screener_->on_bar(row.values);
  }
  void update(py::handle table) {
    Matrix m = as_matrix(table, "Screener.update: bars", /*contiguous_columns=*/false);
    check_width(static_cast<std::size_t>(m.table.cols));
    py::gil_scoped_release released;
    row_.resize(m.table.cols);
    for (int r = 0; r < m.table.rows; ++r) {
      for (int c = 0; c < m.table.cols; ++c) row_[c] = m.table.at(r, c);
      screener_->on_bar(row_);
    }
  }
  py::dict screen() {
    {
      py::gil_scoped_release released;
      screener_->screen(result_);
    }
    py::dict out;
    out["candidates"] = candidates_frame(config_.rank_all ? result_.ranked : result_.candidates);
    out["counts"] = result_counts(result_);
    return out;
  }
  double correlation(int i, int j) {
    check_symbol(i);
    check_symbol(j);
    return screener_->correlation(i, j);
  }
  bool ready(int s) {
    check_symbol(s);
    return screener_->symbol_ready(s);
  }
  std::int64_t bars() const { return screener_->bars(); }
  int window() const { return screener_->window(); }
  int symbols() const { return screener_->num_symbols(); }

 private:
  void check_width(std::size_t width) const {
    if (width != static_cast<std::size_t>(screener_->num_symbols()))
      raise_error(fmt::format("Screener: a bar has {} values, the universe {} symbols", width,
                              screener_->num_symbols()));
  }
  void check_symbol(int s) const {
    if (s < 0 || s >= screener_->num_symbols())
      throw py::index_error(fmt::format("Screener: symbol {} out of range", s));
  }
  screen::ScreenerConfig config_;
  std::unique_ptr<screen::Screener> screener_;
  screen::ScreenResult result_;
  std::vector<double> row_;
};

}  // namespace

void bind_stats(py::module_& m) {
  m.def("adf", &adf, py::arg("x"), py::arg("maxlag"), py::arg("trend"), py::arg("autolag"));
  m.def("coint", &coint, py::arg("y"), py::arg("x"), py::arg("trend"), py::arg("maxlag"),
        py::arg("autolag"));
  m.def("coint_all_pairs", &coint_all_pairs, py::arg("data"), py::arg("trend"), py::arg("maxlag"),
        py::arg("autolag"), py::arg("both_directions"), py::arg("threads"));
  m.def("johansen", &johansen, py::arg("endog"), py::arg("det_order"), py::arg("k_ar_diff"));
  m.def("hurst", &hurst, py::arg("x"), py::arg("method"), py::arg("min_scale"),
        py::arg("max_scale"), py::arg("num_scales"));
  m.def("half_life", &half_life, py::arg("spread"));
  m.def("kalman_hedge", &kalman_hedge, py::arg("x"), py::arg("y"), py::arg("delta"), py::arg("ve"),
        py::arg("initial_state"), py::arg("initial_cov"));
  m.def("log", &log_values, py::arg("values"));
  m.def("screen", &screen_table, py::arg("prices"), py::arg("names"), py::arg("options"));
  py::class_<PyScreener>(m, "Screener")
      .def(py::init<int, const py::dict&>(), py::arg("symbols"), py::arg("options"))
      .def("on_bar", &PyScreener::on_bar)
      .def("update", &PyScreener::update)
      .def("screen", &PyScreener::screen)
      .def("correlation", &PyScreener::correlation)
      .def("ready", &PyScreener::ready)
      .def_property_readonly("bars", &PyScreener::bars)
      .def_property_readonly("window", &PyScreener::window)
      .def_property_readonly("symbols", &PyScreener::symbols);
  // For the tests: whether a series / table would be read in place (no copy).
  m.def("_reads_in_place", [](py::handle object, int ndim) {
    return ndim == 1 ? as_series(object, "x").borrowed
                     : as_matrix(object, "data", /*contiguous_columns=*/true).borrowed;
  });
}

}  // namespace pairflow::pymodule
