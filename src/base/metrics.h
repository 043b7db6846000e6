// Metrics in Prometheus' text exposition format (version 0.0.4): counters, gauges and histograms,
// registered by name and labels, rendered by `/metrics`.
//
// Names follow Prometheus' rules: `pairflow_` prefix, base units (seconds, bytes), `_total` for
// counters. Registration (counter(), gauge(), histogram()) takes a lock and may allocate: do it at
// start-up or where a new label value first appears, not per message. Updating a registered metric
// is a relaxed atomic operation, safe from any thread; render() takes the lock and may run on
// another thread at the same time. The registry owns the metrics; the references stay valid for
// its lifetime.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pairflow {

class Counter {
 public:
  void add(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  // For counts kept elsewhere and copied in (they only grow).
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  std::vector<double> bounds() const { return bounds_; }
  // Cumulative counts per bound (the last is +Inf), the sum and the count.
  std::vector<std::uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Exponential bucket bounds: start, start*factor, ... (count of them).
std::vector<double> exponential_buckets(double start, double factor, int count);

class MetricsRegistry {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // The same name and labels give the same metric. A name registered as another kind is an
  // invariant violation (aborts).
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const Labels& labels = {});
  // Every metric, families in name order, series in label order.
  std::string render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by rendered labels
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, Kind kind, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

// Label values escaped as the exposition format wants (\\, \", \n), as `k="v",k2="v2"`.
std::string render_labels(const MetricsRegistry::Labels& labels);

}  // namespace pairflow
