#include "bot/server/server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bot/server/request_id.h"
#include "bot/server/limits.h"
#include "bot/server/work_queue.h"

namespace bot {

namespace {

// The request this HTTP thread is serving: httplib runs the pre-routing handler, the route,
// the post-routing handler and the logger of one request on one thread, in that order.
struct RequestTrace {
  bool active = false;
  std::string id;
  std::chrono::steady_clock::time_point start;
};
thread_local RequestTrace t_trace;

void BeginTrace(const httplib::Request& req) {
  t_trace = {true, AcceptRequestId(req.get_header_value("X-Request-Id")), std::chrono::steady_clock::now()};
}

// Event ids seen recently, so a retried delivery is dropped before it reaches a worker.
// The engine's store claim is the cross-replica guard; this one saves the queue and the
// store a round trip for Slack's http_timeout retries. It keeps 64-bit hashes, not the ids:
// as strings, a burst of clicks left ~200 bytes per click behind for ten minutes
// (tests/bench/README.md). Two of the 20,000 kept ids sharing a hash (the later one would be
// dropped as a repeat) is a chance of about 1 in 10^11.
class RecentEvents {
 public:
  explicit RecentEvents(int64_t ttl) : ttl_(ttl) {}

  bool Claim(const std::string& id, int64_t now) {
    const uint64_t h = std::hash<std::string>{}(id);
    std::lock_guard<std::mutex> lock(mu_);
    while (!order_.empty() && (order_.front().first < now - ttl_ || order_.size() >= kMax)) {
      seen_.erase(order_.front().second);
      order_.pop_front();
    }
    if (!seen_.insert(h).second) return false;
    order_.emplace_back(now, h);
    return true;
  }

  void Forget(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.erase(std::hash<std::string>{}(id));  // its order_ entry expires harmlessly
  }

 private:
  // Slack retries within minutes; 20,000 ids cover that at a few dozen events a second, and
  // past it the store claim still drops the repeat.
  static constexpr size_t kMax = 20000;
  const int64_t ttl_;
  std::mutex mu_;
  std::unordered_set<uint64_t> seen_;
  std::deque<std::pair<int64_t, uint64_t>> order_;
};

struct Route {
  std::string path;
  Adapter* adapter;
  TurnHandler handler;
};

// What the HTTP thread of an inline request and the worker running its turn share.
struct InlineTurn {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;  // the HTTP answer went out empty: the worker delivers instead
  bool progress = false;   // the adapter is showing an interim reply: answer the request now
  TurnResult turn;
};

std::string EscapeRegex(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// httplib files the socket's addresses under these names among the request headers; a
// client sending them itself must not be believed (fixed upstream only in 0.28).
bool IsInternalHeader(const std::string& name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT";
}

TurnResult ErrorTurn(const Status& status) {
  const bool unavailable = status.code() == Status::Code::kUnavailable;
  Reply r;
  r.title = unavailable ? "Temporarily unavailable" : "Something went wrong";
  r.paragraphs = {unavailable ? "mailguide is temporarily unavailable (it cannot reach its session store). "
                                "Please try again in a minute."
                              : "mailguide could not handle that message. Please try again."};
  r.ephemeral = true;
  return TurnResult{{r}, TurnStatus::kCompleted};
}

}  // namespace

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk: return 200;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kUnauthenticated: return 401;
    case Status::Code::kPermissionDenied: return 403;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kAlreadyExists: return 200;  // a repeat: acknowledged, nothing to do
    case Status::Code::kConflict: return 409;
    case Status::Code::kResourceExhausted: return 429;
    case Status::Code::kUnavailable: return 503;
    case Status::Code::kInternal: return 500;
  }
  return 500;
}

struct Server::Impl {
  explicit Impl(ServerOptions o)
      : options(std::move(o)),
        recent(options.event_memory_seconds),
        queue(options.workers, 10000, [this](const std::string& line) { Log(line); }) {}

  void Log(const std::string& line) {
    if (options.log) {
      options.log(line);
    } else {
      std::cerr << line << "\n";
    }
  }

