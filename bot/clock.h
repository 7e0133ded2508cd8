// Time as the core sees it: unix seconds from an injectable function, so tests control it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace bot {

using Clock = std::function<int64_t()>;

inline int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace bot
