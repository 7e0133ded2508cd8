// Rate limits on case starts and lookups (bot/rate_limiter.h and the engine's hook): per user
// and per workspace, a polite reply when exceeded, nothing changed, counted in the store.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bot/engine.h"
#include "bot/memory_session_store.h"
#include "bot/rate_limiter.h"
#include "bot/server/config.h"
#include "bot/store/sqlite_session_store.h"
#ifdef BOT_WITH_REDIS
#include "bot/store/redis_session_store.h"
#include "support/redis_server.h"
#endif
#include "support/engine_harness.h"
#include "support/process.h"

namespace {

using bot::Engine;
using bot::EngineOptions;
using bot::Message;
using bot::RateLimits;
using bot::TurnResult;
using bot::testing::AllText;
using bot::testing::ShippedContent;

bool IsPolite(const TurnResult& t) {
  return t.replies.size() == 1 && t.replies[0].title == "One moment, please" && t.replies[0].ephemeral;
}

// One engine over one store, a clock the test moves, and messages from any user and thread.
struct World {
  int64_t now = 1700000000;
  std::unique_ptr<bot::SessionStore> store;
  std::unique_ptr<Engine> engine;

  explicit World(RateLimits limits, std::unique_ptr<bot::SessionStore> s = nullptr) {
    store = s ? std::move(s) : std::make_unique<bot::MemorySessionStore>([this] { return now; });
    EngineOptions o;
    o.clock = [this] { return now; };
    o.rate_limits = limits;
    engine = std::make_unique<Engine>(ShippedContent(), *store, o);
  }

  static Message Msg(const std::string& user, const std::string& thread, const std::string& workspace = "W1") {
    Message m;
    m.ref.platform = "test";
    m.ref.workspace = workspace;
    m.ref.channel = "C1";
    m.ref.thread = thread;
    m.ref.user = user;
    return m;
  }
  TurnResult Say(const std::string& user, const std::string& thread, const std::string& text,
                 const std::string& workspace = "W1") {
    Message m = Msg(user, thread, workspace);
    m.text = text;
    return Handle(m);
  }
  TurnResult Command(const std::string& user, const std::string& thread, const std::string& command,
                     const std::string& text) {
    Message m = Msg(user, thread);
    m.command = command;
    m.text = text;
    return Handle(m);
  }
  TurnResult Handle(const Message& m) {
    auto r = engine->Handle(m);
    REQUIRE(r.ok());
    return *r;
  }
  bool HasSession(const std::string& user, const std::string& thread, const std::string& workspace = "W1") {
    auto loaded = store->Load(Msg(user, thread, workspace).ref.Key());
    REQUIRE(loaded.ok());
    return loaded->has_value();
  }
};

}  // namespace

TEST_CASE("rate limits: off unless configured, so the engine's defaults never refuse", "[rate]") {
  World w(RateLimits{});
  for (int i = 0; i < 50; ++i) CHECK_FALSE(IsPolite(w.Say("U1", "t" + std::to_string(i), "webmail")));
  CHECK_FALSE(RateLimits{}.enabled());
  CHECK(RateLimits::Serving().enabled());
}

TEST_CASE("rate limits: a user's case starts over the limit get a polite reply and start nothing", "[rate]") {
  World w(RateLimits{3, 0, 60});
  for (int i = 0; i < 3; ++i) {
    TurnResult t = w.Say("U1", "t" + std::to_string(i), "webmail");
    CHECK_FALSE(IsPolite(t));
    CHECK(w.HasSession("U1", "t" + std::to_string(i)));
  }
  TurnResult refused = w.Say("U1", "t3", "webmail");
  REQUIRE(IsPolite(refused));
  CHECK(AllText(refused).find("3 checks and lookups within a minute") != std::string::npos);
  CHECK(AllText(refused).find("try again in a minute") != std::string::npos);
  CHECK(refused.status == bot::TurnStatus::kCompleted);
  CHECK_FALSE(w.HasSession("U1", "t3"));  // no state change

  // Someone else is not affected; the same person is again after the window.
  CHECK_FALSE(IsPolite(w.Say("U2", "u0", "webmail")));
  w.now += 60;
  CHECK_FALSE(IsPolite(w.Say("U1", "t4", "webmail")));
  CHECK(w.HasSession("U1", "t4"));
}

TEST_CASE("rate limits: answering an open case is never limited", "[rate]") {
  World w(RateLimits{1, 1, 60});
  CHECK_FALSE(IsPolite(w.Say("U1", "t1", "webmail")));
  for (const char* answer : {"rcp", "yes", "yes", "no", "back", "help", "yes", "skip", "no"}) {
    INFO(answer);
    CHECK_FALSE(IsPolite(w.Say("U1", "t1", answer)));
  }
}

TEST_CASE("rate limits: lookups count (SMTP codes, pasted bounces, /mailguide check)", "[rate]") {
  World w(RateLimits{4, 0, 60});
  CHECK_FALSE(IsPolite(w.Command("U1", "t1", "smtp-code", "550 5.1.1")));
  CHECK_FALSE(IsPolite(w.Say("U1", "t2", "550 5.7.26 unauthenticated email")));  // a code typed in a DM
  CHECK_FALSE(IsPolite(w.Command("U1", "t3", "mailguide", "check example.com")));
  CHECK_FALSE(IsPolite(w.Command("U1", "t4", "smtp-code", "421 4.7.0")));
  TurnResult refused = w.Command("U1", "t5", "smtp-code", "550 5.1.1");
  REQUIRE(IsPolite(refused));
  CHECK(AllText(refused).find("lookups and checks") != std::string::npos);
  CHECK(IsPolite(w.Command("U1", "t6", "mailguide", "check example.com")));
  // Help is neither a start nor a lookup.
  CHECK_FALSE(IsPolite(w.Say("U1", "t7", "help")));
}

