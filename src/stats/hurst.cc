#include "stats/hurst.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "stats/adf.h"

namespace pairflow::stats {
namespace {

struct Line {
  double slope, intercept, r2;
};

Line fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const int n = static_cast<int>(x.size());
  double mx = 0, my = 0;
  for (int i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (int i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  const double b = sxy / sxx;
  return {b, my - b * mx, syy > 0 ? sxy * sxy / (sxx * syy) : 1.0};
}

// Distinct integers log-spaced in [lo, hi].
std::vector<int> log_scales(int lo, int hi, int count) {
  std::vector<int> out;
  if (count < 2) count = 2;
  for (int i = 0; i < count; ++i) {
    const double v = std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * i / (count - 1));
    const int s = static_cast<int>(std::lround(v));
    if (out.empty() || s > out.back()) out.push_back(s);
  }
  return out;
}

// Anis-Lloyd (1976) expected R/S of n iid normals with Peters' (n - 1/2)/n factor; the gamma
// ratio is replaced by its asymptote above n = 340 as in Weron (2002).
double expected_rs(int n) {
  double sum = 0;
  for (int i = 1; i < n; ++i) sum += std::sqrt(static_cast<double>(n - i) / i);
  const double ratio = n <= 340 ? std::exp(std::lgamma((n - 1) / 2.0) - std::lgamma(n / 2.0)) /
                                      std::sqrt(std::numbers::pi)
                                : 1.0 / std::sqrt(n * std::numbers::pi / 2.0);
  return (n - 0.5) / n * ratio * sum;
}

Status bad_range(int lo, int hi, int n) {
  return Status(StatusCode::kInsufficientData, "Hurst scale range " + std::to_string(lo) + ".." +
                                                   std::to_string(hi) + " does not fit " +
                                                   std::to_string(n) + " observations");
}

}  // namespace

Result<HurstResult> hurst(std::span<const double> levels, const HurstOptions& options) {
  if (Status s = validate_series(levels, "series"); !s) return s;
  const int n = static_cast<int>(levels.size());
  if (n < 32) {
    return Status(StatusCode::kInsufficientData,
                  "need at least 32 observations for a Hurst exponent, got " + std::to_string(n));
  }
  std::vector<double> lx, ly;
  if (options.method == HurstMethod::kVariance) {
    const int lo = options.min_scale > 0 ? options.min_scale : 2;
    const int hi =
        options.max_scale > 0 ? options.max_scale : std::max(lo + 1, std::min(100, n / 10));
    if (lo < 1 || hi <= lo || hi > n - 2) return bad_range(lo, hi, n);
    for (int tau = lo; tau <= hi; ++tau) {
      const int m = n - tau;
      double mean = 0;
      for (int t = 0; t < m; ++t) mean += levels[t + tau] - levels[t];
      mean /= m;
      double ss = 0;
      for (int t = 0; t < m; ++t) {
        const double d = levels[t + tau] - levels[t] - mean;
        ss += d * d;
      }
      if (!(ss > 0)) continue;
      lx.push_back(std::log(tau));
      ly.push_back(0.5 * std::log(ss / m));
    }
  } else {
    const int ni = n - 1;
    std::vector<double> z(ni);
    for (int i = 0; i < ni; ++i) z[i] = levels[i + 1] - levels[i];
    const bool rs = options.method == HurstMethod::kRescaledRange;
    const int lo = options.min_scale > 0 ? options.min_scale : (rs ? 10 : 8);
    const int hi = options.max_scale > 0 ? options.max_scale : ni / 4;
    if (lo < (rs ? 3 : 4) || hi <= lo || hi > ni) return bad_range(lo, hi, n);
    if (rs) {
      for (int s : log_scales(lo, hi, options.num_scales)) {
        const int blocks = ni / s;
        double acc = 0;
        int used = 0;
        for (int b = 0; b < blocks; ++b) {
          const double* w = z.data() + static_cast<size_t>(b) * s;
          double mean = 0;
          for (int i = 0; i < s; ++i) mean += w[i];
          mean /= s;
          double cum = 0, lo_c = 0, hi_c = 0, ss = 0;
          for (int i = 0; i < s; ++i) {
            const double d = w[i] - mean;
            cum += d;
            lo_c = std::min(lo_c, cum);
            hi_c = std::max(hi_c, cum);
            ss += d * d;
          }
          const double sd = std::sqrt(ss / s);
          if (sd > 0) {
            acc += (hi_c - lo_c) / sd;
            ++used;
          }
        }
        if (used == 0) continue;
        lx.push_back(std::log(s));
        // Subtracting log E[R/S] removes the small-window bias; adding back 0.5 log s keeps the
        // slope equal to H rather than H - 0.5.
        ly.push_back(std::log(acc / used) - std::log(expected_rs(s)) + 0.5 * std::log(s));
      }
    } else {
      // Profile of the demeaned increments.
      double mean = 0;
      for (double v : z) mean += v;
      mean /= ni;
      std::vector<double> y(ni);
      double cum = 0;
      for (int i = 0; i < ni; ++i) y[i] = cum += z[i] - mean;
      for (int s : log_scales(lo, hi, options.num_scales)) {
        const int blocks = ni / s;
        // Windows from the start and from the end, so the tail is not ignored.
        double f2 = 0;
        int count = 0;
        // Linear fit on i = 0..s-1 (closed-form centred sums).
        const double im = (s - 1) / 2.0;
        const double sii = s * (static_cast<double>(s) * s - 1) / 12.0;
        for (int pass = 0; pass < 2; ++pass) {
          for (int b = 0; b < blocks; ++b) {
            const size_t start = pass == 0
                                     ? static_cast<size_t>(b) * s
                                     : static_cast<size_t>(ni) - static_cast<size_t>(b + 1) * s;
            const double* w = y.data() + start;
            double wm = 0;
            for (int i = 0; i < s; ++i) wm += w[i];
            wm /= s;
            double siy = 0;
            for (int i = 0; i < s; ++i) siy += (i - im) * (w[i] - wm);
            const double slope = siy / sii;
            double ss = 0;
            for (int i = 0; i < s; ++i) {
              const double r = w[i] - wm - slope * (i - im);
              ss += r * r;
            }
            f2 += ss / s;
            ++count;
          }
        }
        if (!(f2 > 0)) continue;
        lx.push_back(std::log(s));
        ly.push_back(0.5 * std::log(f2 / count));
      }
    }
  }
  if (lx.size() < 3) {
    return Status(StatusCode::kInsufficientData, "Hurst fit needs at least 3 usable scales");
  }
  const Line line = fit_line(lx, ly);
  return HurstResult{line.slope, line.intercept, line.r2, static_cast<int>(lx.size())};
}

}  // namespace pairflow::stats
