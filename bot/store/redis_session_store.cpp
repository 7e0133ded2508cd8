#include "bot/store/redis_session_store.h"

#include <hiredis.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace bot {

namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

timeval Millis(int ms) { return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)}; }

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string ReplyText(const redisReply* r) { return r->str ? std::string(r->str, r->len) : std::string(); }

bool ParseInt64(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// hiredis writes with write(2): a connection Redis has closed would raise SIGPIPE and kill the
// process. Around each command, SIGPIPE is blocked in this thread only and a SIGPIPE the command
// raised is consumed before the mask is restored (libpq does the same), so the process-wide
// disposition is left alone.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    const int saved_errno = errno;
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

// One command, binary-safe. nullptr when the connection failed (c->errstr says why); the
// connection is unusable after that.
Reply Send(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  SigpipeGuard guard;
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

// Kept in step with the memory and SQLite stores' checks, so every store rejects the same calls.

std::string EncodeTurn(const TurnRecord& t) {
  return json::array({t.at, t.user, t.step, t.input, t.result})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

bool DecodeTurn(std::string_view bytes, TurnRecord& out) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_array() || j.size() != 5 || !j[0].is_number_integer()) return false;
  for (size_t i = 1; i < 5; ++i) {
    if (!j[i].is_string()) return false;
  }
  out = TurnRecord{j[0].get<int64_t>(), j[1].get<std::string>(), j[2].get<std::string>(),
                   j[3].get<std::string>(), j[4].get<std::string>()};
  return true;
}

// The scripts. Each runs atomically in Redis: no other client's command interleaves with it.

// The outcome index (`outcomes`, `outcomes:expiry`) names a conversation's current case by its
// session key, read from the session hash. Earlier cases of the conversation (a new case began
// in the same DM or thread) live in the hash `cases:<key>`, one field per created_at holding
// the JSON array [flow, panel, outcome, outcome_step, created_at, updated_at], and are indexed
// as "<key>#case=<created_at>".

// KEYS: sess, turns, outcomes, outcomes:expiry, cases[, event].
// ARGV: expected, version, data, flow, panel, outcome, outcome_step, created_at, updated_at,
//       turn, retention seconds, expires_at (store clock), now (store clock), session key,
//       the cases key prefix[, the claim's expires_at, the claim's ttl].
// Returns {1, version} when written, {0, stored version} on a conflict, {2, '0'} when the
// event was claimed before (its claim is read as kClaimScript reads it).
constexpr const char* kCommitScript = R"lua(
if KEYS[6] then
  local claimed = tonumber(redis.call('GET', KEYS[6]))
  if claimed and claimed > tonumber(ARGV[13]) then return {2, '0'} end
end
local raw = redis.call('HGET', KEYS[1], 'v')
local stored = raw and tonumber(raw) or 0
if stored ~= tonumber(ARGV[1]) then return {0, raw or '0'} end
if stored == 0 then redis.call('DEL', KEYS[2]) end
if stored ~= 0 then
  local prev = redis.call('HMGET', KEYS[1], 'created_at', 'flow', 'panel', 'outcome', 'outcome_step', 'updated_at')
  if prev[1] and prev[1] ~= ARGV[8] then
    -- A new case in the same conversation: the stored case keeps its outcome (an open one was
    -- abandoned for the new case).
    local outcome = prev[4] or 'open'
    if outcome == 'open' then outcome = 'abandoned' end
    redis.call('HSET', KEYS[5], prev[1],
               cjson.encode({prev[2] or '', prev[3] or '', outcome, prev[5] or '', prev[1], prev[6] or '0'}))
    redis.call('EXPIRE', KEYS[5], ARGV[11])
    local member = ARGV[14] .. '#case=' .. prev[1]
    redis.call('ZADD', KEYS[3], prev[6] or '0', member)
    redis.call('ZADD', KEYS[4], ARGV[12], member)
  end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'data', ARGV[3], 'flow', ARGV[4], 'panel', ARGV[5],
           'outcome', ARGV[6], 'outcome_step', ARGV[7], 'created_at', ARGV[8], 'updated_at', ARGV[9])
