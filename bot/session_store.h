// SessionStore: where conversations, their turn logs, per-user preferences, seen platform
// event ids and rate-limit counters live. Implementations: memory (tests, `chat`), SQLite
// (the embedded default) and Redis (several replicas). All pass tests/bot/session_store_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bot/session.h"
#include "bot/status.h"

namespace bot {

// One entry of a conversation's append-only log.
struct TurnRecord {
  int64_t at = 0;
  std::string user;
  std::string step;    // where the conversation was when the turn arrived
  std::string input;   // the normalised answer ("yes", "back", "choice:start:sending"...) or text, truncated
  std::string result;  // phase after the turn
};

// A platform event id to claim in the same atomic step as a Commit, as ClaimEvent claims it.
struct EventClaim {
  std::string event_id;  // empty: no claim
  int64_t ttl_seconds = 0;
};

// A conversation's outcome as reported on the outcomes page and in /metrics.
struct OutcomeRecord {
  std::string key;
  std::string flow;
  std::string panel;
  std::string outcome;  // "open", "resolved", "escalated", "abandoned"
  std::string step;     // where it was resolved
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// Thread-safe: every method may be called from any thread.
class SessionStore {
 public:
  SessionStore() = default;
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;
  virtual ~SessionStore() = default;

  // The stored session, or nullopt. Unavailable when the store cannot be reached.
  virtual Result<std::optional<Session>> Load(const std::string& key) = 0;

  // Atomically: stores `session` if the stored version equals `expected_version` (0 = must
  // not exist yet) and appends `turn` to its log. Conflict when someone else wrote first.
  // The caller sets session.version to expected_version + 1.
  // With a claim, the event id is claimed in the same step: AlreadyExists, and nothing
  // written, when it was claimed before (a repeated delivery); a Conflict claims nothing.
  // One write where a ClaimEvent and then a Commit would take two.
  virtual Status Commit(const Session& session, int64_t expected_version, const TurnRecord& turn,
                        const EventClaim& claim) = 0;
  Status Commit(const Session& session, int64_t expected_version, const TurnRecord& turn) {
    return Commit(session, expected_version, turn, EventClaim{});
  }

  virtual Status Erase(const std::string& key) = 0;

  // The conversation's log, oldest first.
  virtual Result<std::vector<TurnRecord>> Turns(const std::string& key) = 0;

  // Per-user preferences (e.g. "panel"); "" when unset.
  virtual Result<std::string> GetPreference(const std::string& user_key, const std::string& name) = 0;
  virtual Status SetPreference(const std::string& user_key, const std::string& name,
                               const std::string& value) = 0;

  // True the first time `event_id` is claimed within `ttl_seconds`, false for a repeat.
  virtual Result<bool> ClaimEvent(const std::string& event_id, int64_t ttl_seconds) = 0;

  // Counts one hit against `key` in the current fixed window; returns the count so far.
  virtual Result<int64_t> CountHit(const std::string& key, int64_t window_seconds) = 0;

  // Outcomes of every case (each conversation may hold several over time, one after another)
  // last updated in [since, until].
  virtual Result<std::vector<OutcomeRecord>> Outcomes(int64_t since, int64_t until) = 0;

  // Ok when the store is reachable (for /readyz).
  virtual Status Ping() = 0;
};

// For implementations: the argument rules every Commit enforces the same way (a non-empty
// key; session.version == expected_version + 1; a claim's positive ttl), as InvalidArgument.
Status CheckCommitArguments(const Session& session, int64_t expected_version, const EventClaim& claim);

// For implementations: the start of the fixed window of `window` seconds holding `now`.
inline int64_t WindowStart(int64_t now, int64_t window) { return now - (((now % window) + window) % window); }

}  // namespace bot
