#include "bot/server/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace bot {

namespace {

std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

void Header(const std::string& name, const std::string& help, const char* type, std::string& out) {
  // HELP text escapes backslash and newline only.
  std::string h;
  for (char c : help) {
    if (c == '\\') {
      h += "\\\\";
    } else if (c == '\n') {
      h += "\\n";
    } else {
      h += c;
    }
  }
  out += "# HELP " + name + " " + h + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds) : bounds_(bounds) {
  assert(bounds_.size() <= kMaxBuckets);
  if (bounds_.size() > kMaxBuckets) bounds_.resize(kMaxBuckets);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  if (i < bounds_.size()) buckets_[i].fetch_add(1, std::memory_order_relaxed);  // else only +Inf
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

void RenderFamily(const CounterFamily& family, std::string& out) {
  Header(family.name(), family.help(), "counter", out);
  family.ForEach([&](const std::vector<std::string>& values, const Counter& c) {
    out += family.name() + LabelText(family.labels(), values) + " " + std::to_string(c.Value()) + "\n";
  });
}

void RenderFamily(const GaugeFamily& family, std::string& out) {
  Header(family.name(), family.help(), "gauge", out);
  family.ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
    out += family.name() + LabelText(family.labels(), values) + " " + FormatSampleValue(g.Value()) + "\n";
  });
}

void RenderFamily(const HistogramFamily& family, std::string& out) {
  Header(family.name(), family.help(), "histogram", out);
  family.ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
    // Read the total first: buckets incremented meanwhile can only make +Inf look small, so
    // +Inf is the larger of the count and the cumulative sum (keeps the series monotonic).
    const uint64_t count = h.Count();
    const double sum = h.Sum();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.bounds().size(); ++i) {
      cumulative += h.BucketCount(i);
      out += family.name() + "_bucket" +
             LabelText(family.labels(), values, "le=\"" + FormatSampleValue(h.bounds()[i]) + "\"") + " " +
             std::to_string(cumulative) + "\n";
    }
    const uint64_t total = std::max(count, cumulative);
    out += family.name() + "_bucket" + LabelText(family.labels(), values, "le=\"+Inf\"") + " " +
           std::to_string(total) + "\n";
    out += family.name() + "_sum" + LabelText(family.labels(), values) + " " + FormatSampleValue(sum) + "\n";
    out += family.name() + "_count" + LabelText(family.labels(), values) + " " + std::to_string(total) + "\n";
  });
}

}  // namespace bot