redis.call('EXPIRE', KEYS[1], ARGV[11])
redis.call('RPUSH', KEYS[2], ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[11])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[14])
redis.call('ZADD', KEYS[4], ARGV[12], ARGV[14])
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[13], 'LIMIT', 0, 100)
if #gone > 0 then
  redis.call('ZREM', KEYS[3], unpack(gone))
  redis.call('ZREM', KEYS[4], unpack(gone))
  for _, m in ipairs(gone) do
    local k, c = string.match(m, '^(.*)#case=(%d+)$')
    if k then redis.call('HDEL', ARGV[15] .. k, c) end
  end
end
if KEYS[6] then redis.call('SET', KEYS[6], ARGV[16], 'EX', ARGV[17]) end
return {1, ARGV[2]}
)lua";

// KEYS: sess, turns, outcomes, outcomes:expiry, cases. ARGV: session key.
constexpr const char* kEraseScript = R"lua(
for _, c in ipairs(redis.call('HKEYS', KEYS[5])) do
  redis.call('ZREM', KEYS[3], ARGV[1] .. '#case=' .. c)
  redis.call('ZREM', KEYS[4], ARGV[1] .. '#case=' .. c)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
)lua";

// KEYS: event. ARGV: expires_at, ttl, now (store clock). SET NX EX claims it; a claim that is
// still in Redis but already past its expiry by the store's clock (a replica whose clock runs
// ahead) is claimed again, as the other stores do.
constexpr const char* kClaimScript = R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
local expires = tonumber(redis.call('GET', KEYS[1]))
if expires == nil or expires <= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
)lua";

// KEYS: counter. ARGV: ttl. INCR and EXPIRE together: a counter never lives without its TTL.
constexpr const char* kCountScript = R"lua(
local n = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
)lua";

// KEYS: outcomes, outcomes:expiry. ARGV: since, until, the session key prefix, the cases key
// prefix. Index entries whose session or case has expired are dropped on the way.
constexpr const char* kOutcomesScript = R"lua(
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2])
local out = {}
for _, m in ipairs(members) do
  local f = {}
  local k, c = string.match(m, '^(.*)#case=(%d+)$')
  if k then
    local rec = redis.call('HGET', ARGV[4] .. k, c)
    if rec then
      local r = cjson.decode(rec)
      f = {r[1], r[2], r[3], r[4], r[5], r[6]}
      m = k
    end
  else
    f = redis.call('HMGET', ARGV[3] .. m, 'flow', 'panel', 'outcome', 'outcome_step',
                   'created_at', 'updated_at')
  end
  if f[3] then
    out[#out + 1] = {m, f[1] or '', f[2] or '', f[3], f[4] or '', f[5] or '0', f[6] or '0'}
  else
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZREM', KEYS[2], m)
  end
end
return out
)lua";

struct Script {
  std::string source;
  std::string sha;
  explicit Script(const char* text) : source(text), sha(Sha1Hex(source)) {}
};

// EVALSHA, and EVAL when Redis does not have the script cached (first use, or after a restart:
// EVAL caches it again).
Reply Eval(redisContext* c, const Script& script, const std::vector<std::string>& keys,
           const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  Reply r = Send(c, argv);
  if (r && r->type == REDIS_REPLY_ERROR && StartsWith(ReplyText(r.get()), "NOSCRIPT")) {
    argv[0] = "EVAL";
    argv[1] = script.source;
    r = Send(c, argv);
  }
  return r;
}

}  // namespace

struct RedisSessionStore::Impl {
  Options options;
  Clock clock;
  std::string where;  // "host:port", as messages name it

  const Script commit{kCommitScript};
  const Script erase{kEraseScript};
  const Script claim{kClaimScript};
  const Script count{kCountScript};
  const Script outcomes{kOutcomesScript};

  // The pool: `open` connections exist, `idle` of them wait here; at most pool_size.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<Context> idle;
  int open = 0;
  SteadyClock::time_point down_until{};  // after a failed connect: fail fast until then
  Status down_status;                    // ... with this