  void Respond(httplib::Response& res, const HttpResponse& r) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.content_type.empty() ? "text/plain" : r.content_type);
  }

  void Refuse(httplib::Response& res, int status, const std::string& reason) {
    res.status = status;
    // Slack retries non-2xx answers; a request refused for what it is will not improve.
    if (status == 400 || status == 401) res.set_header("X-Slack-No-Retry", "1");
    res.set_content(status == 401 ? "" : reason + "\n", "text/plain");
  }

  TurnResult RunTurn(const Route& route, const Message& message, const Progress& progress) {
    Result<TurnResult> turn = route.handler(message, progress);
    if (turn.ok()) return std::move(turn).value();
    Log(std::string(route.adapter->Name()) + ": turn for " + message.ref.Key() + " failed: " +
        turn.status().ToString());
    return ErrorTurn(turn.status());
  }

  void Deliver(const Route& route, const Message& message, const TurnResult& turn) {
    if (turn.replies.empty()) return;
    Status s = route.adapter->Deliver(message, turn);
    if (!s.ok()) {
      Log(std::string(route.adapter->Name()) + ": delivery to " + message.ref.Key() + " failed: " + s.ToString());
    }
  }

  void Handle(const Route& route, const httplib::Request& r, std::string body, httplib::Response& res) {
    HttpRequest req;
    req.method = r.method;
    req.path = r.path;
    for (const auto& [k, v] : r.headers) {
      if (!IsInternalHeader(k)) req.headers.emplace(k, v);
    }
    req.body = std::move(body);
    req.remote_addr = r.remote_addr;
    req.received_at = options.clock();
    const std::string who = std::string(route.adapter->Name()) + ": " + r.method + " " + r.path + " from " +
                            r.remote_addr;

    // Verification comes first: nothing parses a body that is not authentic.
    if (Status s = route.adapter->Verify(req); !s.ok()) {
      Log(who + " refused: " + s.ToString());
      return Refuse(res, HttpStatusFor(s), "");
    }
    Result<Inbound> decoded = route.adapter->Decode(req);
    if (!decoded.ok()) {
      Log(who + " refused: " + decoded.status().ToString());
      return Refuse(res, HttpStatusFor(decoded.status()), decoded.status().message());
    }
    Inbound& in = *decoded;
    switch (in.kind) {
      case Inbound::Kind::kRespond:
        return Respond(res, in.response);
      case Inbound::Kind::kIgnore:
        res.status = 200;
        return;
      case Inbound::Kind::kMessage:
        break;
    }
    const Message& message = in.message;
    if (!message.event_id.empty() && !recent.Claim(message.event_id, options.clock())) {
      Log(who + ": repeated delivery of " + message.event_id + " dropped");
      res.status = 200;
      return;
    }
    if (in.reply_inline && !NeedsConversationOrder(message)) {
      // Nothing to keep in order (a code lookup): answered on this thread, with no hop to a
      // worker and back.
      return Respond(res, route.adapter->RenderInline(message, RunTurn(route, message, {})));
    }
    const std::string key = message.ref.Key();
    if (!in.reply_inline) {
      const bool queued = queue.Post(key, [this, &route, message] {
        auto progress = [&route, &message](const Reply& interim) { route.adapter->ShowProgress(message, interim); };
        Deliver(route, message, RunTurn(route, message, progress));
      });
      if (!queued) return Unavailable(res, message);
      res.status = 200;  // the acknowledgement; the answer follows from the worker
      return;
    }
    auto shared = std::make_shared<InlineTurn>();
    const bool queued = queue.Post(key, [this, &route, message, shared] {
      // The interim reply goes out through the platform; the request is then acknowledged
      // empty and the answer follows through Deliver.
      auto progress = [&route, &message, &shared](const Reply& interim) {
        if (!route.adapter->ShowProgress(message, interim)) return;
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->progress = true;
        shared->cv.notify_all();
      };
      TurnResult turn = RunTurn(route, message, progress);
      std::unique_lock<std::mutex> lock(shared->mu);
      if (shared->abandoned) {
        lock.unlock();
        Deliver(route, message, turn);
        return;
      }
      shared->turn = std::move(turn);
      shared->done = true;
      shared->cv.notify_all();
    });
    if (!queued) return Unavailable(res, message);
    std::unique_lock<std::mutex> lock(shared->mu);
    if (shared->cv.wait_for(lock, options.inline_budget, [&] { return shared->done || shared->progress; }) &&
        shared->done) {
      return Respond(res, route.adapter->RenderInline(message, shared->turn));
    }
    shared->abandoned = true;
    if (!shared->progress) Log(who + ": the turn for " + key + " missed the inline budget; answering later");
    res.status = 200;
  }

  void Unavailable(httplib::Response& res, const Message& message) {
    if (!message.event_id.empty()) recent.Forget(message.event_id);  // let the platform's retry in
    res.status = 503;
    res.set_header("Retry-After", "5");
    res.set_content("stopping or overloaded; retry later\n", "text/plain");
  }

  ServerOptions options;
  RecentEvents recent;
  KeyedWorkQueue queue;
  std::vector<std::unique_ptr<Route>> routes;  // stable addresses: handlers capture them
  std::vector<std::pair<std::string, std::function<HttpResponse(const HttpRequest&)>>> pages;  // MountPage
  std::unique_ptr<ConnectionGuard> guard;  // TLS only; outlives `http` and its connections
  std::unique_ptr<httplib::Server> http;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  int bound_port = 0;
  std::mutex stop_mu;
  bool stopped = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { Stop(); }

