#include "bot/hit_counter.h"

#include "bot/session_store.h"

namespace bot {

Result<int64_t> HitCounter::CountHit(const std::string& key, int64_t window_seconds) {
  if (window_seconds <= 0) return Status::InvalidArgument("a rate-limit window must be positive");
  const int64_t now = clock_();
  const int64_t start = WindowStart(now, window_seconds);
  std::lock_guard lock(mu_);
  if (now >= next_purge_) {
    next_purge_ = now + 60;
    std::erase_if(windows_, [now](const auto& entry) { return entry.second.end <= now; });
  }
  Window& w = windows_[key];
  if (w.start != start || w.end != start + window_seconds) w = Window{start, start + window_seconds, 0};
  return ++w.count;
}

}  // namespace bot