TEST_CASE("rate limits: a workspace's limit covers all its people, and only that workspace", "[rate]") {
  World w(RateLimits{0, 5, 60});
  for (int i = 0; i < 5; ++i) CHECK_FALSE(IsPolite(w.Say("U" + std::to_string(i), "t" + std::to_string(i), "sending")));
  TurnResult refused = w.Say("U9", "t9", "sending");
  REQUIRE(IsPolite(refused));
  CHECK(AllText(refused).find("This workspace has asked for 5") != std::string::npos);
  CHECK_FALSE(w.HasSession("U9", "t9"));
  CHECK_FALSE(IsPolite(w.Say("U9", "t9", "sending", "W2")));
}

TEST_CASE("rate limits: a refused restart leaves the open case exactly as it was", "[rate]") {
  World w(RateLimits{1, 0, 60});
  CHECK_FALSE(IsPolite(w.Say("U1", "t1", "webmail")));
  auto before = w.store->Load(World::Msg("U1", "t1").ref.Key());
  REQUIRE(before.ok());
  REQUIRE(before->has_value());
  TurnResult refused = w.Command("U1", "t1", "mailguide", "sending");
  REQUIRE(IsPolite(refused));
  auto after = w.store->Load(World::Msg("U1", "t1").ref.Key());
  REQUIRE(after.ok());
  REQUIRE(after->has_value());
  CHECK((*after)->version == (*before)->version);
  CHECK((*after)->flow == "webmail");
}

TEST_CASE("rate limits: counted in the store, so engines sharing it (replicas) share the counts", "[rate]") {
  bot::testing::TempDir dir;
  int64_t now = 1700000000;
  auto opened = bot::SqliteSessionStore::Open(dir.path() + "/sessions.db", [&now] { return now; });
  REQUIRE(opened.ok());
  std::unique_ptr<bot::SessionStore> store = std::move(opened).value();
  EngineOptions o;
  o.clock = [&now] { return now; };
  o.rate_limits = RateLimits{2, 0, 60};
  Engine a(ShippedContent(), *store, o);
  Engine b(ShippedContent(), *store, o);
  auto say = [](Engine& e, const std::string& thread) {
    Message m = World::Msg("U1", thread);
    m.text = "receiving";
    auto r = e.Handle(m);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK_FALSE(IsPolite(say(a, "t1")));
  CHECK_FALSE(IsPolite(say(b, "t2")));
  CHECK(IsPolite(say(a, "t3")));
  CHECK(IsPolite(say(b, "t4")));
}

#ifdef BOT_WITH_REDIS
TEST_CASE("rate limits: with Redis, two replicas (two stores on one server) share the counts", "[rate][redis]") {
  bot::testing::RedisServer& server = bot::testing::RedisServer::Shared();
  int64_t now = 1700000000 + 3600 * 7;  // a window of its own on the shared server
  auto open = [&] {
    bot::RedisStoreOptions o;
    o.host = server.host();
    o.port = server.port();
    o.key_prefix = "rate-test-" + std::to_string(::getpid()) + ":";
    auto store = bot::RedisSessionStore::Open(o, [&now] { return now; });
    REQUIRE(store.ok());
    return std::move(store).value();
  };
  auto first = open();
  auto second = open();
  EngineOptions o;
  o.clock = [&now] { return now; };
  o.rate_limits = RateLimits{2, 0, 60};
  Engine a(ShippedContent(), *first, o);
  Engine b(ShippedContent(), *second, o);
  auto lookup = [](Engine& e, const std::string& thread) {
    Message m = World::Msg("U1", thread);
    m.command = "smtp-code";
    m.text = "550 5.1.1";
    auto r = e.Handle(m);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK_FALSE(IsPolite(lookup(a, "t1")));
  CHECK_FALSE(IsPolite(lookup(b, "t2")));
  CHECK(IsPolite(lookup(a, "t3")));
  CHECK(IsPolite(lookup(b, "t4")));
  now += 60;
  CHECK_FALSE(IsPolite(lookup(b, "t5")));
}
#endif

TEST_CASE("rate limits: MAILGUIDE_RATE_* configure them, with documented defaults", "[rate][config]") {
  auto load = [](std::map<std::string, std::string> env) {
    return bot::LoadConfig([env](const std::string& k) -> std::optional<std::string> {
      auto it = env.find(k);
      if (it == env.end()) return std::nullopt;
      return it->second;
    });
  };
  auto defaults = load({});
  REQUIRE(defaults.ok());
  CHECK(defaults->engine.rate_limits.user_per_minute == 20);
  CHECK(defaults->engine.rate_limits.workspace_per_minute == 300);
  auto set = load({{"MAILGUIDE_RATE_USER_PER_MIN", "5"}, {"MAILGUIDE_RATE_WORKSPACE_PER_MIN", "0"}});
  REQUIRE(set.ok());
  CHECK(set->engine.rate_limits.user_per_minute == 5);
  CHECK(set->engine.rate_limits.workspace_per_minute == 0);
  auto bad = load({{"MAILGUIDE_RATE_USER_PER_MIN", "lots"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("MAILGUIDE_RATE_USER_PER_MIN") != std::string::npos);
}
