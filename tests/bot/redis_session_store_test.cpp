// What only the Redis store has to show: several store objects (replicas) sharing one Redis,
// the keys' TTLs, and behaviour while Redis is stopped, restarted or frozen. The SessionStore
// contract itself runs against Redis in session_store_test.cpp.
#ifdef BOT_WITH_REDIS

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "bot/store/redis_session_store.h"
#include "bot/store/store_factory.h"
#include "support/redis_server.h"

namespace {

using bot::RedisSessionStore;
using bot::Session;
using bot::SessionStore;
using bot::Status;
using bot::TurnRecord;
using bot::testing::RedisServer;
using Millis = std::chrono::milliseconds;

#define REDIS_REQUIRE_OK(expr)                  \
  do {                                          \
    const ::bot::Status redis_status_ = (expr); \
    INFO(redis_status_.ToString());             \
    REQUIRE(redis_status_.ok());                \
  } while (false)

constexpr int64_t kNow = 1'699'999'200;

bot::RedisStoreOptions OptionsFor(const RedisServer& server, int db = 0) {
  bot::RedisStoreOptions options;
  options.host = server.host();
  options.port = server.port();
  options.db = db;
  return options;
}

std::unique_ptr<RedisSessionStore> OpenOn(const RedisServer& server, bot::RedisStoreOptions options) {
  options.host = server.host();
  options.port = server.port();
  auto store = RedisSessionStore::Open(options, [] { return kNow; });
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::unique_ptr<RedisSessionStore> OpenOn(const RedisServer& server) { return OpenOn(server, OptionsFor(server)); }

Session MakeSession(const std::string& key, int64_t version) {
  Session s;
  s.key = key;
  s.flow = "sending";
  s.flow_version = "1.0.0";
  s.panel = "rcp";
  s.phase = Session::Phase::kAsking;
  s.step = "sending-limit";
  s.owner = "slack:T1:U1";
  s.version = version;
  s.turn = version;
  s.created_at = kNow;
  s.updated_at = kNow;
  return s;
}

TurnRecord MakeTurn(const std::string& input) { return TurnRecord{kNow, "slack:T1:U1", "account-status", input, "asking"}; }

int64_t Ttl(const RedisServer& server, const std::string& key, int db = 0) {
  const std::string reply = server.Command({"TTL", key}, db);
  INFO("TTL " << key << " -> " << reply);
  REQUIRE(reply.size() > 1);
  REQUIRE(reply[0] == ':');
  return std::stoll(reply.substr(1));
}

// Every SessionStore call once, with the status each returned and how long it took.
struct Attempt {
  std::string call;
  Status status;
  Millis took;
};

std::vector<Attempt> CallEverything(SessionStore& store) {
  std::vector<Attempt> out;
  auto time = [&](const std::string& call, auto&& fn) {
    const auto start = std::chrono::steady_clock::now();
    Status s = fn();
    out.push_back({call, s, std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start)});
  };
  time("Load", [&] { return store.Load("k").status(); });
  time("Commit", [&] { return store.Commit(MakeSession("k", 1), 0, MakeTurn("x")); });
  time("Erase", [&] { return store.Erase("k"); });
  time("Turns", [&] { return store.Turns("k").status(); });
  time("GetPreference", [&] { return store.GetPreference("u", "panel").status(); });
  time("SetPreference", [&] { return store.SetPreference("u", "panel", "rcp"); });
  time("ClaimEvent", [&] { return store.ClaimEvent("Ev1", 60).status(); });
  time("CountHit", [&] { return store.CountHit("u", 60).status(); });
  time("Outcomes", [&] { return store.Outcomes(0, kNow).status(); });
  time("Ping", [&] { return store.Ping(); });
  return out;
}

// Polls Ping until it answers, for at most `limit`.
bool PingWithin(SessionStore& store, Millis limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (store.Ping().ok()) return true;
    std::this_thread::sleep_for(Millis(20));
  }
  return false;
}

}  // namespace