  struct Lease {
    Context context;
    bool reused = false;  // came from the pool rather than a fresh connect
  };

  std::string SessKey(const std::string& key) const { return options.key_prefix + "sess:" + key; }
  std::string TurnsKey(const std::string& key) const { return options.key_prefix + "turns:" + key; }
  std::string OutcomesKey() const { return options.key_prefix + "outcomes"; }
  std::string ExpiryKey() const { return options.key_prefix + "outcomes:expiry"; }
  std::string CasesKey(const std::string& key) const { return options.key_prefix + "cases:" + key; }
  std::string PrefKey(const std::string& user) const { return options.key_prefix + "pref:" + user; }
  std::string EventKey(const std::string& id) const { return options.key_prefix + "event:" + id; }

  Status Unreachable(const std::string& why) const {
    return Status::Unavailable("the Redis store at " + where + " is unreachable: " + why +
                               "; try again in a minute");
  }

  // Why a connection failed, in words: hiredis reports a read timeout as EAGAIN's text.
  std::string Why(const redisContext* c) const {
    std::string text = c->errstr[0] ? c->errstr : "connection failed";
    if (text.find("temporarily unavailable") != std::string::npos ||
        text.find("timed out") != std::string::npos) {
      return "no answer within " + std::to_string(options.command_timeout_ms) + " ms";
    }
    return text;
  }

