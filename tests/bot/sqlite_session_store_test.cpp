// What only the SQLite store promises: durability across reopening, the stored size of a
// conversation, clear errors for unusable files, and the retention purge. The shared
// contract is in session_store_test.cpp.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "bot/store/sqlite_session_store.h"
#include "support/process.h"

namespace {

using bot::testing::TempDir;
using bot::Session;
using bot::SqliteSessionStore;
using bot::Status;
using bot::TurnRecord;

#define SQLITE_REQUIRE_OK(expr)                  \
  do {                                           \
    const ::bot::Status sqlite_status_ = (expr); \
    INFO(sqlite_status_.ToString());             \
    REQUIRE(sqlite_status_.ok());                \
  } while (false)

constexpr int64_t kStart = 1'699'999'200;


std::unique_ptr<SqliteSessionStore> OpenOrFail(const std::string& path, bot::Clock clock,
                                               bot::SqliteStoreOptions options = {}) {
  auto store = SqliteSessionStore::Open(path, std::move(clock), options);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

// A realistic case: a Slack thread key, ten answered checks, on the "sending" flow.
Session TenAnswerSession() {
  Session s;
  s.key = "slack:T024BE7LD:C024BE91L:1700000000.123456";
  s.flow = "sending";
  s.flow_version = "1.0.0";
  s.panel = "mac";
  s.phase = Session::Phase::kEscalating;
  s.step = "detail:timestamps";
  s.owner = "slack:T024BE7LD:U024BE7LH";
  const char* steps[] = {"account-status", "sending-limit",  "client-settings", "smtp-auth",   "smtp-port",
                         "spf-record",     "dkim-signature", "dmarc-policy",    "bounce-check", "blocklist"};
  for (const char* step : steps) s.history.push_back({step, "yes"});
  s.history[3].value = "no";
  s.history.push_back({"detail:mailbox", "ann.smith@example-hosting.com"});
  s.history.push_back({"detail:domain", "example-hosting.com"});
  s.version = 14;
  s.turn = 14;
  s.created_at = kStart;
  s.updated_at = kStart + 600;
  return s;
}

}  // namespace

TEST_CASE("sqlite store keeps sessions, turns, preferences and event claims across reopening", "[store]") {
  TempDir dir;
  const std::string path = dir.File("sessions.db");
  const Session s = TenAnswerSession();
  {
    auto store = OpenOrFail(path, [] { return kStart; });
    Session first = s;
    first.version = 1;
    SQLITE_REQUIRE_OK(store->Commit(first, 0, TurnRecord{kStart, "u", "a", "yes", "asking"}));
    Session second = s;
    second.version = 2;
    SQLITE_REQUIRE_OK(store->Commit(second, 1, TurnRecord{kStart, "u", "b", "no", "after_fail"}));
    SQLITE_REQUIRE_OK(store->SetPreference("slack:T1:U1", "panel", "mac"));
    REQUIRE(*store->ClaimEvent("Ev01", 300));
  }
  auto store = OpenOrFail(path, [] { return kStart + 10; });
  auto loaded = store->Load(s.key);
  SQLITE_REQUIRE_OK(loaded.status());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->version == 2);
  CHECK((*loaded)->history.size() == s.history.size());
  auto turns = store->Turns(s.key);
  SQLITE_REQUIRE_OK(turns.status());
  REQUIRE(turns->size() == 2);
  CHECK((*turns)[1].input == "no");
  CHECK(*store->GetPreference("slack:T1:U1", "panel") == "mac");
  CHECK_FALSE(*store->ClaimEvent("Ev01", 300));  // a Slack retry after a restart is still a repeat
}

TEST_CASE("sqlite store keeps every committed turn when the process is killed with SIGKILL", "[store]") {
  TempDir dir;
  const std::string path = dir.File("sessions.db");
  constexpr int kTurns = 5;
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No Catch2 in the child: it commits, then dies without closing anything.
    auto store = SqliteSessionStore::Open(path, [] { return kStart; });
    if (!store.ok()) _exit(2);
    Session s = TenAnswerSession();
    for (int i = 1; i <= kTurns; ++i) {
      s.version = i;
      if (!(*store)->Commit(s, i - 1, TurnRecord{kStart, "u", "step", std::to_string(i), "asking"}).ok()) _exit(3);
    }
    raise(SIGKILL);
    _exit(4);
  }
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  INFO("child exit code " << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1));
  REQUIRE(WIFSIGNALED(wstatus));
  CHECK(WTERMSIG(wstatus) == SIGKILL);

  auto store = OpenOrFail(path, [] { return kStart; });
  auto loaded = store->Load(TenAnswerSession().key);
  SQLITE_REQUIRE_OK(loaded.status());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->version == kTurns);
  auto turns = store->Turns(TenAnswerSession().key);
  SQLITE_REQUIRE_OK(turns.status());
  REQUIRE(turns->size() == kTurns);
  CHECK(turns->back().input == std::to_string(kTurns));
}

