#include "bot/server/lazy_store.h"

namespace bot {

LazyStore::LazyStore(Opener open, std::chrono::milliseconds retry_every, std::unique_ptr<SessionStore> already)
    : open_(std::move(open)), retry_every_(retry_every), owned_(std::move(already)) {
  store_ = owned_.get();
}

SessionStore* LazyStore::Get(Status& error) {
  if (SessionStore* s = store_.load(std::memory_order_acquire)) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (owned_) return owned_.get();
  const auto now = std::chrono::steady_clock::now();
  if (!tried_ || now - last_try_ >= retry_every_) {
    tried_ = true;
    last_try_ = now;
    auto opened = open_();
    if (opened.ok()) {
      owned_ = std::move(opened).value();
      store_.store(owned_.get(), std::memory_order_release);
      return owned_.get();
    }
    last_error_ = opened.status();
  }
  error = Status::Unavailable("the session store is not reachable yet: " + last_error_.message());
  return nullptr;
}

#define LAZY_CALL(call)          \
  Status error;                  \
  SessionStore* s = Get(error);  \
  if (!s) return error;          \
  return s->call

Result<std::optional<Session>> LazyStore::Load(const std::string& key) { LAZY_CALL(Load(key)); }
Status LazyStore::Commit(const Session& session, int64_t expected_version, const TurnRecord& turn,
                         const EventClaim& claim) {
  LAZY_CALL(Commit(session, expected_version, turn, claim));
}
Status LazyStore::Erase(const std::string& key) { LAZY_CALL(Erase(key)); }
Result<std::vector<TurnRecord>> LazyStore::Turns(const std::string& key) { LAZY_CALL(Turns(key)); }
Result<std::string> LazyStore::GetPreference(const std::string& user_key, const std::string& name) {
  LAZY_CALL(GetPreference(user_key, name));
}
Status LazyStore::SetPreference(const std::string& user_key, const std::string& name, const std::string& value) {
  LAZY_CALL(SetPreference(user_key, name, value));
}
Result<bool> LazyStore::ClaimEvent(const std::string& event_id, int64_t ttl_seconds) {
  LAZY_CALL(ClaimEvent(event_id, ttl_seconds));
}
Result<int64_t> LazyStore::CountHit(const std::string& key, int64_t window_seconds) {
  LAZY_CALL(CountHit(key, window_seconds));
}
Result<std::vector<OutcomeRecord>> LazyStore::Outcomes(int64_t since, int64_t until) {
  LAZY_CALL(Outcomes(since, until));
}
Status LazyStore::Ping() { LAZY_CALL(Ping()); }

#undef LAZY_CALL

}  // namespace bot
