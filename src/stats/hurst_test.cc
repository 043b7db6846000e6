// Hurst estimators on exact fractional Gaussian noise (Davies-Harte circulant embedding).
#include "stats/hurst.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

namespace pairflow::stats {
namespace {

using Complex = std::complex<double>;

// In-place iterative radix-2 FFT (size a power of two).
void fft(std::vector<Complex>& a) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2 * std::numbers::pi / static_cast<double>(len);
    const Complex wl(std::cos(ang), std::sin(ang));
    for (size_t i = 0; i < n; i += len) {
      Complex w(1);
      for (size_t k = 0; k < len / 2; ++k, w *= wl) {
        const Complex u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
    }
  }
}

// Two independent exact fGn paths of length n (power of two) with Hurst index h.
std::pair<std::vector<double>, std::vector<double>> fgn(int n, double h, std::mt19937_64& rng) {
  auto gamma = [h](double k) {
    return 0.5 * (std::pow(std::fabs(k + 1), 2 * h) - 2 * std::pow(std::fabs(k), 2 * h) +
                  std::pow(std::fabs(k - 1), 2 * h));
  };
  const int m = 2 * n;
  std::vector<Complex> c(m);
  for (int k = 0; k <= n; ++k) c[k] = gamma(k);
  for (int k = n + 1; k < m; ++k) c[k] = gamma(m - k);
  fft(c);  // eigenvalues of the circulant embedding (real, non-negative for fGn)
  std::normal_distribution<double> z;
  std::vector<Complex> w(m);
  for (int k = 0; k < m; ++k) {
    const double lambda = std::max(0.0, c[k].real());
    w[k] = std::sqrt(lambda / m) * Complex(z(rng), z(rng));
  }
  fft(w);  // real and imaginary parts are independent fGn samples
  std::vector<double> a(n), b(n);
  for (int i = 0; i < n; ++i) {
    a[i] = w[i].real();
    b[i] = w[i].imag();
  }
  return {a, b};
}

std::vector<double> integrate(const std::vector<double>& inc) {
  std::vector<double> x(inc.size() + 1);
  x[0] = 100;
  for (size_t i = 0; i < inc.size(); ++i) x[i + 1] = x[i] + inc[i];
  return x;
}

struct Tolerance {
  HurstMethod method;
  const char* name;
  double tol;  // on the mean over replications; see docs/statistics.md
};

TEST(Hurst, FractionalGaussianNoise) {
  const Tolerance methods[] = {{HurstMethod::kVariance, "variance", 0.03},
                               {HurstMethod::kRescaledRange, "rs", 0.07},
                               {HurstMethod::kDfa, "dfa", 0.03}};
  const int n = 4096, reps = 16;
  for (double h : {0.3, 0.5, 0.7}) {
    std::mt19937_64 rng(1234 + static_cast<int>(h * 10));
    std::vector<std::vector<double>> paths;
    for (int r = 0; r < reps / 2; ++r) {
      auto [a, b] = fgn(n, h, rng);
      paths.push_back(integrate(a));
      paths.push_back(integrate(b));
    }
    for (const Tolerance& m : methods) {
      double sum = 0, sum2 = 0;
      for (const auto& x : paths) {
        HurstOptions opt;
        opt.method = m.method;
        Result<HurstResult> r = hurst(x, opt);
        ASSERT_TRUE(r.is_ok()) << r.status().message();
        sum += r->hurst;
        sum2 += r->hurst * r->hurst;
      }
      const double mean = sum / reps;
      const double sd = std::sqrt(std::max(0.0, sum2 / reps - mean * mean));
      std::printf("hurst %-8s H=%.1f n=%d: mean %.4f (bias %+.4f) sd %.4f\n", m.name, h, n, mean,
                  mean - h, sd);
      EXPECT_NEAR(mean, h, m.tol) << m.name << " H=" << h;
    }
  }
}

TEST(Hurst, Errors) {
  EXPECT_FALSE(hurst(std::vector<double>(10, 1.0)).is_ok());
  std::vector<double> x(100);
  for (int i = 0; i < 100; ++i) x[i] = std::sin(i);
  x[5] = std::nan("");
  EXPECT_EQ(hurst(x).status().message(), "series contains NaN at row 5");
  x[5] = 0;
  HurstOptions opt;
  opt.min_scale = 50;
  opt.max_scale = 20;
  EXPECT_FALSE(hurst(x, opt).is_ok());
}

}  // namespace
}  // namespace pairflow::stats
