// MemorySessionStore: the SessionStore that keeps everything in this process's memory.
// For tests and `mailguide chat`; nothing survives the process, and several processes never
// share it. Behaves exactly like the SQLite and Redis stores (same contract tests).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bot/clock.h"
#include "bot/hit_counter.h"
#include "bot/session_store.h"

namespace bot {

// Thread-safe: one mutex guards all state. Sessions are kept in their encoded form, so a
// round trip through this store exercises the same EncodeSession/DecodeSession as the
// persistent stores.
class MemorySessionStore final : public SessionStore {
 public:
  explicit MemorySessionStore(Clock clock = UnixNow);

  Result<std::optional<Session>> Load(const std::string& key) override;
  using SessionStore::Commit;
  Status Commit(const Session& session, int64_t expected_version, const TurnRecord& turn,
                const EventClaim& claim) override;
  Status Erase(const std::string& key) override;
  Result<std::vector<TurnRecord>> Turns(const std::string& key) override;
  Result<std::string> GetPreference(const std::string& user_key, const std::string& name) override;
  Status SetPreference(const std::string& user_key, const std::string& name,
                       const std::string& value) override;
  Result<bool> ClaimEvent(const std::string& event_id, int64_t ttl_seconds) override;
  Result<int64_t> CountHit(const std::string& key, int64_t window_seconds) override;
  Result<std::vector<OutcomeRecord>> Outcomes(int64_t since, int64_t until) override;
  Status Ping() override;

 private:
  struct Stored {
    int64_t version = 0;
    std::string bytes;  // EncodeSession(session)
    OutcomeRecord outcome;
  };
  void PurgeEventsLocked(int64_t now);
  // True while an unexpired claim of `event_id` is held (expired ones are purged first).
  bool ClaimedLocked(const std::string& event_id, int64_t now);

  Clock clock_;
  std::mutex mu_;
  std::map<std::string, Stored> sessions_;
  std::map<std::string, std::vector<TurnRecord>> turns_;
  // Earlier cases of a conversation (a new case began in the same DM or thread), by key and
  // created_at: their outcomes stay countable after the session moved on.
  std::map<std::pair<std::string, int64_t>, OutcomeRecord> earlier_cases_;
  std::map<std::pair<std::string, std::string>, std::string> preferences_;
  std::map<std::string, int64_t> events_;  // event id -> expires at
  HitCounter hits_;
  int64_t next_event_purge_ = 0;
};

}  // namespace bot
