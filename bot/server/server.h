// Server: mailguide's HTTPS webhook server. Generic over bot::Adapter: each platform is
// mounted on its paths with one call, and every request goes verify → decode → acknowledge
// → (worker) engine turn → deliver. Keeps turns of one conversation in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bot/adapter.h"
#include "bot/clock.h"
#include "bot/engine.h"
#include "bot/server/limits.h"
#include "bot/status.h"

namespace bot {

// Runs one engine turn; normally EngineHandler(engine).
using TurnHandler = std::function<Result<TurnResult>(const Message&, const Progress&)>;

// The handler that hands each turn to `engine`, which must outlive the server.
inline TurnHandler EngineHandler(Engine& engine) {
  return [&engine](const Message& m, const Progress& progress) { return engine.Handle(m, progress); };
}

// One answered HTTP request, as ServerOptions::on_request sees it (after the answer is written).
struct RequestInfo {
  std::string id;           // the X-Request-Id sent back: the client's when sane, else generated
  std::string method;
  std::string path;         // without the query string
  std::string remote_addr;
  int status = 0;
  double latency_ms = 0;    // from its headers read to the answer written
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8443;                        // 0: the OS picks one (see Server::port())
  bool plain_http = false;                // true: no TLS (behind a TLS-terminating proxy)
  std::string tls_cert;                   // PEM chain and key; required unless plain_http
  std::string tls_key;
  int http_threads = 8;                   // threads kept for connections (each holds one)
  ConnectionLimits limits;                // more threads on demand, caps and timeouts (limits.h)
  int workers = 8;                        // turns and deliveries run in parallel
  size_t max_body_bytes = 1 << 20;        // larger bodies are refused before they are read
  // How long a request answered inline (a slash command) waits for its turn before it is
  // acknowledged empty and answered later through Adapter::Deliver. Slack allows 3 s. A turn
  // that shows progress (Adapter::ShowProgress: automatic checks) is acknowledged at once.
  std::chrono::milliseconds inline_budget{2500};
  int64_t event_memory_seconds = 600;     // repeated event ids are dropped this long
  std::function<Status()> ready;          // GET /readyz; unset: always ready
  std::function<void(const std::string&)> log;  // one line per call; default: stderr
  // Called once per request, every path and status included (404s, refusals); runs on the HTTP
  // thread, so it must be quick and thread-safe. Every answer carries an X-Request-Id header.
  std::function<void(const RequestInfo&)> on_request;
  Clock clock = UnixNow;
};

// The one mapping from Status to an HTTP status code.
int HttpStatusFor(const Status& status);

class Server {
 public:
  explicit Server(ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Stop()

  // Routes POST `path` through `adapter`, whose turns go to `handler`. Call before Start();
  // `adapter` must outlive the server. A platform that is switched off is simply not
  // mounted, so its paths answer 404.
  void Mount(const std::string& path, Adapter& adapter, TurnHandler handler);

  // Serves GET `path` (exactly; no pattern) with `handler`'s answer, for pages such as the web
  // chat's. The request's `path` is the target as sent, query string included; its body is
  // empty. Call before Start(); `handler` runs on HTTP threads and must be thread-safe.
  void MountPage(const std::string& path, std::function<HttpResponse(const HttpRequest&)> handler);

  // Runs `task` on a worker after everything already queued for `key` (a conversation key).
  // False when the server is stopping. Thread-safe.
  bool Defer(const std::string& key, std::function<void()> task);

  // Binds and starts serving on a background thread. InvalidArgument for unusable TLS
  // files, Unavailable when the address cannot be bound.
  Status Start();
  // The bound port (useful with port 0); 0 before Start().
  int port() const;

  // Graceful: stops accepting, finishes requests in flight, then every queued turn and
  // delivery. Idempotent; thread-safe; must not be called from a worker.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bot
