// Metrics: counters, gauges and fixed-bucket histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics. Updates are atomic
// increments; a label set is looked up under a shared lock and created once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <type_traits>
#include <string>
#include <vector>

namespace bot {

// A monotonically increasing count. Thread-safe, lock-free.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe, lock-free.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending), plus their count and sum.
// Thread-safe, lock-free; a scrape may see a count one observation ahead of the sum.
class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 16;
  explicit Histogram(const std::vector<double>& bounds);

  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  uint64_t BucketCount(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }  // not cumulative
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// One metric name with a fixed list of label names; each distinct list of label values is a
// child created on first use and kept for the life of the family (callers keep label values
// to a bounded set: endpoints, platforms, flows, status codes).
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(bounds)) {}

  // The child for `values` (one per label name, in order). The reference stays valid.
  T& With(const std::vector<std::string>& values) {
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      auto it = children_.find(values);
      if (it != children_.end()) return *it->second;
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = Make();
    return *slot;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }

  // Calls f(values, child) for every child, in label order.
  template <typename F>
  void ForEach(F f) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (const auto& [values, child] : children_) f(values, *child);
  }

 private:
  std::unique_ptr<T> Make() {
    if constexpr (std::is_same_v<T, Histogram>) {
      return std::make_unique<T>(bounds_);
    } else {
      return std::make_unique<T>();
    }
  }

  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Appends a family to `out` in the text format: # HELP, # TYPE, then one line per child
// (histograms: cumulative _bucket lines with le, +Inf, _sum and _count).
void RenderFamily(const CounterFamily& family, std::string& out);
void RenderFamily(const GaugeFamily& family, std::string& out);
void RenderFamily(const HistogramFamily& family, std::string& out);

// A label value escaped for the text format (backslash, double quote and newline).
std::string EscapeLabelValue(const std::string& value);
// A sample value: integers without a fraction, +Inf/-Inf/NaN spelled as Prometheus does.
std::string FormatSampleValue(double value);

}  // namespace bot
