// LazyStore: a SessionStore that opens its real store on first use and keeps trying until it
// can, so `mailguide serve` with MAILGUIDE_STORE=redis://… starts while Redis is still down:
// /readyz answers 503 and users are told to try again in a minute until Redis answers, with no
// restart needed. (A store that opened once reconnects by itself; see RedisSessionStore.)
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "bot/session_store.h"

namespace bot {

class LazyStore final : public SessionStore {
 public:
  using Opener = std::function<Result<std::unique_ptr<SessionStore>>()>;

  // `open` is called at most once per `retry_every`; calls in between fail at once with the
  // last error. `already` (optional) is a store the caller opened itself.
  LazyStore(Opener open, std::chrono::milliseconds retry_every,
            std::unique_ptr<SessionStore> already = nullptr);

  // Each method: Unavailable ("the session store is not reachable yet: …") until the store
  // opens, then the real store's answer. Thread-safe.
  Result<std::optional<Session>> Load(const std::string& key) override;
  using SessionStore::Commit;
  Status Commit(const Session& session, int64_t expected_version, const TurnRecord& turn,
                const EventClaim& claim) override;
  Status Erase(const std::string& key) override;
  Result<std::vector<TurnRecord>> Turns(const std::string& key) override;
  Result<std::string> GetPreference(const std::string& user_key, const std::string& name) override;
  Status SetPreference(const std::string& user_key, const std::string& name, const std::string& value) override;
  Result<bool> ClaimEvent(const std::string& event_id, int64_t ttl_seconds) override;
  Result<int64_t> CountHit(const std::string& key, int64_t window_seconds) override;
  Result<std::vector<OutcomeRecord>> Outcomes(int64_t since, int64_t until) override;
  Status Ping() override;

 private:
  // The open store, or null with `error` set.
  SessionStore* Get(Status& error);

  Opener open_;
  std::chrono::milliseconds retry_every_;
  std::atomic<SessionStore*> store_{nullptr};
  std::mutex mu_;  // guards owned_, last_try_, last_error_
  std::unique_ptr<SessionStore> owned_;
  std::chrono::steady_clock::time_point last_try_{};
  bool tried_ = false;
  Status last_error_;
};

}  // namespace bot
