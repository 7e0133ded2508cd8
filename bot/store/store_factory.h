// OpenStore: turns MAILGUIDE_STORE (`memory`, `sqlite:PATH`, `redis://HOST:PORT[/DB]`) into a
// SessionStore. The one place that knows every store kind; main and the CLI call it once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bot/clock.h"
#include "bot/session_store.h"
#include "bot/status.h"

namespace bot {

// MAILGUIDE_STORE, parsed. Exposed so configuration can be validated before anything opens.
struct StoreSpec {
  enum class Kind { kMemory, kSqlite, kRedis };
  Kind kind = Kind::kSqlite;
  std::string path;  // kSqlite: the database file (as given: relative to the working directory)
  std::string host;  // kRedis
  int port = 6379;   // kRedis
  int db = 0;        // kRedis: the /DB suffix
};

// Parses a store spec. An empty spec means the default, `sqlite:DATA_DIR/sessions.db`.
// InvalidArgument, naming the accepted forms, for anything else.
Result<StoreSpec> ParseStoreSpec(const std::string& spec, const std::string& data_dir);

struct StoreOptions {
  // MAILGUIDE_SESSION_TTL. The store does not expire conversations itself (the engine checks
  // updated_at, so it can say "this conversation expired"); it keeps rows for
  // session_ttl_seconds + retention_grace_seconds and then deletes them.
  int64_t session_ttl_seconds = 86400;
  int64_t retention_grace_seconds = 7 * 86400;
};

// Opens the store `spec` names (see ParseStoreSpec). For sqlite, creates the database's
// directory (MAILGUIDE_DATA_DIR for the default) when missing. Errors: InvalidArgument for a
// malformed spec, an unusable database file, or a redis:// spec in a build without the Redis
// store; Unavailable when the store cannot be opened or reached.
Result<std::unique_ptr<SessionStore>> OpenStore(const std::string& spec, const std::string& data_dir,
                                                Clock clock = UnixNow, const StoreOptions& options = {});

}  // namespace bot
