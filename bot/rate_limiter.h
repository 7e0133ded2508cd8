// Rate limits on the turns that cost something: starting a case (a conversation) and
// answering a lookup (an SMTP code or pasted bounce, /mailguide check), per user and per
// workspace. Counted with SessionStore::CountHit in fixed one-minute windows, so replicas
// sharing a Redis store share the counts; memory and SQLite count per process.
// Platform-neutral: the engine consults it before it starts a case or answers a lookup, and
// a turn over a limit gets a polite reply and changes nothing.
#pragma once

#include <cstdint>
#include <optional>

#include "bot/message.h"
#include "bot/session_store.h"
#include "bot/status.h"

namespace bot {

struct RateLimits {
  int64_t user_per_minute = 0;       // per platform:workspace:user; 0 = no limit
  int64_t workspace_per_minute = 0;  // per platform:workspace; 0 = no limit
  int64_t window_seconds = 60;

  bool enabled() const { return user_per_minute > 0 || workspace_per_minute > 0; }
  // What `mailguide serve` uses unless MAILGUIDE_RATE_USER_PER_MIN /
  // MAILGUIDE_RATE_WORKSPACE_PER_MIN say otherwise: a person works through a case in a few
  // turns a minute and pastes a few codes; a busy workspace has a few dozen people at it.
  static RateLimits Serving() { return RateLimits{20, 300, 60}; }
};

enum class RateKind { kStart, kLookup };

class RateLimiter {
 public:
  RateLimiter(SessionStore& store, const RateLimits& limits) : store_(store), limits_(limits) {}

  // Counts one start or lookup for `ref`'s user and workspace. nullopt: go ahead. A reply:
  // a limit is reached; send that reply instead and change nothing. Unavailable when the
  // store cannot count.
  Result<std::optional<Reply>> Admit(const ConversationRef& ref, RateKind kind);

 private:
  SessionStore& store_;
  const RateLimits& limits_;
};

}  // namespace bot
