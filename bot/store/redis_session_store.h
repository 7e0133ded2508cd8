// RedisSessionStore: the SessionStore that several `mailguide serve` replicas share, chosen with
// MAILGUIDE_STORE=redis://HOST:PORT[/DB]. Sessions hold EncodeSession's bytes (the same bytes
// as the SQLite store); every Commit is one Lua script that checks the version and writes the
// session, its turn log and the outcome index together, so two replicas answering clicks on
// one conversation never lose or double a turn.
//
// Keys (PREFIX defaults to "mailguide:"; KEY is ConversationRef::Key() as given):
//   PREFIX sess:KEY            hash  v, data (EncodeSession), flow, panel, outcome, outcome_step,
//                                    created_at, updated_at            TTL retention_seconds
//   PREFIX turns:KEY           list  one JSON array [at, user, step, input, result] per turn,
//                                    oldest first                      TTL retention_seconds
//   PREFIX outcomes            zset  session key scored by updated_at (Outcomes' index)
//   PREFIX outcomes:expiry     zset  session key scored by the store clock's expiry time; a
//                                    Commit drops index entries whose session has expired
//   PREFIX pref:USER           hash  preference name -> value (kept, like SQLite keeps them)
//   PREFIX event:ID            string the claim's expiry (unix s)      TTL the claim's ttl (SET NX EX)
//   PREFIX rate:W:START:KEY    string hit count of the W-second window at START   TTL W
//
// While Redis is unreachable every call returns Unavailable within about the connect or command
// timeout, saying "the Redis store at HOST:PORT is unreachable: ...; try again in a minute". Nothing
// throws; the store reconnects by itself once Redis is back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bot/clock.h"
#include "bot/session_store.h"

namespace bot {

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;                             // SELECTed on every new connection
  std::string key_prefix = "mailguide:";  // lets several deployments share one Redis
  // How long sessions and their turn logs live after their last Commit. Longer than
  // MAILGUIDE_SESSION_TTL so the engine can say a conversation expired: the factory uses
  // TTL + 7 days, like the SQLite store's retention.
  int64_t retention_seconds = 8 * 86400;
  int pool_size = 8;               // connections kept open; callers beyond that wait
  int connect_timeout_ms = 500;    // TCP connect (DNS resolution is not bounded by it)
  int command_timeout_ms = 1000;   // each read or write on a connection
  int pool_wait_ms = 1000;         // how long a call waits for a free connection when all are busy
  // After a failed connect, calls fail at once with the same message for this long instead of
  // each waiting for its own connect to fail.
  int reconnect_backoff_ms = 200;
};

class RedisSessionStore final : public SessionStore {
 public:
  using Options = RedisStoreOptions;

  // Connects once to check that Redis answers and that the database exists. InvalidArgument
  // for bad options or a database number Redis does not have; Unavailable when Redis cannot be
  // reached (nothing is kept open then).
  static Result<std::unique_ptr<RedisSessionStore>> Open(Options options, Clock clock = UnixNow);
  ~RedisSessionStore() override;

  // Thread-safe: each call borrows one connection from the pool.
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

  // "HOST:PORT/DB", for logs.
  std::string Endpoint() const;
  // Connections currently open (idle or in use): lets tests see the pool's bound.
  int OpenConnectionsForTesting() const;

 private:
  struct Impl;
  explicit RedisSessionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bot
