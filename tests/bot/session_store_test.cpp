// The SessionStore contract: one suite, run unchanged against every store. A store is added by
// writing a fixture (Open(clock) returns a fresh, empty store) and listing it in
// STORE_FIXTURES; no test may branch on the store type. The Redis fixture (BOT_WITH_REDIS
// builds) runs the suite against a real redis-server the tests start themselves.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "bot/memory_session_store.h"
#include "bot/store/sqlite_session_store.h"
#include "support/process.h"
#ifdef BOT_WITH_REDIS
#include "bot/store/redis_session_store.h"
#include "support/redis_server.h"
#endif

namespace {

using bot::testing::TempDir;
using bot::Session;
using bot::SessionStore;
using bot::Status;
using bot::TurnRecord;

#define STORE_REQUIRE_OK(expr)                              \
  do {                                                      \
    const ::bot::Status store_status_ = (expr);             \
    INFO(store_status_.ToString());                         \
    REQUIRE(store_status_.ok());                            \
  } while (false)

// A clock the test moves by hand; copies share the time.
class FakeClock {
 public:
  // A multiple of 3600, so rate-limit windows of 60 s start exactly here.
  static constexpr int64_t kStart = 1'699'999'200;
  bot::Clock AsClock() const {
    return [now = now_] { return now->load(); };
  }
  int64_t Now() const { return now_->load(); }
  void Advance(int64_t seconds) { *now_ += seconds; }

