// SqliteSessionStore: the embedded default SessionStore, one SQLite file in WAL mode.
// Every answered turn is committed (and fsynced) before Commit returns, so neither kill -9
// nor a power cut loses it. Several processes may open the same file (`serve` and a
// `chat --session` beside it); SQLite's locking keeps them consistent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bot/clock.h"
#include "bot/session_store.h"

namespace bot {

struct SqliteStoreOptions {
  // Rows not written for this long are deleted (sessions with their turn logs, expired
  // event claims and rate-limit windows). Keep it longer than MAILGUIDE_SESSION_TTL so the
  // engine can still tell someone their conversation expired: the factory uses TTL + 7 days.
  int64_t retention_seconds = 8 * 86400;
  // The lazy purge runs on open and then at most this often, after a Commit.
  int64_t purge_interval_seconds = 3600;
  // How long a write waits for another process holding the database lock.
  int busy_timeout_ms = 5000;
};

class SqliteSessionStore final : public SessionStore {
 public:
  using Options = SqliteStoreOptions;

  // Opens (creating if needed) the database at `path`; its directory must exist. Fails with
  // InvalidArgument when the file is not a mailguide session database (corrupt, another
  // program's, or a newer schema), Unavailable when it cannot be opened or written.
  static Result<std::unique_ptr<SqliteSessionStore>> Open(const std::string& path, Clock clock = UnixNow,
                                                          Options options = {});
  ~SqliteSessionStore() override;

  // Thread-safe. Writes (turns and event claims) go through one connection and are grouped:
  // the writes waiting while a batch is being written share the next transaction and fsync.
  // Loads read through a second connection, so they never wait behind that fsync.
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
  // Counted in this process's memory, not in the file: a hit count need not survive a
  // restart, and writing one per lookup cost a transaction under the store's lock on every
  // slash command (tests/bench/README.md). Processes sharing the file count separately.
  Result<int64_t> CountHit(const std::string& key, int64_t window_seconds) override;
  Result<std::vector<OutcomeRecord>> Outcomes(int64_t since, int64_t until) override;
  Status Ping() override;

  // The bytes stored for `key` (EncodeSession's output), "" when absent: lets tests check the
  // on-disk size without opening the file themselves.
  Result<std::string> StoredBytesForTesting(const std::string& key);
  // Runs the retention purge now, whatever the interval.
  Status PurgeForTesting();

 private:
  struct Impl;
  explicit SqliteSessionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bot