  // An error reply, as a Status. Redis loading its data, busy with a script, read-only or out
  // of memory is Unavailable (it passes); anything else is a bug or a misconfiguration.
  Status ReplyError(const redisReply* r, const std::string& what) const {
    const std::string text = ReplyText(r);
    for (const char* transient : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "READONLY", "OOM"}) {
      if (StartsWith(text, transient)) {
        return Status::Unavailable("the Redis store at " + where + " cannot " + what + " right now (" + text +
                                   "); try again in a minute");
      }
    }
    if (StartsWith(text, "NOAUTH") || StartsWith(text, "WRONGPASS") || StartsWith(text, "NOPERM")) {
      return Status::Unavailable("the Redis store at " + where + " refused to " + what + " (" + text +
                                 "): mailguide does not send a password; allow it without one");
    }
    return Status::Internal("the Redis store at " + where + " failed to " + what + ": " + text);
  }

  Status Unexpected(const redisReply* r, const std::string& what) const {
    return Status::Internal("the Redis store at " + where + " gave an unexpected reply (type " +
                            std::to_string(r->type) + ") to " + what);
  }

  // Nothing should be waiting to be read on an idle connection: if the socket is readable,
  // Redis closed it (a restart, its idle `timeout`) and it must not be used.
  static bool StillOpen(const redisContext* c) {
    pollfd p{c->fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  Result<Context> Connect() const {
    Context c(redisConnectWithTimeout(options.host.c_str(), options.port, Millis(options.connect_timeout_ms)));
    if (!c) return Unreachable("out of memory making a connection");
    if (c->err) return Unreachable(c->errstr[0] ? c->errstr : "connect failed");
    redisSetTimeout(c.get(), Millis(options.command_timeout_ms));
    redisEnableKeepAlive(c.get());
    if (options.db != 0) {
      Reply r = Send(c.get(), {"SELECT", std::to_string(options.db)});
      if (!r) return Unreachable(Why(c.get()));
      if (r->type == REDIS_REPLY_ERROR) {
        return Status::InvalidArgument("the Redis store at " + where + " has no database " +
                                       std::to_string(options.db) + " (" + ReplyText(r.get()) +
                                       "): use a number below its `databases` setting in MAILGUIDE_STORE");
      }
    }
    return c;
  }

  Result<Lease> Acquire() {
    std::unique_lock lock(mu);
    const auto deadline = SteadyClock::now() + std::chrono::milliseconds(options.pool_wait_ms);
    while (true) {
      while (!idle.empty()) {
        Context c = std::move(idle.back());
        idle.pop_back();
        if (StillOpen(c.get())) return Lease{std::move(c), true};
        --open;  // closed by Redis: dropped here, a fresh one is made below
      }
      if (open < options.pool_size) {
        if (SteadyClock::now() < down_until) return down_status;
        ++open;
        lock.unlock();
        Result<Context> c = Connect();
        lock.lock();
        if (c.ok()) {
          down_until = {};
          return Lease{std::move(c).value(), false};
        }
        --open;
        if (c.status().code() == Status::Code::kUnavailable) {
          down_until = SteadyClock::now() + std::chrono::milliseconds(options.reconnect_backoff_ms);
          down_status = c.status();
        }
        cv.notify_one();
        return c.status();
      }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
          open >= options.pool_size) {
        return Status::Unavailable("all " + std::to_string(options.pool_size) +
                                   " connections to the Redis store at " + where + " stayed busy for " +
                                   std::to_string(options.pool_wait_ms) + " ms; try again in a minute");
      }
    }
  }

  void Release(Lease lease, bool healthy) {
    Context broken;
    {
      std::lock_guard lock(mu);
      if (healthy) {
        idle.push_back(std::move(lease.context));
      } else {
        broken = std::move(lease.context);
        --open;
      }
    }
    cv.notify_one();
  }

  // Runs `send` on a pooled connection. A connection that fails is closed (the next call makes
  // a new one). An idempotent call whose reused connection failed is tried once more on a fresh
  // one; other calls are not retried, since Redis may have applied them before the connection
  // broke. Returns the reply, which may be an error reply.
  Result<Reply> Execute(const std::function<Reply(redisContext*)>& send, bool idempotent) {
    for (int attempt = 0;; ++attempt) {
      Result<Lease> lease = Acquire();
      if (!lease.ok()) return lease.status();
      Reply reply = send(lease->context.get());
      if (reply) {
        Release(std::move(lease).value(), true);
        return reply;
      }
      const std::string why = Why(lease->context.get());
      const bool reused = lease->reused;
      Release(std::move(lease).value(), false);
      if (!idempotent || !reused || attempt > 0) return Unreachable(why);
    }
  }

  Result<Reply> Command(const std::vector<std::string>& argv, bool idempotent, const std::string& what) {
    Result<Reply> r = Execute([&](redisContext* c) { return Send(c, argv); }, idempotent);
    if (r.ok() && (*r)->type == REDIS_REPLY_ERROR) return ReplyError(r->get(), what);
    return r;
  }

  Result<Reply> RunScript(const Script& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args, bool idempotent, const std::string& what) {
    Result<Reply> r = Execute([&](redisContext* c) { return Eval(c, script, keys, args); }, idempotent);
    if (r.ok() && (*r)->type == REDIS_REPLY_ERROR) return ReplyError(r->get(), what);
    return r;
  }
};