 private:
  std::shared_ptr<std::atomic<int64_t>> now_ = std::make_shared<std::atomic<int64_t>>(kStart);
};


struct MemoryStoreFixture {
  std::unique_ptr<SessionStore> Open(bot::Clock clock) {
    return std::make_unique<bot::MemorySessionStore>(std::move(clock));
  }
};

struct SqliteStoreFixture {
  TempDir dir;
  std::unique_ptr<SessionStore> Open(bot::Clock clock) {
    auto store = bot::SqliteSessionStore::Open(dir.File("sessions.db"), std::move(clock));
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    return std::move(store).value();
  }
};

#ifdef BOT_WITH_REDIS
// The shared test redis-server (started on first use), emptied before each test case. A
// database other than 0, so SELECT is exercised too.
struct RedisStoreFixture {
  bot::testing::RedisServer& server = bot::testing::RedisServer::Shared();
  RedisStoreFixture() { server.FlushAll(); }
  std::unique_ptr<SessionStore> Open(bot::Clock clock) {
    bot::RedisStoreOptions options;
    options.host = server.host();
    options.port = server.port();
    options.db = 3;
    auto store = bot::RedisSessionStore::Open(options, std::move(clock));
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    return std::move(store).value();
  }
};
#define STORE_FIXTURES MemoryStoreFixture, SqliteStoreFixture, RedisStoreFixture
#else
#define STORE_FIXTURES MemoryStoreFixture, SqliteStoreFixture
#endif

// A session as the engine would save it after `answers` answers.
Session MakeSession(const std::string& key, int64_t version, int64_t updated_at = FakeClock::kStart) {
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
  s.created_at = FakeClock::kStart;
  s.updated_at = updated_at;
  return s;
}

TurnRecord MakeTurn(const std::string& input, const std::string& user = "slack:T1:U1") {
  return TurnRecord{FakeClock::kStart, user, "account-status", input, "asking"};
}

std::vector<std::string> Inputs(const std::vector<TurnRecord>& turns) {
  std::vector<std::string> out;
  for (const TurnRecord& t : turns) out.push_back(t.input);
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("loading a key that was never stored returns no session", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  auto loaded = store->Load("slack:T1:C1:1.0");
  STORE_REQUIRE_OK(loaded.status());
  CHECK_FALSE(loaded->has_value());

  auto turns = store->Turns("slack:T1:C1:1.0");
  STORE_REQUIRE_OK(turns.status());
  CHECK(turns->empty());
}

TEMPLATE_TEST_CASE("a committed session loads back field for field", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  Session s = MakeSession("slack:T1:C1:1.0", 1);
  s.phase = Session::Phase::kEscalating;
  s.step = "mailbox";
  s.history = {{"account-status", "yes"}, {"sending-limit", "no"}, {"detail:mailbox", "ann@example.com"}};
  s.outcome = "escalated";
  s.outcome_step = "client-settings";
  STORE_REQUIRE_OK(store->Commit(s, 0, MakeTurn("yes")));

  auto loaded = store->Load(s.key);
  STORE_REQUIRE_OK(loaded.status());
  REQUIRE(loaded->has_value());
  const Session& got = **loaded;
  CHECK(got.key == s.key);
  CHECK(got.flow == "sending");
  CHECK(got.flow_version == "1.0.0");
  CHECK(got.panel == "rcp");
  CHECK(got.phase == Session::Phase::kEscalating);
  CHECK(got.step == "mailbox");
  REQUIRE(got.history.size() == 3);
  CHECK(got.history[2].step == "detail:mailbox");
  CHECK(got.history[2].value == "ann@example.com");
  CHECK(got.owner == s.owner);
  CHECK(got.outcome == "escalated");
  CHECK(got.outcome_step == "client-settings");
  CHECK(got.version == 1);
  CHECK(got.turn == 1);
  CHECK(got.created_at == s.created_at);
  CHECK(got.updated_at == s.updated_at);
  CHECK(bot::EncodeSession(got) == bot::EncodeSession(s));
}

TEMPLATE_TEST_CASE("a stale expected_version is a conflict that writes nothing", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  const std::string key = "slack:T1:C1:1.0";

  STORE_REQUIRE_OK(store->Commit(MakeSession(key, 1), 0, MakeTurn("first")));
  Session second = MakeSession(key, 2);
  second.step = "client-settings";
  STORE_REQUIRE_OK(store->Commit(second, 1, MakeTurn("second")));

  // A writer that loaded version 1 and answered differently.
  Session stale = MakeSession(key, 2);
  stale.step = "stale-step";
  Status s = store->Commit(stale, 1, MakeTurn("stale"));
  INFO(s.ToString());
  CHECK(s.code() == Status::Code::kConflict);

  auto loaded = store->Load(key);
  STORE_REQUIRE_OK(loaded.status());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->version == 2);
  CHECK((*loaded)->step == "client-settings");
  auto turns = store->Turns(key);
  STORE_REQUIRE_OK(turns.status());
  CHECK(Inputs(*turns) == std::vector<std::string>{"first", "second"});
}

TEMPLATE_TEST_CASE("expected_version 0 on an existing key is a conflict", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  const std::string key = "teams:tenant:chat";

  STORE_REQUIRE_OK(store->Commit(MakeSession(key, 1), 0, MakeTurn("first")));
  Session again = MakeSession(key, 1);
  again.flow = "webmail";
  CHECK(store->Commit(again, 0, MakeTurn("again")).code() == Status::Code::kConflict);

  auto loaded = store->Load(key);
  STORE_REQUIRE_OK(loaded.status());
  CHECK((*loaded)->flow == "sending");
  auto turns = store->Turns(key);
  STORE_REQUIRE_OK(turns.status());
  CHECK(Inputs(*turns) == std::vector<std::string>{"first"});
}

TEMPLATE_TEST_CASE("a version above expected_version + 1 is rejected as a caller error", "[store]",
                   STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  CHECK(store->Commit(MakeSession("k", 3), 0, MakeTurn("x")).code() == Status::Code::kInvalidArgument);
  CHECK(store->Commit(MakeSession("", 1), 0, MakeTurn("x")).code() == Status::Code::kInvalidArgument);
  auto loaded = store->Load("k");
  STORE_REQUIRE_OK(loaded.status());
  CHECK_FALSE(loaded->has_value());
}

TEMPLATE_TEST_CASE("turns are appended in order, and only by commits that succeed", "[store]",
                   STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  const std::string a = "slack:T1:C1:1.0";
  const std::string b = "slack:T1:C1:2.0";

  STORE_REQUIRE_OK(store->Commit(MakeSession(a, 1), 0, MakeTurn("choice:start:sending")));
  STORE_REQUIRE_OK(store->Commit(MakeSession(b, 1), 0, MakeTurn("other thread")));
  STORE_REQUIRE_OK(store->Commit(MakeSession(a, 2), 1, MakeTurn("rcp")));
  CHECK(store->Commit(MakeSession(a, 2), 1, MakeTurn("lost race")).code() == Status::Code::kConflict);
  TurnRecord detailed{FakeClock::kStart + 5, "slack:T1:U2", "sending-limit", "no", "after_fail"};
  STORE_REQUIRE_OK(store->Commit(MakeSession(a, 3), 2, detailed));

  auto turns = store->Turns(a);
  STORE_REQUIRE_OK(turns.status());
  CHECK(Inputs(*turns) == std::vector<std::string>{"choice:start:sending", "rcp", "no"});
  const TurnRecord& last = turns->back();
  CHECK(last.at == FakeClock::kStart + 5);
  CHECK(last.user == "slack:T1:U2");
  CHECK(last.step == "sending-limit");
  CHECK(last.result == "after_fail");

  auto other = store->Turns(b);
  STORE_REQUIRE_OK(other.status());
  CHECK(Inputs(*other) == std::vector<std::string>{"other thread"});
}

TEMPLATE_TEST_CASE("preferences are kept per user and name", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  auto unset = store->GetPreference("slack:T1:U1", "panel");
  STORE_REQUIRE_OK(unset.status());
  CHECK(*unset == "");

  STORE_REQUIRE_OK(store->SetPreference("slack:T1:U1", "panel", "mac"));
  STORE_REQUIRE_OK(store->SetPreference("slack:T1:U2", "panel", "rcp"));
  STORE_REQUIRE_OK(store->SetPreference("slack:T1:U1", "panel", "rcp"));
  STORE_REQUIRE_OK(store->SetPreference("slack:T1:U1", "other", "x"));

  CHECK(*store->GetPreference("slack:T1:U1", "panel") == "rcp");
  CHECK(*store->GetPreference("slack:T1:U2", "panel") == "rcp");
  CHECK(*store->GetPreference("slack:T1:U1", "other") == "x");
  CHECK(*store->GetPreference("slack:T1:U3", "panel") == "");
}

TEMPLATE_TEST_CASE("an event id is claimed once, and again after its ttl", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  auto first = store->ClaimEvent("Ev01", 300);
  STORE_REQUIRE_OK(first.status());
  CHECK(*first);
  CHECK_FALSE(*store->ClaimEvent("Ev01", 300));
  CHECK(*store->ClaimEvent("Ev02", 300));

  clock.Advance(299);
  CHECK_FALSE(*store->ClaimEvent("Ev01", 300));
  clock.Advance(1);
  CHECK(*store->ClaimEvent("Ev01", 300));
  CHECK_FALSE(*store->ClaimEvent("Ev01", 300));

  CHECK(store->ClaimEvent("", 300).status().code() == Status::Code::kInvalidArgument);
  CHECK(store->ClaimEvent("Ev03", 0).status().code() == Status::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("a commit with an event claim claims it in the same step", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  STORE_REQUIRE_OK(store->Commit(MakeSession("k1", 1), 0, MakeTurn("yes"), bot::EventClaim{"Ev10", 300}));
  CHECK_FALSE(*store->ClaimEvent("Ev10", 300));
  clock.Advance(300);
  CHECK(*store->ClaimEvent("Ev10", 300));
}

TEMPLATE_TEST_CASE("a commit whose event was claimed before writes nothing", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  REQUIRE(*store->ClaimEvent("Ev20", 300));
  Status repeated = store->Commit(MakeSession("k2", 1), 0, MakeTurn("yes"), bot::EventClaim{"Ev20", 300});
  CHECK(repeated.code() == Status::Code::kAlreadyExists);
  CHECK_FALSE(store->Load("k2")->has_value());
  CHECK(store->Turns("k2")->empty());

  // Claimed by an earlier commit: the redelivered turn finds its claim too.
  STORE_REQUIRE_OK(store->Commit(MakeSession("k2", 1), 0, MakeTurn("yes"), bot::EventClaim{"Ev21", 300}));
  repeated = store->Commit(MakeSession("k2", 2), 1, MakeTurn("no"), bot::EventClaim{"Ev21", 300});
  CHECK(repeated.code() == Status::Code::kAlreadyExists);
  CHECK((*store->Load("k2"))->version == 1);
  CHECK(Inputs(*store->Turns("k2")) == std::vector<std::string>{"yes"});

  // An expired claim is no repeat.
  clock.Advance(300);
  STORE_REQUIRE_OK(store->Commit(MakeSession("k2", 2), 1, MakeTurn("no"), bot::EventClaim{"Ev21", 300}));
}

TEMPLATE_TEST_CASE("a conflicting commit claims nothing", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  STORE_REQUIRE_OK(store->Commit(MakeSession("k3", 1), 0, MakeTurn("yes")));
  Status stale = store->Commit(MakeSession("k3", 1), 0, MakeTurn("no"), bot::EventClaim{"Ev30", 300});
  CHECK(stale.code() == Status::Code::kConflict);
  CHECK(*store->ClaimEvent("Ev30", 300));

  Status bad_ttl = store->Commit(MakeSession("k3", 2), 1, MakeTurn("no"), bot::EventClaim{"Ev31", 0});
  CHECK(bad_ttl.code() == Status::Code::kInvalidArgument);
  CHECK(*store->ClaimEvent("Ev31", 300));
  CHECK((*store->Load("k3"))->version == 1);
}

TEMPLATE_TEST_CASE("hits are counted per key in fixed windows", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  CHECK(*store->CountHit("user:U1", 60) == 1);
  CHECK(*store->CountHit("user:U1", 60) == 2);
  CHECK(*store->CountHit("user:U2", 60) == 1);
  clock.Advance(59);
  CHECK(*store->CountHit("user:U1", 60) == 3);
  clock.Advance(1);  // the next window
  CHECK(*store->CountHit("user:U1", 60) == 1);
  CHECK(*store->CountHit("user:U2", 60) == 1);
  clock.Advance(30);
  CHECK(*store->CountHit("user:U1", 60) == 2);

  CHECK(store->CountHit("user:U1", 0).status().code() == Status::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("outcomes are those of sessions updated within the range, oldest first", "[store]",
                   STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());

  Session resolved = MakeSession("k-resolved", 1, 2000);
  resolved.outcome = "resolved";
  resolved.outcome_step = "sending-limit";
  Session escalated = MakeSession("k-escalated", 1, 3000);
  escalated.outcome = "escalated";
  escalated.panel = "mac";
  Session old = MakeSession("k-old", 1, 1000);
  Session later = MakeSession("k-later", 1, 3001);
  for (const Session& s : {later, escalated, old, resolved}) {
    STORE_REQUIRE_OK(store->Commit(s, 0, MakeTurn("x")));
  }
  // An update moves a session's outcome to its new time.
  Session moved = MakeSession("k-old", 2, 2500);
  moved.outcome = "abandoned";
  STORE_REQUIRE_OK(store->Commit(moved, 1, MakeTurn("y")));

  auto outcomes = store->Outcomes(2000, 3000);
  STORE_REQUIRE_OK(outcomes.status());
  REQUIRE(outcomes->size() == 3);
  const auto& out = *outcomes;
  CHECK(out[0].key == "k-resolved");
  CHECK(out[0].outcome == "resolved");
  CHECK(out[0].step == "sending-limit");
  CHECK(out[0].flow == "sending");
  CHECK(out[0].panel == "rcp");
  CHECK(out[0].created_at == FakeClock::kStart);
  CHECK(out[0].updated_at == 2000);
  CHECK(out[1].key == "k-old");
  CHECK(out[1].outcome == "abandoned");
  CHECK(out[2].key == "k-escalated");
  CHECK(out[2].panel == "mac");

  auto none = store->Outcomes(4000, 5000);
  STORE_REQUIRE_OK(none.status());
  CHECK(none->empty());
}

TEMPLATE_TEST_CASE("a new case in the same conversation keeps the previous case's outcome", "[store]",
                   STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  const std::string key = "slack:T1:D1";

  // Case 1 is resolved; case 2 starts in the same DM (a new created_at) and is left open when
  // case 3 starts; case 3 goes on (same created_at) and is escalated.
  Session first = MakeSession(key, 1, 2000);
  first.created_at = 1900;
  STORE_REQUIRE_OK(store->Commit(first, 0, MakeTurn("a")));
  first.version = 2;
  first.updated_at = 2100;
  first.outcome = "resolved";
  first.outcome_step = "sending-limit";
  STORE_REQUIRE_OK(store->Commit(first, 1, MakeTurn("b")));
  Session second = MakeSession(key, 3, 2200);
  second.created_at = 2200;
  second.flow = "webmail";
  STORE_REQUIRE_OK(store->Commit(second, 2, MakeTurn("c")));
  Session third = MakeSession(key, 4, 2300);
  third.created_at = 2300;
  STORE_REQUIRE_OK(store->Commit(third, 3, MakeTurn("d")));
  third.version = 5;
  third.updated_at = 2400;
  third.outcome = "escalated";
  STORE_REQUIRE_OK(store->Commit(third, 4, MakeTurn("e")));

  auto all = store->Outcomes(0, 5000);
  STORE_REQUIRE_OK(all.status());
  REQUIRE(all->size() == 3);
  const auto& out = *all;
  CHECK(out[0].key == key);
  CHECK(out[0].created_at == 1900);
  CHECK(out[0].updated_at == 2100);
  CHECK(out[0].outcome == "resolved");
  CHECK(out[0].step == "sending-limit");
  CHECK(out[0].flow == "sending");
  CHECK(out[1].key == key);
  CHECK(out[1].created_at == 2200);
  CHECK(out[1].flow == "webmail");
  CHECK(out[1].outcome == "abandoned");  // left open when the next case began
  CHECK(out[2].created_at == 2300);
  CHECK(out[2].updated_at == 2400);
  CHECK(out[2].outcome == "escalated");

  // Earlier cases are filtered by their own last update.
  auto later = store->Outcomes(2150, 5000);
  STORE_REQUIRE_OK(later.status());
  REQUIRE(later->size() == 2);
  CHECK((*later)[0].created_at == 2200);
  CHECK((*later)[1].created_at == 2300);

  // Erasing the conversation forgets every case of it.
  STORE_REQUIRE_OK(store->Erase(key));
  auto none = store->Outcomes(0, 5000);
  STORE_REQUIRE_OK(none.status());
  CHECK(none->empty());
}

TEMPLATE_TEST_CASE("erase removes a session and its turns", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  const std::string key = "slack:T1:C1:1.0";

  STORE_REQUIRE_OK(store->Commit(MakeSession(key, 1), 0, MakeTurn("a")));
  STORE_REQUIRE_OK(store->Commit(MakeSession(key, 2), 1, MakeTurn("b")));
  STORE_REQUIRE_OK(store->Commit(MakeSession("kept", 1), 0, MakeTurn("c")));
  STORE_REQUIRE_OK(store->Erase(key));
  STORE_REQUIRE_OK(store->Erase("never-stored"));

  CHECK_FALSE(store->Load(key)->has_value());
  CHECK(store->Turns(key)->empty());
  CHECK(store->Load("kept")->has_value());
  CHECK(store->Turns("kept")->size() == 1);

  // The key starts over as a new conversation.
  STORE_REQUIRE_OK(store->Commit(MakeSession(key, 1), 0, MakeTurn("fresh")));
  CHECK(Inputs(*store->Turns(key)) == std::vector<std::string>{"fresh"});
}

TEMPLATE_TEST_CASE("concurrent commits on one key each win exactly once and lose no turn", "[store]",
                   STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  const std::string key = "slack:T1:C1:busy";
  constexpr int kThreads = 8;
  constexpr int kCommitsPerThread = 20;

  // Catch2 assertions are not thread-safe: threads count, the main thread checks.
  std::atomic<int> errors{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommitsPerThread; ++i) {
        const std::string input = std::to_string(t) + ":" + std::to_string(i);
        while (true) {
          auto loaded = store->Load(key);
          if (!loaded.ok()) {
            ++errors;
            return;
          }
          Session s = loaded->has_value() ? **loaded : MakeSession(key, 0);
          const int64_t expected = loaded->has_value() ? s.version : 0;
          s.version = expected + 1;
          s.turn = s.version;
          s.history.push_back({"thread-" + std::to_string(t), input});
          Status st = store->Commit(s, expected, MakeTurn(input, "user-" + std::to_string(t)));
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

  constexpr int kTotal = kThreads * kCommitsPerThread;
  auto loaded = store->Load(key);
  STORE_REQUIRE_OK(loaded.status());
  REQUIRE(loaded->has_value());
  const Session& final_session = **loaded;
  CHECK(final_session.version == kTotal);
  REQUIRE(final_session.history.size() == kTotal);

  auto turns = store->Turns(key);
  STORE_REQUIRE_OK(turns.status());
  REQUIRE(turns->size() == kTotal);
  // One winner per version: the log and the session's own history saw the same sequence, and
  // every thread's answers appear once each, in the order that thread made them.
  std::map<std::string, int> next_per_user;
  for (size_t i = 0; i < turns->size(); ++i) {
    const TurnRecord& turn = (*turns)[i];
    CHECK(turn.input == final_session.history[i].value);
    const std::string thread = turn.input.substr(0, turn.input.find(':'));
    const int n = std::stoi(turn.input.substr(turn.input.find(':') + 1));
    CHECK(n == next_per_user[thread]++);
  }
  for (int t = 0; t < kThreads; ++t) CHECK(next_per_user[std::to_string(t)] == kCommitsPerThread);
}

TEMPLATE_TEST_CASE("concurrent commits on many keys all land, each with its own turns", "[store]",
                   STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  constexpr int kThreads = 8;
  constexpr int kCommitsPerThread = 25;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "slack:T1:C1:agent-" + std::to_string(t);
      for (int i = 0; i < kCommitsPerThread; ++i) {
        Session s = MakeSession(key, i + 1);
        s.history.push_back({"step", std::to_string(i)});
        if (!store->Commit(s, i, MakeTurn(std::to_string(i), "user-" + std::to_string(t))).ok()) ++errors;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  REQUIRE(errors == 0);
  for (int t = 0; t < kThreads; ++t) {
    const std::string key = "slack:T1:C1:agent-" + std::to_string(t);
    auto loaded = store->Load(key);
    STORE_REQUIRE_OK(loaded.status());
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->version == kCommitsPerThread);
    auto turns = store->Turns(key);
    STORE_REQUIRE_OK(turns.status());
    REQUIRE(turns->size() == kCommitsPerThread);
    for (int i = 0; i < kCommitsPerThread; ++i) CHECK((*turns)[i].input == std::to_string(i));
  }
}

TEMPLATE_TEST_CASE("concurrent claims and commits: each event is won once, each turn lands, each load is current",
                   "[store]", STORE_FIXTURES) {
  // The way a server drives a store: per conversation, claim the click, load, commit; many
  // conversations at once, and every click delivered twice (a platform retry racing it).
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  constexpr int kThreads = 8;
  constexpr int kTurnsPerThread = 20;
  std::atomic<int> errors{0};
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Threads pair up: t and t^1 claim the same event ids; only the even one commits.
      const std::string key = "slack:T1:C1:agent-" + std::to_string(t);
      for (int i = 0; i < kTurnsPerThread; ++i) {
        auto claimed = store->ClaimEvent("evt-" + std::to_string(t / 2) + "-" + std::to_string(i), 600);
        if (!claimed.ok()) ++errors;
        if (claimed.ok() && *claimed) ++won;
        if (t % 2 == 1) continue;
        auto loaded = store->Load(key);
        if (!loaded.ok() || loaded->has_value() != (i > 0) || (i > 0 && (*loaded)->version != i)) ++errors;
        if (!store->Commit(MakeSession(key, i + 1), i, MakeTurn(std::to_string(i))).ok()) ++errors;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(errors == 0);
  CHECK(won == kThreads / 2 * kTurnsPerThread);
  for (int t = 0; t < kThreads; t += 2) {
    auto turns = store->Turns("slack:T1:C1:agent-" + std::to_string(t));
    STORE_REQUIRE_OK(turns.status());
    CHECK(turns->size() == kTurnsPerThread);
  }
}

TEMPLATE_TEST_CASE("a reachable store answers ping", "[store]", STORE_FIXTURES) {
  TestType fixture;
  FakeClock clock;
  auto store = fixture.Open(clock.AsClock());
  STORE_REQUIRE_OK(store->Ping());
}