TEST_CASE("two store objects on one Redis share conversations, logs, preferences and counters", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  auto a = OpenOn(server);
  auto b = OpenOn(server);
  const std::string key = "slack:T1:C1:1.0";

  REDIS_REQUIRE_OK(a->Commit(MakeSession(key, 1), 0, MakeTurn("choice:start:sending")));
  auto loaded = b->Load(key);
  REDIS_REQUIRE_OK(loaded.status());
  REQUIRE(loaded->has_value());
  Session next = **loaded;
  next.version = 2;
  next.step = "client-settings";
  REDIS_REQUIRE_OK(b->Commit(next, 1, MakeTurn("no")));
  // The first replica's copy is stale now.
  CHECK(a->Commit(MakeSession(key, 2), 1, MakeTurn("late")).code() == Status::Code::kConflict);
  CHECK((*a->Load(key))->step == "client-settings");
  auto turns = a->Turns(key);
  REDIS_REQUIRE_OK(turns.status());
  REQUIRE(turns->size() == 2);
  CHECK((*turns)[1].input == "no");

  REDIS_REQUIRE_OK(a->SetPreference("slack:T1:U1", "panel", "mac"));
  CHECK(*b->GetPreference("slack:T1:U1", "panel") == "mac");
  CHECK(*a->CountHit("slack:T1:U1", 60) == 1);
  CHECK(*b->CountHit("slack:T1:U1", 60) == 2);
  auto outcomes = b->Outcomes(kNow, kNow);
  REDIS_REQUIRE_OK(outcomes.status());
  REQUIRE(outcomes->size() == 1);
  CHECK(outcomes->front().key == key);
}

TEST_CASE("Redis holds EncodeSession's bytes, the same as the SQLite store", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  auto store = OpenOn(server, OptionsFor(server, 2));
  Session s = MakeSession("teams:tenant:chat", 1);
  s.history = {{"account-status", "yes"}, {"detail:mailbox", "ann@example.com"}};
  REDIS_REQUIRE_OK(store->Commit(s, 0, MakeTurn("yes")));
  CHECK(server.Command({"HGET", "mailguide:sess:teams:tenant:chat", "data"}, 2) == "$" + bot::EncodeSession(s));
  CHECK(server.Command({"HGET", "mailguide:sess:teams:tenant:chat", "v"}, 2) == "$1");
  // Database 2 was used, not 0.
  CHECK(server.Command({"EXISTS", "mailguide:sess:teams:tenant:chat"}, 0) == ":0");
}