Result<std::unique_ptr<RedisSessionStore>> RedisSessionStore::Open(Options options, Clock clock) {
  if (options.host.empty()) return Status::InvalidArgument("the Redis session store needs a host");
  if (options.port < 1 || options.port > 65535) {
    return Status::InvalidArgument("the Redis port must be from 1 to 65535, got " + std::to_string(options.port));
  }
  if (options.db < 0) return Status::InvalidArgument("the Redis database number must not be negative");
  if (options.pool_size < 1) return Status::InvalidArgument("the Redis connection pool needs at least one connection");
  if (options.retention_seconds < 1) return Status::InvalidArgument("the Redis session retention must be positive");
  if (options.connect_timeout_ms < 1 || options.command_timeout_ms < 1 || options.pool_wait_ms < 0 ||
      options.reconnect_backoff_ms < 0) {
    return Status::InvalidArgument("the Redis timeouts must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->where = options.host + ":" + std::to_string(options.port);
  impl->options = std::move(options);
  impl->clock = std::move(clock);
  std::unique_ptr<RedisSessionStore> store(new RedisSessionStore(std::move(impl)));
  if (Status s = store->Ping(); !s.ok()) return s;
  return store;
}

RedisSessionStore::RedisSessionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisSessionStore::~RedisSessionStore() = default;

std::string RedisSessionStore::Endpoint() const { return impl_->where + "/" + std::to_string(impl_->options.db); }

int RedisSessionStore::OpenConnectionsForTesting() const {
  std::lock_guard lock(impl_->mu);
  return impl_->open;
}

Result<std::optional<Session>> RedisSessionStore::Load(const std::string& key) {
  Result<Reply> r = impl_->Command({"HGET", impl_->SessKey(key), "data"}, true, "load session " + key);
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type == REDIS_REPLY_NIL) return std::optional<Session>();
  if (reply->type != REDIS_REPLY_STRING) return impl_->Unexpected(reply, "loading session " + key);
  Result<Session> decoded = DecodeSession(std::string_view(reply->str, reply->len));
  if (!decoded.ok()) {
    return Status::Internal("the Redis store at " + impl_->where + ": stored session " + key +
                            " is unreadable: " + decoded.status().message());
  }
  return std::optional<Session>(std::move(decoded).value());
}

Status RedisSessionStore::Commit(const Session& session, int64_t expected_version, const TurnRecord& turn,
                                 const EventClaim& claim) {
  if (Status s = CheckCommitArguments(session, expected_version, claim); !s.ok()) return s;
  const int64_t now = impl_->clock();
  const int64_t retention = impl_->options.retention_seconds;
  std::vector<std::string> keys = {impl_->SessKey(session.key), impl_->TurnsKey(session.key), impl_->OutcomesKey(),
                                   impl_->ExpiryKey(), impl_->CasesKey(session.key)};
  std::vector<std::string> args = {
      std::to_string(expected_version), std::to_string(session.version), EncodeSession(session), session.flow,
      session.panel, session.outcome, session.outcome_step, std::to_string(session.created_at),
      std::to_string(session.updated_at), EncodeTurn(turn), std::to_string(retention),
      std::to_string(now + retention), std::to_string(now), session.key, impl_->CasesKey("")};
  if (!claim.event_id.empty()) {
    keys.push_back(impl_->EventKey(claim.event_id));
    args.push_back(std::to_string(now + claim.ttl_seconds));
    args.push_back(std::to_string(claim.ttl_seconds));
  }
  Result<Reply> r = impl_->RunScript(impl_->commit, keys, args, /*idempotent=*/false, "save session " + session.key);
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_STRING) {
    return impl_->Unexpected(reply, "saving session " + session.key);
  }
  if (reply->element[0]->integer == 1) return Status::Ok();
  if (reply->element[0]->integer == 2) {
    return Status::AlreadyExists("event " + claim.event_id + " was handled before: a repeated delivery");
  }
  return Status::Conflict("session " + session.key + " changed since it was loaded (expected version " +
                          std::to_string(expected_version) + ", stored " + ReplyText(reply->element[1]) +
                          "): reload and retry");
}

Status RedisSessionStore::Erase(const std::string& key) {
  Result<Reply> r = impl_->RunScript(
      impl_->erase,
      {impl_->SessKey(key), impl_->TurnsKey(key), impl_->OutcomesKey(), impl_->ExpiryKey(), impl_->CasesKey(key)},
      {key},
      /*idempotent=*/true, "erase session " + key);
  return r.status();
}

Result<std::vector<TurnRecord>> RedisSessionStore::Turns(const std::string& key) {
  Result<Reply> r =
      impl_->Command({"LRANGE", impl_->TurnsKey(key), "0", "-1"}, true, "read the turns of " + key);
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY) return impl_->Unexpected(reply, "reading the turns of " + key);
  std::vector<TurnRecord> out;
  out.reserve(reply->elements);
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    TurnRecord turn;
    if (e->type != REDIS_REPLY_STRING || !DecodeTurn(std::string_view(e->str, e->len), turn)) {
      return Status::Internal("the Redis store at " + impl_->where + ": turn " + std::to_string(i + 1) + " of " +
                              key + " is unreadable");
    }
    out.push_back(std::move(turn));
  }
  return out;
}

