// MAILGUIDE_STORE parsing and OpenStore: each accepted form, and a clear error for the rest.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "bot/store/store_factory.h"
#include "support/process.h"

using bot::testing::TempDir;
using bot::Status;
using bot::StoreSpec;

namespace {


}  // namespace

TEST_CASE("store specs parse into their kind and parts", "[store]") {
  auto memory = bot::ParseStoreSpec("memory", "./var");
  REQUIRE(memory.ok());
  CHECK(memory->kind == StoreSpec::Kind::kMemory);

  auto sqlite = bot::ParseStoreSpec("sqlite:/srv/mailguide/s.db", "./var");
  REQUIRE(sqlite.ok());
  CHECK(sqlite->kind == StoreSpec::Kind::kSqlite);
  CHECK(sqlite->path == "/srv/mailguide/s.db");

  auto fallback = bot::ParseStoreSpec("", "/data");
  REQUIRE(fallback.ok());
  CHECK(fallback->kind == StoreSpec::Kind::kSqlite);
  CHECK(fallback->path == "/data/sessions.db");

  auto redis = bot::ParseStoreSpec("redis://cache.internal:6380/2", "./var");
  REQUIRE(redis.ok());
  CHECK(redis->kind == StoreSpec::Kind::kRedis);
  CHECK(redis->host == "cache.internal");
  CHECK(redis->port == 6380);
  CHECK(redis->db == 2);

  auto redis_default = bot::ParseStoreSpec("redis://127.0.0.1", "./var");
  REQUIRE(redis_default.ok());
  CHECK(redis_default->port == 6379);
  CHECK(redis_default->db == 0);
}

TEST_CASE("a malformed store spec names the accepted forms", "[store]") {
  for (const char* spec : {"mem", "postgres://db/x", "sqlite:", "sqlite://x.db", "redis://", "redis://:6379",
                           "redis://h:0", "redis://h:99999", "redis://h:port", "redis://h:6379/x",
                           "redis://user:pw@h:6379"}) {
    INFO(spec);
    auto parsed = bot::ParseStoreSpec(spec, "./var");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == Status::Code::kInvalidArgument);
    const std::string& message = parsed.status().message();
    CHECK_THAT(message, Catch::Contains(spec));
    CHECK_THAT(message, Catch::Contains("memory"));
    CHECK_THAT(message, Catch::Contains("sqlite:PATH"));
    CHECK_THAT(message, Catch::Contains("redis://HOST:PORT[/DB]"));
  }
}

TEST_CASE("OpenStore opens memory and sqlite stores and creates the data directory", "[store]") {
  TempDir dir;
  SECTION("memory") {
    auto store = bot::OpenStore("memory", dir.File("unused"));
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    CHECK((*store)->Ping().ok());
    CHECK_FALSE(std::filesystem::exists(dir.File("unused")));
  }
  SECTION("the default sqlite file in a data directory that does not exist yet") {
    const auto data_dir = std::filesystem::path(dir.path()) / "var" / "nested";
    auto store = bot::OpenStore("", data_dir.string());
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    CHECK((*store)->Ping().ok());
    CHECK(std::filesystem::exists(data_dir / "sessions.db"));
  }
  SECTION("an explicit sqlite path") {
    const auto path = std::filesystem::path(dir.path()) / "elsewhere" / "s.db";
    auto store = bot::OpenStore("sqlite:" + path.string(), dir.path());
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    CHECK(std::filesystem::exists(path));
  }
}

#ifdef BOT_WITH_REDIS
TEST_CASE("OpenStore says plainly when the Redis it names is unreachable", "[store]") {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  auto store = bot::OpenStore("redis://127.0.0.1:1", "./var");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == Status::Code::kUnavailable);
  CHECK_THAT(store.status().message(), Catch::Contains("127.0.0.1:1"));
  CHECK_THAT(store.status().message(), Catch::Contains("unreachable"));
}
#else
TEST_CASE("OpenStore says the redis store is not built yet", "[store]") {
  auto store = bot::OpenStore("redis://127.0.0.1:6379", "./var");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(store.status().message(), Catch::Contains("not built yet"));
}
#endif