TEST_CASE("commits racing from two replicas and several threads never lose or double a turn", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  auto a = OpenOn(server);
  auto b = OpenOn(server);
  const std::string key = "slack:T1:C1:contended";
  constexpr int kThreadsPerReplica = 4;
  constexpr int kCommitsPerThread = 15;

  std::atomic<int> errors{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerReplica; ++t) {
    SessionStore& store = t % 2 == 0 ? static_cast<SessionStore&>(*a) : static_cast<SessionStore&>(*b);
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommitsPerThread; ++i) {
        const std::string input = std::to_string(t) + ":" + std::to_string(i);
        while (true) {
          auto loaded = store.Load(key);
          if (!loaded.ok()) {
            ++errors;
            return;
          }
          Session s = loaded->has_value() ? **loaded : MakeSession(key, 0);
          const int64_t expected = loaded->has_value() ? s.version : 0;
          s.version = expected + 1;
          s.history.push_back({"t" + std::to_string(t), input});
          Status st = store.Commit(s, expected, MakeTurn(input));
          if (st.ok()) break;
          if (st.code() != Status::Code::kConflict) {
            ++errors;
            return;
          }
          ++conflicts;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  REQUIRE(errors == 0);

  constexpr int kTotal = 2 * kThreadsPerReplica * kCommitsPerThread;
  auto final_session = a->Load(key);
  REDIS_REQUIRE_OK(final_session.status());
  REQUIRE(final_session->has_value());
  CHECK((*final_session)->version == kTotal);
  auto turns = b->Turns(key);
  REDIS_REQUIRE_OK(turns.status());
  REQUIRE(turns->size() == kTotal);
  REQUIRE((*final_session)->history.size() == kTotal);
  std::map<std::string, int> per_thread;
  for (size_t i = 0; i < turns->size(); ++i) {
    CHECK((*turns)[i].input == (*final_session)->history[i].value);
    ++per_thread[(*turns)[i].input.substr(0, (*turns)[i].input.find(':'))];
  }
  for (const auto& [thread, n] : per_thread) CHECK(n == kCommitsPerThread);
  INFO("conflicts: " << conflicts.load());
  CHECK(conflicts > 0);  // the race really happened
}

TEST_CASE("one event delivered to both replicas at once is claimed once", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  auto a = OpenOn(server);
  auto b = OpenOn(server);
  constexpr int kEvents = 20;
  constexpr int kThreads = 6;

  std::vector<std::atomic<int>> wins(kEvents);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    SessionStore& store = t % 2 == 0 ? static_cast<SessionStore&>(*a) : static_cast<SessionStore&>(*b);
    threads.emplace_back([&] {
      for (int e = 0; e < kEvents; ++e) {
        auto claimed = store.ClaimEvent("Ev" + std::to_string(e), 300);
        if (!claimed.ok()) {
          ++errors;
        } else if (*claimed) {
          ++wins[e];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  REQUIRE(errors == 0);
  for (int e = 0; e < kEvents; ++e) CHECK(wins[e] == 1);
}

TEST_CASE("sessions, turn logs, event claims and counters expire in Redis; preferences stay", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  bot::RedisStoreOptions options = OptionsFor(server);
  options.retention_seconds = 3600;
  auto store = OpenOn(server, options);
  const std::string key = "slack:T1:C1:ttl";

  REDIS_REQUIRE_OK(store->Commit(MakeSession(key, 1), 0, MakeTurn("a")));
  for (const std::string& k : {"mailguide:sess:" + key, "mailguide:turns:" + key}) {
    const int64_t ttl = Ttl(server, k);
    CHECK(ttl > 3590);
    CHECK(ttl <= 3600);
  }
  REDIS_REQUIRE_OK(store->ClaimEvent("Ev-ttl", 300).status());
  const int64_t event_ttl = Ttl(server, "mailguide:event:Ev-ttl");
  CHECK(event_ttl > 290);
  CHECK(event_ttl <= 300);
  REDIS_REQUIRE_OK(store->CountHit("user:U1", 60).status());
  const int64_t window_start = kNow - kNow % 60;
  const int64_t counter_ttl = Ttl(server, "mailguide:rate:60:" + std::to_string(window_start) + ":user:U1");
  CHECK(counter_ttl > 0);
  CHECK(counter_ttl <= 60);
  REDIS_REQUIRE_OK(store->SetPreference("slack:T1:U1", "panel", "rcp"));
  CHECK(Ttl(server, "mailguide:pref:slack:T1:U1") == -1);
}

TEST_CASE("OpenStore passes the session TTL plus grace to Redis and selects the spec's database", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  bot::StoreOptions options;
  options.session_ttl_seconds = 600;
  options.retention_grace_seconds = 400;
  const std::string spec = "redis://127.0.0.1:" + std::to_string(server.port()) + "/5";
  auto store = bot::OpenStore(spec, "./unused", [] { return kNow; }, options);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  REDIS_REQUIRE_OK((*store)->Commit(MakeSession("k", 1), 0, MakeTurn("a")));
  const int64_t ttl = Ttl(server, "mailguide:sess:k", 5);
  CHECK(ttl > 990);
  CHECK(ttl <= 1000);

  auto no_such_db = bot::OpenStore("redis://127.0.0.1:" + std::to_string(server.port()) + "/999", "./unused");
  REQUIRE_FALSE(no_such_db.ok());
  CHECK(no_such_db.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(no_such_db.status().message(), Catch::Contains("no database 999"));
}

TEST_CASE("Outcomes skips conversations whose keys Redis has expired, and Erase drops them", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  auto store = OpenOn(server);
  REDIS_REQUIRE_OK(store->Commit(MakeSession("gone", 1), 0, MakeTurn("a")));
  REDIS_REQUIRE_OK(store->Commit(MakeSession("kept", 1), 0, MakeTurn("a")));
  REDIS_REQUIRE_OK(store->Commit(MakeSession("erased", 1), 0, MakeTurn("a")));
  CHECK(server.Command({"DEL", "mailguide:sess:gone"}) == ":1");  // as its TTL would
  REDIS_REQUIRE_OK(store->Erase("erased"));

  auto outcomes = store->Outcomes(0, kNow);
  REDIS_REQUIRE_OK(outcomes.status());
  REQUIRE(outcomes->size() == 1);
  CHECK(outcomes->front().key == "kept");
  CHECK(server.Command({"ZCARD", "mailguide:outcomes"}) == ":1");
  CHECK(server.Command({"ZCARD", "mailguide:outcomes:expiry"}) == ":1");
}

TEST_CASE("a Commit drops outcome index entries of conversations past their retention", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  auto now = std::make_shared<std::atomic<int64_t>>(kNow);
  bot::RedisStoreOptions options = OptionsFor(server);
  options.retention_seconds = 100;
  auto opened = RedisSessionStore::Open(options, [now] { return now->load(); });
  REDIS_REQUIRE_OK(opened.status());
  auto& store = *opened;
  REDIS_REQUIRE_OK(store->Commit(MakeSession("old", 1), 0, MakeTurn("a")));
  *now += 99;
  REDIS_REQUIRE_OK(store->Commit(MakeSession("mid", 1), 0, MakeTurn("a")));
  CHECK(server.Command({"ZCARD", "mailguide:outcomes"}) == ":2");
  *now += 1;
  REDIS_REQUIRE_OK(store->Commit(MakeSession("new", 1), 0, MakeTurn("a")));
  CHECK(server.Command({"ZRANGE", "mailguide:outcomes", "0", "-1"}) == "*\n$mid\n$new");
  CHECK(server.Command({"ZCARD", "mailguide:outcomes:expiry"}) == ":2");
}

TEST_CASE("the pool never opens more connections than its size", "[redis]") {
  RedisServer& server = RedisServer::Shared();
  server.FlushAll();
  bot::RedisStoreOptions options = OptionsFor(server);
  options.pool_size = 2;
  auto store = OpenOn(server, options);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!store->CountHit("busy", 60).ok()) ++errors;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(errors == 0);
  CHECK(*store->CountHit("busy", 60) == 8 * 50 + 1);
  CHECK(store->OpenConnectionsForTesting() <= 2);
}

TEST_CASE("while Redis is stopped every call fails fast and clearly; after a restart the same store works",
          "[redis]") {
  RedisServer server;  // its own: this test stops it
  auto store = OpenOn(server);
  REDIS_REQUIRE_OK(store->Commit(MakeSession("before", 1), 0, MakeTurn("a")));
  REDIS_REQUIRE_OK(store->Ping());

  server.Stop();
  const std::string where = "127.0.0.1:" + std::to_string(server.port());
  // Twice: first with connections the pool still holds, then with none.
  for (int round = 0; round < 2; ++round) {
    for (const Attempt& attempt : CallEverything(*store)) {
      INFO(attempt.call << " (round " << round << "): " << attempt.status.ToString() << " after "
                        << attempt.took.count() << " ms");
      CHECK(attempt.status.code() == Status::Code::kUnavailable);
      CHECK_THAT(attempt.status.message(), Catch::Contains("the Redis store at " + where + " is unreachable"));
      CHECK_THAT(attempt.status.message(), Catch::Contains("try again in a minute"));
      CHECK(attempt.took < Millis(2000));
    }
  }
  auto fresh = RedisSessionStore::Open(OptionsFor(server));
  REQUIRE_FALSE(fresh.ok());
  CHECK(fresh.status().code() == Status::Code::kUnavailable);
  auto via_factory = bot::OpenStore("redis://" + where, "./unused");
  CHECK(via_factory.status().code() == Status::Code::kUnavailable);

  server.Start();
  REQUIRE(PingWithin(*store, Millis(3000)));
  // Redis came back empty (no persistence in tests): the conversation starts over.
  REDIS_REQUIRE_OK(store->Commit(MakeSession("after", 1), 0, MakeTurn("b")));
  auto loaded = store->Load("after");
  REDIS_REQUIRE_OK(loaded.status());
  CHECK(loaded->has_value());
}

TEST_CASE("a Redis restart between two calls is invisible: closed pooled connections are replaced", "[redis]") {
  RedisServer server;
  bot::RedisStoreOptions options = OptionsFor(server);
  options.pool_size = 3;
  auto store = OpenOn(server, options);
  // Fill the pool with open connections.
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&] { (void)store->Ping(); });
  for (std::thread& th : threads) th.join();
  REDIS_REQUIRE_OK(store->Commit(MakeSession("k", 1), 0, MakeTurn("a")));

  server.Stop();
  server.Start();
  // A Commit is never retried (Redis may have applied it), so it must not land on a dead
  // connection in the first place.
  REDIS_REQUIRE_OK(store->Commit(MakeSession("k", 1), 0, MakeTurn("again")));
  CHECK(store->Turns("k")->size() == 1);
}

TEST_CASE("a frozen Redis makes calls fail within the command timeout, and it recovers", "[redis]") {
  RedisServer server;
  bot::RedisStoreOptions options = OptionsFor(server);
  options.command_timeout_ms = 300;
  auto store = OpenOn(server, options);
  REDIS_REQUIRE_OK(store->Ping());

  server.Pause();
  const auto start = std::chrono::steady_clock::now();
  Status s = store->Commit(MakeSession("k", 1), 0, MakeTurn("a"));
  const auto took = std::chrono::steady_clock::now() - start;
  server.Resume();
  INFO(s.ToString());
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK_THAT(s.message(), Catch::Contains("no answer within 300 ms"));
  CHECK(took < Millis(1500));

  REQUIRE(PingWithin(*store, Millis(3000)));
  // The frozen Redis ran the Commit once it thawed; the store cannot know, and says Conflict.
  Status again = store->Commit(MakeSession("k", 1), 0, MakeTurn("a"));
  CHECK((again.ok() || again.code() == Status::Code::kConflict));
  CHECK(store->Turns("k")->size() == 1);
}

#endif  // BOT_WITH_REDIS
