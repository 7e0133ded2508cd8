// HitCounter: rate-limit hit counts in fixed windows, kept in this process's memory. The
// stores that serve one process (memory, SQLite) count with it; Redis counts on the server so
// that replicas share the counts.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "bot/clock.h"
#include "bot/status.h"

namespace bot {

// Thread-safe. Finished windows are dropped at most once a minute.
class HitCounter {
 public:
  explicit HitCounter(Clock clock) : clock_(std::move(clock)) {}

  // Counts one hit against `key` in the current window of `window_seconds`; returns the
  // count so far in that window. InvalidArgument for a window that is not positive.
  Result<int64_t> CountHit(const std::string& key, int64_t window_seconds);

 private:
  struct Window {
    int64_t start = 0;
    int64_t end = 0;
    int64_t count = 0;
  };

  Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
  int64_t next_purge_ = 0;
};

}  // namespace bot
