#include "bot/store/sqlite_session_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "bot/hit_counter.h"

namespace bot {

namespace {

// "MGSS" in PRAGMA application_id marks a file as ours, so a path pointing at another
// program's database is refused instead of written into.
constexpr int64_t kApplicationId = 0x4d475353;
constexpr int64_t kSchemaVersion = 2;

// Schema version 1. `data` holds EncodeSession's bytes, the single source of truth for the
// session; the other session columns copy what Outcomes and the purge need, so neither
// decodes every row. `stored_at` is the store's clock at the last write (the purge uses it;
// `updated_at` is the engine's and is what Outcomes filters on). A turn's `seq` is the
// session version its Commit wrote, so turns are ordered and can never be doubled.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE sessions (
  key          TEXT PRIMARY KEY,
  version      INTEGER NOT NULL,
  data         TEXT NOT NULL,
  flow         TEXT NOT NULL,
  panel        TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  outcome_step TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  stored_at    INTEGER NOT NULL
);
CREATE INDEX sessions_by_updated_at ON sessions (updated_at);
CREATE INDEX sessions_by_stored_at ON sessions (stored_at);
CREATE TABLE turns (
  key    TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  at     INTEGER NOT NULL,
  user   TEXT NOT NULL,
  step   TEXT NOT NULL,
  input  TEXT NOT NULL,
  result TEXT NOT NULL,
  PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE TABLE preferences (
  user_key TEXT NOT NULL,
  name     TEXT NOT NULL,
  value    TEXT NOT NULL,
  PRIMARY KEY (user_key, name)
) WITHOUT ROWID;
CREATE TABLE events (
  id         TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
-- counters: rate-limit windows, written by earlier builds only; CountHit now counts in
-- memory. Kept so files stay one schema; old rows are purged as before.
CREATE TABLE counters (
  key          TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  window_end   INTEGER NOT NULL,
  count        INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Schema version 2: earlier cases of a conversation. When a new case starts in the same DM or
// thread (a session with another created_at replaces the stored one), the stored case's
// outcome row moves here, so Outcomes still counts it.
constexpr const char* kMigrateTo2 = R"sql(
CREATE TABLE cases (
  key          TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  flow         TEXT NOT NULL,
  panel        TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  outcome_step TEXT NOT NULL,
  updated_at   INTEGER NOT NULL,
  stored_at    INTEGER NOT NULL,
  PRIMARY KEY (key, created_at)
) WITHOUT ROWID;
CREATE INDEX cases_by_updated_at ON cases (updated_at);
CREATE INDEX cases_by_stored_at ON cases (stored_at);
PRAGMA user_version = 2;
)sql";

// Kept in step with MemorySessionStore's checks, so every store rejects the same calls.

// One use of a prepared statement: binds, steps, reads columns, and resets the statement
// when it goes out of scope so it can be reused.
class Use {
 public:
  explicit Use(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& Bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Use& Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int column) { return sqlite3_column_int64(stmt_, column); }
  std::string Text(int column) {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace

struct SqliteSessionStore::Impl {
  std::string path;
  Clock clock;
  Options options;
  std::mutex mu;
  sqlite3* db = nullptr;
  // Loads read through a connection of their own, so they never queue behind a batch's
  // fsync on `db`. Under WAL a read sees every commit that finished before it began, so a
  // turn always loads what the previous turn of its conversation committed. A ":memory:"
  // database cannot be opened twice: there `reader` is `db` and `read_mu` is `mu`.
  std::mutex own_read_mu;
  std::mutex* read_mu = &mu;
  sqlite3* reader = nullptr;
  int64_t next_purge = 0;
  std::unique_ptr<HitCounter> hits;  // rate-limit counts (see CountHit); made with `clock`

  // Prepared once at open (SQLITE_PREPARE_PERSISTENT), reused under `mu`.
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* commit = nullptr;
  sqlite3_stmt* rollback = nullptr;
  sqlite3_stmt* load = nullptr;  // on `reader`
  sqlite3_stmt* stored_version = nullptr;
  sqlite3_stmt* insert_session = nullptr;
  sqlite3_stmt* update_session = nullptr;
  sqlite3_stmt* append_turn = nullptr;
  sqlite3_stmt* keep_case = nullptr;
  sqlite3_stmt* erase_cases = nullptr;
  sqlite3_stmt* purge_cases = nullptr;
  sqlite3_stmt* erase_session = nullptr;
  sqlite3_stmt* erase_turns = nullptr;
  sqlite3_stmt* turns = nullptr;
  sqlite3_stmt* get_preference = nullptr;
  sqlite3_stmt* set_preference = nullptr;
  sqlite3_stmt* claim_event = nullptr;
  sqlite3_stmt* outcomes = nullptr;
  sqlite3_stmt* ping = nullptr;
  sqlite3_stmt* purge_turns = nullptr;
  sqlite3_stmt* purge_sessions = nullptr;
  sqlite3_stmt* purge_events = nullptr;
  sqlite3_stmt* purge_counters = nullptr;
  sqlite3_stmt* savepoint = nullptr;
  sqlite3_stmt* release = nullptr;
  sqlite3_stmt* rollback_to = nullptr;
  sqlite3_stmt* sync_normal = nullptr;
  sqlite3_stmt* sync_full = nullptr;

  // Group commit. A turn's commit waits for its fsync (synchronous=FULL), and while one batch
  // is being written the next writes gather: the ones waiting when a write starts share its
  // transaction and its one fsync. Event claims ride along: a claim is a write too, and one
  // transaction per claim cost as much as the turn's own. Each item keeps its own checks, in
  // a savepoint of its own.
  struct Pending {
    // A turn (session set), an event claim (event_id set), or a turn with its claim (both).
    const Session* session = nullptr;
    int64_t expected_version = 0;
    const TurnRecord* turn = nullptr;
    const std::string* bytes = nullptr;  // EncodeSession(*session)
    const std::string* event_id = nullptr;
    int64_t claim_expires_at = 0;
    bool claimed = false;  // out: the claim was won
    int64_t now = 0;
    Status result = Status::Ok();
    bool done = false;
    // Each waiter is woken alone: when its batch is written, or when it is to write the next.
    // One condition for all woke every waiter after every batch, most of them to sleep again.
    std::condition_variable wake;
  };
  std::mutex group_mu;  // guards waiting, writing and each Pending's done; taken before `mu`, never inside it
  std::vector<Pending*> waiting;
  bool writing = false;

  ~Impl() {
    for (sqlite3_stmt* s : {savepoint, release, rollback_to, sync_normal, sync_full}) sqlite3_finalize(s);
    for (sqlite3_stmt* s : {begin, commit, rollback, load, stored_version, insert_session, update_session,
                            append_turn, erase_session, erase_turns, turns, get_preference, set_preference,
                            claim_event, outcomes, ping, purge_turns, purge_sessions,
                            purge_events, purge_counters, keep_case, erase_cases, purge_cases}) {
      sqlite3_finalize(s);
    }
    // The last connection to close checkpoints the WAL into the main file.
    if (reader != db) sqlite3_close_v2(reader);
    sqlite3_close_v2(db);
  }

  // A failed SQLite call as a Status. Lock contention and I/O trouble are Unavailable (retry
  // later); a damaged file is InvalidArgument (an operator must act); anything else Internal.
  Status Error(int rc, const std::string& what) const { return Error(rc, what, db); }
  Status Error(int rc, const std::string& what, sqlite3* connection) const {
    std::string message = "session store " + path + ": " + what + ": " + sqlite3_errstr(rc);
    const char* detail = connection ? sqlite3_errmsg(connection) : nullptr;
    if (detail && std::string_view(detail) != sqlite3_errstr(rc)) message += std::string(" (") + detail + ")";
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return Status::Unavailable(message + "; another process holds the database lock, retry later");
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_CANTOPEN:
      case SQLITE_READONLY:
      case SQLITE_PROTOCOL:
      case SQLITE_PERM:
        return Status::Unavailable(message);
      case SQLITE_NOTADB:
      case SQLITE_CORRUPT:
        return Status::InvalidArgument(message + ": move the file away or point MAILGUIDE_STORE at another path");
      default:
        return Status::Internal(message);
    }
  }

  Status Exec(const char* sql, const std::string& what) {
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : Error(rc, what);
  }

  Status Prepare(sqlite3_stmt** stmt, const char* sql, sqlite3* connection = nullptr) {
    if (!connection) connection = db;
    int rc = sqlite3_prepare_v3(connection, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : Error(rc, std::string("preparing \"") + sql + "\"", connection);
  }

  // Runs a statement that returns no rows.
  Status Done(Use& use, const std::string& what) {
    int rc = use.Step();
    return rc == SQLITE_DONE ? Status::Ok() : Error(rc, what);
  }

  // BEGIN IMMEDIATE takes the write lock up front, so two writers never both read and then
  // fail to upgrade (which would surface as SQLITE_BUSY mid-transaction).
  class Transaction {
   public:
    explicit Transaction(Impl& impl) : impl_(impl) {}
    ~Transaction() {
      if (open_) Use(impl_.rollback).Step();
    }
    Status Begin() {
      Use use(impl_.begin);
      Status s = impl_.Done(use, "beginning a transaction");
      open_ = s.ok();
      return s;
    }
    Status Commit() {
      Use use(impl_.commit);
      Status s = impl_.Done(use, "committing");
      if (s.ok()) open_ = false;
      return s;
    }

   private:
    Impl& impl_;
    bool open_ = false;
  };

  Status OpenAndConfigure();
  Status OpenReader();
  Status CheckOrCreateSchema();
  Status WriteTurnLocked(Pending& p);
  Status ClaimLocked(Pending& p);
  void CommitBatchLocked(const std::vector<Pending*>& batch);
  // Queues `p` for the next batch and returns once a batch has written it.
  void Submit(Pending& p);
  Status PrepareAll();
  Status PurgeLocked(int64_t now);
};

Status SqliteSessionStore::Impl::OpenAndConfigure() {
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    return Status::Unavailable("cannot open session database " + path + ": " +
                               (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) +
                               "; check that its directory exists and is writable");
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);

  // WAL: readers never block the writer, and a commit is one append to the log.
  sqlite3_stmt* stmt = nullptr;
  rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr);
  std::string mode;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_OK) return Error(rc, "switching to WAL mode");
  if (mode != "wal" && !(path == ":memory:" && mode == "memory")) {
    return Status::Unavailable("session database " + path + " cannot use WAL mode (journal_mode is " + mode +
                               "); put MAILGUIDE_DATA_DIR on a local file system");
  }

  // synchronous=FULL: every COMMIT fsyncs the WAL before returning. NORMAL under WAL would
  // already survive kill -9 of this process (the WAL is in the OS page cache), but not a
  // power cut, kernel panic or VM reset: the last turns would vanish after their replies had
  // gone out, and the user would be asked a question they already answered. Turns arrive at
  // human pace (one per click), so one fsync per turn costs nothing that matters.
  return Exec("PRAGMA synchronous=FULL", "setting synchronous=FULL");
}

Status SqliteSessionStore::Impl::OpenReader() {
  if (path == ":memory:") {
    reader = db;
    return Status::Ok();
  }
  int rc = sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return Status::Unavailable("cannot open session database " + path + " for reading: " +
                               (reader ? sqlite3_errmsg(reader) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(reader, 1);
  sqlite3_busy_timeout(reader, options.busy_timeout_ms);
  // A load reads a handful of b-tree pages; the OS keeps the file's pages cached anyway.
  rc = sqlite3_exec(reader, "PRAGMA cache_size=-256", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "sizing the reader's cache", reader);
  read_mu = &own_read_mu;
  return Status::Ok();
}

Status SqliteSessionStore::Impl::CheckOrCreateSchema() {
  // Under the write lock, so two processes opening a fresh file never both create tables.
  Status s = Exec("BEGIN IMMEDIATE", "locking to check the schema");
  if (!s.ok()) return s;
  auto fail = [this](Status st) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  auto read_int = [this](const char* sql, int64_t& out) -> Status {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        out = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
      }
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK ? Status::Ok() : Error(rc, std::string("reading ") + sql);
  };

  int64_t app_id = 0, version = 0, tables = 0;
  if (s = read_int("PRAGMA application_id", app_id); !s.ok()) return fail(s);
  if (s = read_int("PRAGMA user_version", version); !s.ok()) return fail(s);
  if (s = read_int("SELECT count(*) FROM sqlite_master", tables); !s.ok()) return fail(s);

  if (app_id == 0 && version == 0 && tables == 0) {
    if (s = Exec(kCreateSchema, "creating the schema"); !s.ok()) return fail(s);
    const std::string stamp = "PRAGMA application_id=" + std::to_string(kApplicationId) + "; PRAGMA user_version=1";
    if (s = Exec(stamp.c_str(), "recording the schema version"); !s.ok()) return fail(s);
    version = 1;
  } else if (app_id != kApplicationId) {
    return fail(Status::InvalidArgument("session database " + path +
                                        " belongs to another program (it has tables but no mailguide "
                                        "marker): point MAILGUIDE_STORE at another path"));
  } else if (version > kSchemaVersion) {
    return fail(Status::InvalidArgument("session database " + path + " has schema version " +
                                        std::to_string(version) + ", newer than this mailguide reads (" +
                                        std::to_string(kSchemaVersion) + "): upgrade mailguide"));
  } else if (version < 1) {
    return fail(Status::InvalidArgument("session database " + path + " has no schema version: "
                                        "move it away so a new one can be created"));
  }
  // Migrations from older schema versions, in order.
  if (version < 2) {
    if (s = Exec(kMigrateTo2, "adding the cases table (schema version 2)"); !s.ok()) return fail(s);
  }
  return Exec("COMMIT", "committing the schema");
}

Status SqliteSessionStore::Impl::PrepareAll() {
  const std::pair<sqlite3_stmt**, const char*> statements[] = {
      {&begin, "BEGIN IMMEDIATE"},
      {&savepoint, "SAVEPOINT turn"},
      {&release, "RELEASE turn"},
      {&rollback_to, "ROLLBACK TO turn"},
      {&sync_normal, "PRAGMA synchronous=NORMAL"},
      {&sync_full, "PRAGMA synchronous=FULL"},
      {&commit, "COMMIT"},
      {&rollback, "ROLLBACK"},
      {&stored_version, "SELECT version FROM sessions WHERE key = ?1"},
      {&insert_session,
       "INSERT INTO sessions (key, version, data, flow, panel, outcome, outcome_step, created_at, "
       "updated_at, stored_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
       "ON CONFLICT (key) DO NOTHING"},
      {&update_session,
       "UPDATE sessions SET version = ?2, data = ?3, flow = ?4, panel = ?5, outcome = ?6, "
       "outcome_step = ?7, created_at = ?8, updated_at = ?9, stored_at = ?10 "
       "WHERE key = ?1 AND version = ?11"},
      {&append_turn,
       "INSERT INTO turns (key, seq, at, user, step, input, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      // The stored case, when the session about to replace it is another case (another
      // created_at): its outcome is kept, and one left open was abandoned for the new case.
      {&keep_case,
       "INSERT INTO cases (key, created_at, flow, panel, outcome, outcome_step, updated_at, stored_at) "
       "SELECT key, created_at, flow, panel, CASE outcome WHEN 'open' THEN 'abandoned' ELSE outcome END, "
       "outcome_step, updated_at, ?3 FROM sessions WHERE key = ?1 AND version = ?4 AND created_at <> ?2 "
       "ON CONFLICT (key, created_at) DO UPDATE SET flow = excluded.flow, panel = excluded.panel, "
       "outcome = excluded.outcome, outcome_step = excluded.outcome_step, updated_at = excluded.updated_at, "
       "stored_at = excluded.stored_at"},
      {&erase_cases, "DELETE FROM cases WHERE key = ?1"},
      {&purge_cases, "DELETE FROM cases WHERE stored_at < ?1"},
      {&erase_session, "DELETE FROM sessions WHERE key = ?1"},
      {&erase_turns, "DELETE FROM turns WHERE key = ?1"},
      {&turns, "SELECT at, user, step, input, result FROM turns WHERE key = ?1 ORDER BY seq"},
      {&get_preference, "SELECT value FROM preferences WHERE user_key = ?1 AND name = ?2"},
      {&set_preference,
       "INSERT INTO preferences (user_key, name, value) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (user_key, name) DO UPDATE SET value = excluded.value"},
      // A claim wins when the id is new or its earlier claim has expired.
      {&claim_event,
       "INSERT INTO events (id, expires_at) VALUES (?1, ?2) "
       "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE events.expires_at <= ?3"},
      {&outcomes,
       "SELECT key, flow, panel, outcome, outcome_step, created_at, updated_at FROM sessions "
       "WHERE updated_at BETWEEN ?1 AND ?2 UNION ALL "
       "SELECT key, flow, panel, outcome, outcome_step, created_at, updated_at FROM cases "
       "WHERE updated_at BETWEEN ?1 AND ?2 ORDER BY 7, 1, 6"},
      // Reads the file header, so a deleted or unreadable file shows up.
      {&ping, "PRAGMA user_version"},
      {&purge_turns, "DELETE FROM turns WHERE key IN (SELECT key FROM sessions WHERE stored_at < ?1)"},
      {&purge_sessions, "DELETE FROM sessions WHERE stored_at < ?1"},
      {&purge_events, "DELETE FROM events WHERE expires_at <= ?1"},
      {&purge_counters, "DELETE FROM counters WHERE window_end <= ?1"},
  };
  for (const auto& [stmt, sql] : statements) {
    if (Status s = Prepare(stmt, sql); !s.ok()) return s;
  }
  return Prepare(&load, "SELECT data FROM sessions WHERE key = ?1", reader);
}

// Sessions (with their turn logs) not written for `retention_seconds`, expired event claims
// and finished rate-limit windows. Preferences are kept: one small row per user.
Status SqliteSessionStore::Impl::PurgeLocked(int64_t now) {
  next_purge = now + options.purge_interval_seconds;
  const int64_t cutoff = now - options.retention_seconds;
  Transaction txn(*this);
  if (Status s = txn.Begin(); !s.ok()) return s;
  {
    Use use(purge_turns);
    if (Status s = Done(use.Bind(1, cutoff), "purging old turns"); !s.ok()) return s;
  }
  {
    Use use(purge_sessions);
    if (Status s = Done(use.Bind(1, cutoff), "purging old sessions"); !s.ok()) return s;
  }
  {
    Use use(purge_cases);
    if (Status s = Done(use.Bind(1, cutoff), "purging old cases"); !s.ok()) return s;
  }
  {
    Use use(purge_events);
    if (Status s = Done(use.Bind(1, now), "purging expired event claims"); !s.ok()) return s;
  }
  {
    Use use(purge_counters);
    if (Status s = Done(use.Bind(1, now), "purging old rate-limit windows"); !s.ok()) return s;
  }
  return txn.Commit();
}

Result<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::Open(const std::string& path, Clock clock,
                                                                     Options options) {
  if (path.empty()) return Status::InvalidArgument("the SQLite session store needs a file path");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->clock = std::move(clock);
  impl->hits = std::make_unique<HitCounter>(impl->clock);
  impl->options = options;
  if (Status s = impl->OpenAndConfigure(); !s.ok()) return s;
  if (Status s = impl->CheckOrCreateSchema(); !s.ok()) return s;
  if (Status s = impl->OpenReader(); !s.ok()) return s;
  if (Status s = impl->PrepareAll(); !s.ok()) return s;
  // A failed first purge is not a reason to refuse to start; the next interval retries it.
  (void)impl->PurgeLocked(impl->clock());
  return std::unique_ptr<SqliteSessionStore>(new SqliteSessionStore(std::move(impl)));
}

SqliteSessionStore::SqliteSessionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteSessionStore::~SqliteSessionStore() = default;

Result<std::optional<Session>> SqliteSessionStore::Load(const std::string& key) {
  std::string bytes;
  {
    std::lock_guard lock(*impl_->read_mu);
    Use use(impl_->load);
    use.Bind(1, key);
    int rc = use.Step();
    if (rc == SQLITE_DONE) return std::optional<Session>();
    if (rc != SQLITE_ROW) return impl_->Error(rc, "loading session " + key, impl_->reader);
    bytes = use.Text(0);
  }
  Result<Session> decoded = DecodeSession(bytes);
  if (!decoded.ok()) {
    return Status::Internal("session store " + impl_->path + ": stored session " + key +
                            " is unreadable: " + decoded.status().message());
  }
  return std::optional<Session>(std::move(decoded).value());
}

// One turn's writes (its event claim first, when it has one), inside the batch's transaction.
// Conflict and AlreadyExists leave partial writes behind: the caller rolls back to the
// turn's savepoint.
Status SqliteSessionStore::Impl::WriteTurnLocked(Pending& p) {
  const Session& session = *p.session;
  if (p.event_id) {
    if (Status s = ClaimLocked(p); !s.ok()) return s;
    if (!p.claimed) {
      return Status::AlreadyExists("event " + *p.event_id + " was handled before: a repeated delivery");
    }
  }
  if (p.expected_version != 0) {
    Use use(keep_case);
    use.Bind(1, session.key).Bind(2, session.created_at).Bind(3, p.now).Bind(4, p.expected_version);
    if (Status s = Done(use, "keeping the previous case of " + session.key); !s.ok()) return s;
  }
  {
    Use use(p.expected_version == 0 ? insert_session : update_session);
    use.Bind(1, session.key)
        .Bind(2, session.version)
        .Bind(3, *p.bytes)
        .Bind(4, session.flow)
        .Bind(5, session.panel)
        .Bind(6, session.outcome)
        .Bind(7, session.outcome_step)
        .Bind(8, session.created_at)
        .Bind(9, session.updated_at)
        .Bind(10, p.now);
    if (p.expected_version != 0) use.Bind(11, p.expected_version);
    if (Status s = Done(use, "saving session " + session.key); !s.ok()) return s;
  }
  if (sqlite3_changes(db) != 1) {
    int64_t stored = 0;
    Use use(stored_version);
    if (use.Bind(1, session.key).Step() == SQLITE_ROW) stored = use.Int(0);
    return Status::Conflict("session " + session.key + " changed since it was loaded (expected version " +
                            std::to_string(p.expected_version) + ", stored " + std::to_string(stored) +
                            "): reload and retry");
  }
  Use use(append_turn);
  use.Bind(1, session.key)
      .Bind(2, session.version)
      .Bind(3, p.turn->at)
      .Bind(4, p.turn->user)
      .Bind(5, p.turn->step)
      .Bind(6, p.turn->input)
      .Bind(7, p.turn->result);
  return Done(use, "appending a turn to " + session.key);
}

// One event claim, inside the batch's transaction.
Status SqliteSessionStore::Impl::ClaimLocked(Pending& p) {
  Use use(claim_event);
  use.Bind(1, *p.event_id).Bind(2, p.claim_expires_at).Bind(3, p.now);
  if (Status s = Done(use, "claiming event " + *p.event_id); !s.ok()) return s;
  p.claimed = sqlite3_changes(db) == 1;
  return Status::Ok();
}

void SqliteSessionStore::Impl::CommitBatchLocked(const std::vector<Pending*>& batch) {
  // A batch of claims alone is written without an fsync of its own: under WAL, the next
  // turn's commit (synchronous=FULL) syncs the log up to and including it. A power cut before
  // that loses the claims with their turns, and the platform's retry gets the turn it needs.
  const bool claims_only =
      std::none_of(batch.begin(), batch.end(), [](const Pending* p) { return p->session != nullptr; });
  if (claims_only) Use(sync_normal).Step();
  struct Restore {
    sqlite3_stmt* full;
    bool active;
    ~Restore() {
      if (active) Use(full).Step();
    }
  } restore{sync_full, claims_only};
  Transaction txn(*this);
  if (Status s = txn.Begin(); !s.ok()) {
    for (Pending* p : batch) p->result = s;
    return;
  }
  bool any = false;
  for (Pending* p : batch) {
    Use(savepoint).Step();
    p->result = p->session ? WriteTurnLocked(*p) : ClaimLocked(*p);
    if (!p->result.ok()) {
      Use(rollback_to).Step();
      p->claimed = false;  // a turn's claim went with its rollback
    }
    Use(release).Step();
    any = any || p->result.ok();
  }
  if (!any) return;  // nothing to keep: the transaction rolls back
  if (Status s = txn.Commit(); !s.ok()) {
    for (Pending* p : batch) {
      if (p->result.ok()) p->result = s;
      p->claimed = false;
    }
    return;
  }
  // The writes are in; a failed purge only means it runs again after the next interval.
  const int64_t now = batch.front()->now;
  if (now >= next_purge) (void)PurgeLocked(now);
}

void SqliteSessionStore::Impl::Submit(Pending& mine) {
  std::unique_lock group(group_mu);
  waiting.push_back(&mine);
  while (!mine.done) {
    if (writing) {
      mine.wake.wait(group);
      continue;
    }
    // No write under way: this thread writes every item waiting now, its own included.
    writing = true;
    std::vector<Pending*> batch;
    batch.swap(waiting);
    group.unlock();
    {
      std::lock_guard lock(mu);
      CommitBatchLocked(batch);
    }
    group.lock();
    for (Pending* p : batch) {
      p->done = true;
      if (p != &mine) p->wake.notify_one();
    }
    writing = false;
    if (!waiting.empty()) waiting.front()->wake.notify_one();  // it writes the next batch
  }
}

Status SqliteSessionStore::Commit(const Session& session, int64_t expected_version, const TurnRecord& turn,
                                  const EventClaim& claim) {
  if (Status s = CheckCommitArguments(session, expected_version, claim); !s.ok()) return s;
  const std::string bytes = EncodeSession(session);
  Impl::Pending mine;
  mine.session = &session;
  mine.expected_version = expected_version;
  mine.turn = &turn;
  mine.bytes = &bytes;
  mine.now = impl_->clock();
  if (!claim.event_id.empty()) {
    mine.event_id = &claim.event_id;
    mine.claim_expires_at = mine.now + claim.ttl_seconds;
  }
  impl_->Submit(mine);
  return mine.result;
}

Status SqliteSessionStore::Erase(const std::string& key) {
  std::lock_guard lock(impl_->mu);
  Impl& db = *impl_;
  Impl::Transaction txn(db);
  if (Status s = txn.Begin(); !s.ok()) return s;
  {
    Use use(db.erase_turns);
    if (Status s = db.Done(use.Bind(1, key), "erasing the turns of " + key); !s.ok()) return s;
  }
  {
    Use use(db.erase_session);
    if (Status s = db.Done(use.Bind(1, key), "erasing session " + key); !s.ok()) return s;
  }
  {
    Use use(db.erase_cases);
    if (Status s = db.Done(use.Bind(1, key), "erasing the earlier cases of " + key); !s.ok()) return s;
  }
  return txn.Commit();
}

Result<std::vector<TurnRecord>> SqliteSessionStore::Turns(const std::string& key) {
  std::lock_guard lock(impl_->mu);
  Use use(impl_->turns);
  use.Bind(1, key);
  std::vector<TurnRecord> out;
  int rc;
  while ((rc = use.Step()) == SQLITE_ROW) {
    out.push_back(TurnRecord{use.Int(0), use.Text(1), use.Text(2), use.Text(3), use.Text(4)});
  }
  if (rc != SQLITE_DONE) return impl_->Error(rc, "reading the turns of " + key);
  return out;
}

Result<std::string> SqliteSessionStore::GetPreference(const std::string& user_key, const std::string& name) {
  std::lock_guard lock(impl_->mu);
  Use use(impl_->get_preference);
  use.Bind(1, user_key).Bind(2, name);
  int rc = use.Step();
  if (rc == SQLITE_ROW) return use.Text(0);
  if (rc == SQLITE_DONE) return std::string();
  return impl_->Error(rc, "reading preference " + name);
}

Status SqliteSessionStore::SetPreference(const std::string& user_key, const std::string& name,
                                         const std::string& value) {
  if (user_key.empty() || name.empty()) {
    return Status::InvalidArgument("a preference needs a user key and a name");
  }
  std::lock_guard lock(impl_->mu);
  Use use(impl_->set_preference);
  use.Bind(1, user_key).Bind(2, name).Bind(3, value);
  return impl_->Done(use, "saving preference " + name);
}

Result<bool> SqliteSessionStore::ClaimEvent(const std::string& event_id, int64_t ttl_seconds) {
  if (event_id.empty()) return Status::InvalidArgument("cannot claim an empty event id");
  if (ttl_seconds <= 0) return Status::InvalidArgument("an event claim needs a positive ttl_seconds");
  Impl::Pending mine;
  mine.event_id = &event_id;
  mine.now = impl_->clock();
  mine.claim_expires_at = mine.now + ttl_seconds;
  impl_->Submit(mine);
  if (!mine.result.ok()) return mine.result;
  return mine.claimed;
}

Result<int64_t> SqliteSessionStore::CountHit(const std::string& key, int64_t window_seconds) {
  return impl_->hits->CountHit(key, window_seconds);
}

Result<std::vector<OutcomeRecord>> SqliteSessionStore::Outcomes(int64_t since, int64_t until) {
  std::lock_guard lock(impl_->mu);
  Use use(impl_->outcomes);
  use.Bind(1, since).Bind(2, until);
  std::vector<OutcomeRecord> out;
  int rc;
  while ((rc = use.Step()) == SQLITE_ROW) {
    out.push_back(OutcomeRecord{use.Text(0), use.Text(1), use.Text(2), use.Text(3), use.Text(4), use.Int(5),
                                use.Int(6)});
  }
  if (rc != SQLITE_DONE) return impl_->Error(rc, "reading outcomes");
  return out;
}

Status SqliteSessionStore::Ping() {
  std::lock_guard lock(impl_->mu);
  Use use(impl_->ping);
  int rc = use.Step();
  return rc == SQLITE_ROW ? Status::Ok() : impl_->Error(rc, "ping");
}

Result<std::string> SqliteSessionStore::StoredBytesForTesting(const std::string& key) {
  std::lock_guard lock(*impl_->read_mu);
  Use use(impl_->load);
  use.Bind(1, key);
  int rc = use.Step();
  if (rc == SQLITE_ROW) return use.Text(0);
  if (rc == SQLITE_DONE) return std::string();
  return impl_->Error(rc, "loading session " + key, impl_->reader);
}

Status SqliteSessionStore::PurgeForTesting() {
  std::lock_guard lock(impl_->mu);
  return impl_->PurgeLocked(impl_->clock());
}

}  // namespace bot
