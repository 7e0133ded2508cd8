#include "bot/memory_session_store.h"

#include <algorithm>
#include <tuple>

namespace bot {

namespace {

// Kept in step with SqliteSessionStore's checks, so every store rejects the same calls.

}  // namespace

MemorySessionStore::MemorySessionStore(Clock clock) : clock_(clock), hits_(std::move(clock)) {}

Result<std::optional<Session>> MemorySessionStore::Load(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::optional<Session>();
  Result<Session> decoded = DecodeSession(it->second.bytes);
  if (!decoded.ok()) {
    return Status::Internal("stored session " + key + " is unreadable: " + decoded.status().message());
  }
  return std::optional<Session>(std::move(decoded).value());
}

Status MemorySessionStore::Commit(const Session& session, int64_t expected_version,
                                  const TurnRecord& turn, const EventClaim& claim) {
  if (Status s = CheckCommitArguments(session, expected_version, claim); !s.ok()) return s;
  std::string bytes = EncodeSession(session);
  const int64_t now = clock_();
  std::lock_guard lock(mu_);
  if (!claim.event_id.empty() && ClaimedLocked(claim.event_id, now)) {
    return Status::AlreadyExists("event " + claim.event_id + " was handled before: a repeated delivery");
  }
  auto it = sessions_.find(session.key);
  int64_t stored_version = it == sessions_.end() ? 0 : it->second.version;
  if (stored_version != expected_version) {
    return Status::Conflict("session " + session.key + " changed since it was loaded (expected version " +
                            std::to_string(expected_version) + ", stored " +
                            std::to_string(stored_version) + "): reload and retry");
  }
  if (it != sessions_.end() && it->second.outcome.created_at != session.created_at) {
    // A new case in the same conversation: the previous one keeps its outcome; one left open
    // was abandoned for the new one.
    OutcomeRecord earlier = it->second.outcome;
    if (earlier.outcome == "open") earlier.outcome = "abandoned";
    earlier_cases_[{session.key, earlier.created_at}] = std::move(earlier);
  }
  Stored& stored = sessions_[session.key];
  stored.version = session.version;
  stored.bytes = std::move(bytes);
  stored.outcome = OutcomeRecord{session.key,     session.flow,       session.panel,     session.outcome,
                                 session.outcome_step, session.created_at, session.updated_at};
  turns_[session.key].push_back(turn);
  if (!claim.event_id.empty()) events_[claim.event_id] = now + claim.ttl_seconds;
  return Status::Ok();
}

Status MemorySessionStore::Erase(const std::string& key) {
  std::lock_guard lock(mu_);
  sessions_.erase(key);
  turns_.erase(key);
  std::erase_if(earlier_cases_, [&key](const auto& entry) { return entry.first.first == key; });
  return Status::Ok();
}

Result<std::vector<TurnRecord>> MemorySessionStore::Turns(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = turns_.find(key);
  if (it == turns_.end()) return std::vector<TurnRecord>();
  return it->second;
}

Result<std::string> MemorySessionStore::GetPreference(const std::string& user_key,
                                                      const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = preferences_.find({user_key, name});
  return it == preferences_.end() ? std::string() : it->second;
}

Status MemorySessionStore::SetPreference(const std::string& user_key, const std::string& name,
                                         const std::string& value) {
  if (user_key.empty() || name.empty()) {
    return Status::InvalidArgument("a preference needs a user key and a name");
  }
  std::lock_guard lock(mu_);
  preferences_[{user_key, name}] = value;
  return Status::Ok();
}

Result<bool> MemorySessionStore::ClaimEvent(const std::string& event_id, int64_t ttl_seconds) {
  if (event_id.empty()) return Status::InvalidArgument("cannot claim an empty event id");
  if (ttl_seconds <= 0) return Status::InvalidArgument("an event claim needs a positive ttl_seconds");
  const int64_t now = clock_();
  std::lock_guard lock(mu_);
  if (ClaimedLocked(event_id, now)) return false;
  events_[event_id] = now + ttl_seconds;  // new, or its earlier claim has expired
  return true;
}

Result<int64_t> MemorySessionStore::CountHit(const std::string& key, int64_t window_seconds) {
  return hits_.CountHit(key, window_seconds);
}

Result<std::vector<OutcomeRecord>> MemorySessionStore::Outcomes(int64_t since, int64_t until) {
  std::vector<OutcomeRecord> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, stored] : sessions_) {
      if (stored.outcome.updated_at >= since && stored.outcome.updated_at <= until) {
        out.push_back(stored.outcome);
      }
    }
    for (const auto& [id, earlier] : earlier_cases_) {
      if (earlier.updated_at >= since && earlier.updated_at <= until) out.push_back(earlier);
    }
  }
  // Same order as the SQLite store: oldest update first, then by key, then by case.
  std::sort(out.begin(), out.end(), [](const OutcomeRecord& a, const OutcomeRecord& b) {
    return std::tie(a.updated_at, a.key, a.created_at) < std::tie(b.updated_at, b.key, b.created_at);
  });
  return out;
}

Status MemorySessionStore::Ping() { return Status::Ok(); }

// Expired event ids are dropped at most once a minute, so a long `chat` or test run does not
// grow without bound.
void MemorySessionStore::PurgeEventsLocked(int64_t now) {
  if (now < next_event_purge_) return;
  next_event_purge_ = now + 60;
  std::erase_if(events_, [now](const auto& entry) { return entry.second <= now; });
}

bool MemorySessionStore::ClaimedLocked(const std::string& event_id, int64_t now) {
  PurgeEventsLocked(now);
  auto it = events_.find(event_id);
  return it != events_.end() && it->second > now;
}

}  // namespace bot