TEST_CASE("sqlite store keeps a typical ten-answer conversation within 2 KB", "[store]") {
  TempDir dir;
  auto store = OpenOrFail(dir.File("sessions.db"), [] { return kStart; });
  Session s = TenAnswerSession();
  s.version = 1;
  SQLITE_REQUIRE_OK(store->Commit(s, 0, TurnRecord{kStart, "u", "a", "yes", "asking"}));
  auto bytes = store->StoredBytesForTesting(s.key);
  SQLITE_REQUIRE_OK(bytes.status());
  INFO(bytes->size() << " bytes: " << *bytes);
  CHECK(bytes->size() <= 2048);
  CHECK(*bytes == bot::EncodeSession(s));
}

TEST_CASE("sqlite store still returns sessions idle past the ttl, and purges them after retention",
          "[store]") {
  TempDir dir;
  int64_t now = kStart;
  bot::SqliteStoreOptions options;
  options.retention_seconds = 8 * 86400;
  auto store = OpenOrFail(dir.File("sessions.db"), [&now] { return now; }, options);

  Session old_session = TenAnswerSession();
  old_session.key = "old";
  old_session.version = 1;
  SQLITE_REQUIRE_OK(store->Commit(old_session, 0, TurnRecord{now, "u", "a", "yes", "asking"}));
  SQLITE_REQUIRE_OK(store->SetPreference("slack:T1:U1", "panel", "rcp"));

  // Idle longer than a day's TTL: the engine decides it expired, so the store must return it.
  now += 86400 + 1;
  SQLITE_REQUIRE_OK(store->PurgeForTesting());
  CHECK(store->Load("old")->has_value());

  now += 7 * 86400;
  Session recent = TenAnswerSession();
  recent.key = "recent";
  recent.version = 1;
  SQLITE_REQUIRE_OK(store->Commit(recent, 0, TurnRecord{now, "u", "a", "yes", "asking"}));
  SQLITE_REQUIRE_OK(store->PurgeForTesting());
  CHECK_FALSE(store->Load("old")->has_value());
  CHECK(store->Turns("old")->empty());
  CHECK(store->Load("recent")->has_value());
  CHECK(store->Turns("recent")->size() == 1);
  CHECK(*store->GetPreference("slack:T1:U1", "panel") == "rcp");
}

TEST_CASE("sqlite store refuses a file that is not a database, with a clear error", "[store]") {
  TempDir dir;
  const std::string path = dir.File("sessions.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 200; ++i) out << "this is not a database, just some text ";
  }
  auto store = SqliteSessionStore::Open(path);
  REQUIRE_FALSE(store.ok());
  const std::string message = store.status().ToString();
  INFO(message);
  CHECK(store.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(message, Catch::Contains(path));
  CHECK_THAT(message, Catch::Contains("not a database"));
}

TEST_CASE("sqlite store refuses a path it cannot open, naming it", "[store]") {
  TempDir dir;
  SECTION("a directory") {
    const std::string path = dir.File("");
    auto store = SqliteSessionStore::Open(path);
    REQUIRE_FALSE(store.ok());
    INFO(store.status().ToString());
    CHECK(store.status().code() == Status::Code::kUnavailable);
  }
  SECTION("a missing directory") {
    const std::string path = dir.File("missing/sessions.db");
    auto store = SqliteSessionStore::Open(path);
    REQUIRE_FALSE(store.ok());
    INFO(store.status().ToString());
    CHECK(store.status().code() == Status::Code::kUnavailable);
    CHECK_THAT(store.status().message(), Catch::Contains(path));
  }
}

TEST_CASE("sqlite store refuses another program's database and a newer schema", "[store]") {
  TempDir dir;
  const std::string path = dir.File("other.db");
  auto run = [&path](const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  };
  SECTION("another program's tables") {
    run("CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT)");
    auto store = SqliteSessionStore::Open(path);
    REQUIRE_FALSE(store.ok());
    INFO(store.status().ToString());
    CHECK(store.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(store.status().message(), Catch::Contains("another program"));
  }
  SECTION("a schema from a newer mailguide") {
    { OpenOrFail(path, [] { return kStart; }); }
    run("PRAGMA user_version = 99");
    auto store = SqliteSessionStore::Open(path);
    REQUIRE_FALSE(store.ok());
    INFO(store.status().ToString());
    CHECK(store.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(store.status().message(), Catch::Contains("upgrade mailguide"));
  }
}

TEST_CASE("sqlite store puts its database in WAL mode", "[store]") {
  TempDir dir;
  const std::string path = dir.File("sessions.db");
  auto store = OpenOrFail(path, [] { return kStart; });
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}