void Server::Mount(const std::string& path, Adapter& adapter, TurnHandler handler) {
  impl_->routes.push_back(std::make_unique<Route>(Route{path, &adapter, std::move(handler)}));
}

void Server::MountPage(const std::string& path, std::function<HttpResponse(const HttpRequest&)> handler) {
  impl_->pages.emplace_back(path, std::move(handler));
}

bool Server::Defer(const std::string& key, std::function<void()> task) {
  return impl_->queue.Post(key, std::move(task));
}

int Server::port() const { return impl_->bound_port; }

Status Server::Start() {
  Impl& d = *impl_;
  const ServerOptions& o = d.options;
  if (o.plain_http) {
    d.http = std::make_unique<httplib::Server>();
  } else {
    std::string error;
    d.guard = std::make_unique<ConnectionGuard>(o.limits, o.max_body_bytes, [&d](const std::string& l) { d.Log(l); });
    auto setup = [&](SSL_CTX& ctx) {
      // TLS 1.2 is Slack's floor and the oldest version without known protocol breaks.
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
      if (SSL_CTX_use_certificate_chain_file(&ctx, o.tls_cert.c_str()) != 1) {
        error = "cannot load the TLS certificate " + o.tls_cert;
        return false;
      }
      if (SSL_CTX_use_PrivateKey_file(&ctx, o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        error = "cannot load the TLS key " + o.tls_key;
        return false;
      }
      if (SSL_CTX_check_private_key(&ctx) != 1) {
        error = "the TLS key " + o.tls_key + " does not match the certificate " + o.tls_cert;
        return false;
      }
      if (!d.guard->Attach(&ctx)) {
        error = "cannot install the TLS connection limits";
        return false;
      }
      return true;
    };
    auto ssl = std::make_unique<httplib::SSLServer>(setup);
    if (!ssl->is_valid()) {
      return Status::InvalidArgument(error.empty() ? std::string("cannot set up TLS") : error);
    }
    d.http = std::move(ssl);
  }
  httplib::Server& svr = *d.http;
  // Connection limits (limits.h; the numbers are measured in HARDENING.md).
  const ConnectionLimits& lim = o.limits;
  const size_t warm = static_cast<size_t>(std::max(1, o.http_threads));
  const size_t most = std::max(warm, static_cast<size_t>(std::max(1, lim.max_connections)));
  svr.new_task_queue = [warm, most] { return NewElasticThreadPool(warm, most); };
  auto listen_fd = std::make_shared<int>(-1);  // for the backlog below
  svr.set_socket_options([defer = lim.defer_accept_seconds, listen_fd](int fd) {
    ApplyListenSocketOptions(fd, defer);
    *listen_fd = fd;
  });
  svr.set_tcp_nodelay(true);  // without it every answer waits ~40 ms on Nagle vs delayed ACK
  svr.set_payload_max_length(o.max_body_bytes);
  svr.set_read_timeout(lim.read_timeout);
  svr.set_write_timeout(lim.write_timeout_seconds, 0);
  svr.set_keep_alive_timeout(lim.keep_alive_seconds);  // also bounds how long an idle connection delays shutdown
  svr.set_keep_alive_max_count(lim.keep_alive_max_requests);

  const size_t max_body = o.max_body_bytes;
  svr.set_pre_routing_handler([&d, max_body](const httplib::Request& req, httplib::Response& res) {
    if (d.guard) d.guard->RequestHeadersRead(req.remote_addr, req.remote_port);  // restarts its deadline
    BeginTrace(req);  // for X-Request-Id and the latency in on_request
    // Runs before the body is read: refuse what must never be read.
    // The unread body stays in the stream: answer, log one line and close the connection.
    auto refuse = [&](int status, const std::string& why) {
      d.Log("server: " + req.method + " " + req.path + " from " + req.remote_addr + " refused: " + why);
      res.status = status;
      res.set_header("Connection", "close");
      res.set_content(why + "\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    };
    if (req.has_header("Transfer-Encoding")) {
      return refuse(411, "chunked request bodies are not accepted; send Content-Length");
    }
    if (req.has_header("Content-Length")) {
      const std::string len = req.get_header_value("Content-Length");
      size_t n = 0;
      auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
      if (ec != std::errc() || p != len.data() + len.size()) return refuse(400, "malformed Content-Length");
      if (n > max_body) {
        return refuse(413, "request body too large (" + std::to_string(n) + " bytes; the limit is " +
                               std::to_string(max_body) + ")");
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!t_trace.active) BeginTrace(req);  // refused before routing (a malformed request)
    res.set_header("X-Request-Id", t_trace.id);
  });
  svr.set_logger([&d](const httplib::Request& req, const httplib::Response& res) {
    if (!t_trace.active) BeginTrace(req);
    t_trace.active = false;
    if (!d.options.on_request) return;
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t_trace.start;
    d.options.on_request(RequestInfo{t_trace.id, req.method, req.path, req.remote_addr, res.status, took.count()});
  });
  svr.set_exception_handler([&d](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    d.Log("server: " + req.method + " " + req.path + " failed: " + what);
    res.status = 500;
    res.set_content("internal error\n", "text/plain");
  });

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  svr.Get("/readyz", [&d](const httplib::Request&, httplib::Response& res) {
    Status s = d.options.ready ? d.options.ready() : Status::Ok();
    res.status = s.ok() ? 200 : 503;
    res.set_content(s.ok() ? "ready\n" : "not ready: " + s.message() + "\n", "text/plain");
  });
  for (const auto& route : d.routes) {
    Route* r = route.get();
    // The body is read here, not by httplib: its own reading parses form bodies and refuses
    // those over 8 KiB with 413 (CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH), and Slack's
    // interaction payloads, which carry the clicked message, are often larger.
    svr.Post(EscapeRegex(r->path), [&d, r](const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& read) {
      std::string body;
      read([&body](const char* data, size_t n) {
        body.append(data, n);
        return true;
      });
      d.Handle(*r, req, std::move(body), res);
    });
  }

  for (const auto& [path, page] : d.pages) {
    svr.Get(EscapeRegex(path), [&d, handler = page](const httplib::Request& r, httplib::Response& res) {
      HttpRequest req;
      req.method = r.method;
      req.path = r.target;
      for (const auto& [k, v] : r.headers) {
        if (!IsInternalHeader(k)) req.headers.emplace(k, v);
      }
      req.remote_addr = r.remote_addr;
      req.received_at = d.options.clock();
      d.Respond(res, handler(req));
    });
  }

  int port = o.port;
  if (port == 0) {
    port = svr.bind_to_any_port(o.host);
    if (port <= 0) return Status::Unavailable("cannot bind " + o.host + " to any port");
  } else if (!svr.bind_to_port(o.host, port)) {
    return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(port) +
                               " (in use, or not an address of this machine)");
  }
  d.bound_port = port;
  // httplib 0.11.4 listens with a backlog of 5: 64 clients connecting at once overflow it,
  // and a dropped SYN is retried after 1 s (p99 1.1-1.2 s at 64 connections in
  // tests/bench/README.md). Linux lets listen() on a listening socket raise it.
  if (*listen_fd >= 0) ::listen(*listen_fd, SOMAXCONN);
  // Bound means connections already queue in the backlog: callers need not wait for the
  // accept loop to start.
  d.listener = std::thread([&d, &svr] {
    if (!svr.listen_after_bind()) d.Log("server: the accept loop ended with an error");
    d.listener_done = true;
  });
  return Status::Ok();
}

void Server::Stop() {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.stop_mu);
    if (d.stopped) return;
    d.stopped = true;
  }
  if (d.http) {
    // Closing the listening socket ends the accept loop; listen_after_bind returns once the
    // connection threads have finished the requests they were serving.
    if (d.listener.joinable()) {
      // httplib ignores stop() until its accept loop has started; wait for that (a few
      // microseconds after Start) or for the loop to have ended on its own.
      while (!d.http->is_running() && !d.listener_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      d.http->stop();
      d.listener.join();
    }
  }
  d.queue.Shutdown();  // every queued turn and delivery runs before we return
}

}  // namespace bot
