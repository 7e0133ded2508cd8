#include "bot/store/store_factory.h"

#include <charconv>
#include <filesystem>
#include <system_error>

#include "bot/memory_session_store.h"
#include "bot/store/sqlite_session_store.h"
#ifdef BOT_WITH_REDIS
#include "bot/store/redis_session_store.h"
#endif

namespace bot {

namespace {

constexpr const char* kAcceptedForms =
    "use \"memory\", \"sqlite:PATH\" (e.g. sqlite:./var/sessions.db) or \"redis://HOST:PORT[/DB]\"";

Status Malformed(const std::string& spec, const std::string& why) {
  return Status::InvalidArgument("MAILGUIDE_STORE \"" + spec + "\" " + why + ": " + kAcceptedForms);
}

bool ParseInt(std::string_view text, int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<StoreSpec> ParseStoreSpec(const std::string& spec, const std::string& data_dir) {
  StoreSpec out;
  if (spec.empty()) {
    out.kind = StoreSpec::Kind::kSqlite;
    out.path = ((data_dir.empty() ? std::filesystem::path(".") : std::filesystem::path(data_dir)) /
                "sessions.db")
                   .string();
    return out;
  }
  if (spec == "memory") {
    out.kind = StoreSpec::Kind::kMemory;
    return out;
  }
  if (spec.rfind("sqlite:", 0) == 0) {
    out.kind = StoreSpec::Kind::kSqlite;
    out.path = spec.substr(7);
    if (out.path.empty()) return Malformed(spec, "has no database path after \"sqlite:\"");
    if (out.path.rfind("//", 0) == 0) {
      return Malformed(spec, "looks like a URL; sqlite takes a plain path, with no \"//\"");
    }
    return out;
  }
  if (spec.rfind("redis://", 0) == 0) {
    out.kind = StoreSpec::Kind::kRedis;
    std::string rest = spec.substr(8);
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      if (!ParseInt(std::string_view(rest).substr(slash + 1), out.db) || out.db < 0) {
        return Malformed(spec, "has a database number that is not a non-negative integer");
      }
      rest.resize(slash);
    }
    if (auto colon = rest.rfind(':'); colon != std::string::npos) {
      if (!ParseInt(std::string_view(rest).substr(colon + 1), out.port) || out.port < 1 || out.port > 65535) {
        return Malformed(spec, "has a port that is not a number from 1 to 65535");
      }
      rest.resize(colon);
    }
    if (rest.empty()) return Malformed(spec, "has no host");
    if (rest.find('@') != std::string::npos) {
      return Malformed(spec, "has credentials in the URL, which are not supported");
    }
    out.host = rest;
    return out;
  }
  return Malformed(spec, "is not a store this mailguide knows");
}

Result<std::unique_ptr<SessionStore>> OpenStore(const std::string& spec, const std::string& data_dir,
                                                Clock clock, const StoreOptions& options) {
  Result<StoreSpec> parsed = ParseStoreSpec(spec, data_dir);
  if (!parsed.ok()) return parsed.status();
  switch (parsed->kind) {
    case StoreSpec::Kind::kMemory:
      return std::unique_ptr<SessionStore>(std::make_unique<MemorySessionStore>(std::move(clock)));
    case StoreSpec::Kind::kSqlite: {
      const std::string& path = parsed->path;
      if (path != ":memory:") {
        const std::filesystem::path dir = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!dir.empty()) std::filesystem::create_directories(dir, ec);
        if (ec) {
          return Status::Unavailable("cannot create the directory " + dir.string() + " for the session database: " +
                                     ec.message() + "; set MAILGUIDE_DATA_DIR to a writable directory");
        }
      }
      SqliteSessionStore::Options sqlite_options;
      sqlite_options.retention_seconds = options.session_ttl_seconds + options.retention_grace_seconds;
      Result<std::unique_ptr<SqliteSessionStore>> store =
          SqliteSessionStore::Open(path, std::move(clock), sqlite_options);
      if (!store.ok()) return store.status();
      return std::unique_ptr<SessionStore>(std::move(store).value());
    }
    case StoreSpec::Kind::kRedis: {
#ifdef BOT_WITH_REDIS
      RedisSessionStore::Options redis_options;
      redis_options.host = parsed->host;
      redis_options.port = parsed->port;
      redis_options.db = parsed->db;
      redis_options.retention_seconds = options.session_ttl_seconds + options.retention_grace_seconds;
      Result<std::unique_ptr<RedisSessionStore>> store = RedisSessionStore::Open(redis_options, std::move(clock));
      if (!store.ok()) return store.status();
      return std::unique_ptr<SessionStore>(std::move(store).value());
#else
      return Status::InvalidArgument("MAILGUIDE_STORE \"" + spec +
                                     "\": this mailguide was configured with BOT_WITH_REDIS=OFF, so the redis "
                                     "store is not built yet; rebuild with -DBOT_WITH_REDIS=ON or use "
                                     "\"sqlite:PATH\" or \"memory\"");
#endif
    }
  }
  return Status::Internal("unhandled store kind");
}

}  // namespace bot