Result<std::string> RedisSessionStore::GetPreference(const std::string& user_key, const std::string& name) {
  Result<Reply> r = impl_->Command({"HGET", impl_->PrefKey(user_key), name}, true, "read preference " + name);
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type == REDIS_REPLY_NIL) return std::string();
  if (reply->type != REDIS_REPLY_STRING) return impl_->Unexpected(reply, "reading preference " + name);
  return ReplyText(reply);
}

Status RedisSessionStore::SetPreference(const std::string& user_key, const std::string& name,
                                        const std::string& value) {
  if (user_key.empty() || name.empty()) {
    return Status::InvalidArgument("a preference needs a user key and a name");
  }
  return impl_->Command({"HSET", impl_->PrefKey(user_key), name, value}, true, "save preference " + name).status();
}

Result<bool> RedisSessionStore::ClaimEvent(const std::string& event_id, int64_t ttl_seconds) {
  if (event_id.empty()) return Status::InvalidArgument("cannot claim an empty event id");
  if (ttl_seconds <= 0) return Status::InvalidArgument("an event claim needs a positive ttl_seconds");
  const int64_t now = impl_->clock();
  Result<Reply> r = impl_->RunScript(
      impl_->claim, {impl_->EventKey(event_id)},
      {std::to_string(now + ttl_seconds), std::to_string(ttl_seconds), std::to_string(now)},
      /*idempotent=*/false, "claim event " + event_id);
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_INTEGER) return impl_->Unexpected(reply, "claiming event " + event_id);
  return reply->integer == 1;
}

Result<int64_t> RedisSessionStore::CountHit(const std::string& key, int64_t window_seconds) {
  if (window_seconds <= 0) return Status::InvalidArgument("a rate-limit window must be positive");
  const int64_t start = WindowStart(impl_->clock(), window_seconds);
  const std::string counter = impl_->options.key_prefix + "rate:" + std::to_string(window_seconds) + ":" +
                              std::to_string(start) + ":" + key;
  Result<Reply> r = impl_->RunScript(impl_->count, {counter}, {std::to_string(window_seconds)},
                                     /*idempotent=*/false, "count a hit for " + key);
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_INTEGER) return impl_->Unexpected(reply, "counting a hit for " + key);
  return static_cast<int64_t>(reply->integer);
}

Result<std::vector<OutcomeRecord>> RedisSessionStore::Outcomes(int64_t since, int64_t until) {
  Result<Reply> r = impl_->RunScript(impl_->outcomes, {impl_->OutcomesKey(), impl_->ExpiryKey()},
                                     {std::to_string(since), std::to_string(until), impl_->SessKey(""),
                                      impl_->CasesKey("")},
                                     /*idempotent=*/true, "read outcomes");
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY) return impl_->Unexpected(reply, "reading outcomes");
  std::vector<OutcomeRecord> out;
  out.reserve(reply->elements);
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    bool well_formed = e->type == REDIS_REPLY_ARRAY && e->elements == 7;
    for (size_t f = 0; well_formed && f < 7; ++f) well_formed = e->element[f]->type == REDIS_REPLY_STRING;
    OutcomeRecord o;
    if (well_formed) {
      o.key = ReplyText(e->element[0]);
      o.flow = ReplyText(e->element[1]);
      o.panel = ReplyText(e->element[2]);
      o.outcome = ReplyText(e->element[3]);
      o.step = ReplyText(e->element[4]);
      well_formed = ParseInt64(ReplyText(e->element[5]), o.created_at) &&
                    ParseInt64(ReplyText(e->element[6]), o.updated_at);
    }
    if (!well_formed) return impl_->Unexpected(e, "reading outcome " + std::to_string(i + 1));
    out.push_back(std::move(o));
  }
  return out;
}

Status RedisSessionStore::Ping() {
  Result<Reply> r = impl_->Command({"PING"}, true, "answer PING");
  if (!r.ok()) return r.status();
  if ((*r)->type != REDIS_REPLY_STATUS || ReplyText(r->get()) != "PONG") return impl_->Unexpected(r->get(), "PING");
  return Status::Ok();
}

}  // namespace bot
