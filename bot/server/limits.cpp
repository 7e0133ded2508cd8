#include "bot/server/limits.h"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace bot {

namespace {

// ---- the elastic pool ----

class ElasticThreadPool final : public httplib::TaskQueue {
 public:
  ElasticThreadPool(size_t warm, size_t max) : warm_(std::max<size_t>(1, warm)), max_(std::max(warm_, max)) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < warm_; ++i) SpawnLocked();
  }
  ~ElasticThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(fn));
    if (idle_ >= jobs_.size() || live_ >= max_ || shutdown_ || !SpawnLocked()) cv_.notify_one();
  }

  // Runs every queued job, then returns once every thread has ended. Idempotent.
  void shutdown() override {
    std::unique_lock<std::mutex> lock(mu_);
    shutdown_ = true;
    cv_.notify_all();
    done_.wait(lock, [this] { return live_ == 0; });
  }

 private:
  static constexpr std::chrono::seconds kLinger{60};  // an extra thread idle this long ends

  // False when the system refuses another thread (the job waits for a running one).
  bool SpawnLocked() {
    try {
      std::thread([this] { Run(); }).detach();
    } catch (const std::system_error&) {
      return false;
    }
    ++live_;
    return true;
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      const bool woken = cv_.wait_for(lock, kLinger, [this] { return !jobs_.empty() || shutdown_; });
      --idle_;
      if (jobs_.empty()) {
        if (shutdown_ || (!woken && live_ > warm_)) break;
        continue;
      }
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      try {
        job();
      } catch (...) {
        // httplib's connection jobs handle their own errors; never let one end the thread.
      }
      lock.lock();
    }
    --live_;
    done_.notify_all();  // under the lock: the pool cannot be destroyed before this returns
  }

  const size_t warm_;
  const size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_;
  std::deque<std::function<void()>> jobs_;
  size_t live_ = 0;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

// ---- the TLS watchdog ----

std::string PeerKey(const std::string& addr, int port) { return addr + "|" + std::to_string(port); }

// The peer of `fd` as httplib reports it in Request::remote_addr/remote_port.
bool PeerOf(int fd, std::string& addr, int& port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof(host), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  addr = host;
  port = std::atoi(serv);
  return true;
}

}  // namespace

httplib::TaskQueue* NewElasticThreadPool(size_t warm, size_t max) { return new ElasticThreadPool(warm, max); }

void ApplyListenSocketOptions(int fd, int defer_accept_seconds) {
  httplib::default_socket_options(fd);
  if (defer_accept_seconds > 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_accept_seconds, sizeof(defer_accept_seconds));
  }
}

struct ConnectionGuard::Impl {
  struct Conn {
    Impl* impl = nullptr;
    int fd = -1;
    std::string addr;
    int port = 0;
    bool counted = false;       // holds one of its address's slots
    bool handshaking = true;
    bool closed = false;        // the watchdog shut it down (or it was refused)
    Clock::time_point deadline;
    std::atomic<int64_t> budget{0};  // inbound bytes left (only its own thread reads records)
  };

  Impl(ConnectionLimits l, size_t body, std::function<void(const std::string&)> lg)
      : limits(l), max_body(static_cast<int64_t>(body)), log(std::move(lg)) {
    watchdog = std::thread([this] { Watch(); });
  }
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    watchdog.join();
  }

  // The first handshake callback of a new TLS connection.
  Conn* Open(int fd) {
    auto* c = new Conn;
    c->impl = this;
    c->fd = fd;
    const bool known = fd >= 0 && PeerOf(fd, c->addr, c->port);
    std::lock_guard<std::mutex> lock(mu);
    if (known && limits.max_connections_per_ip > 0 && per_addr[c->addr] >= limits.max_connections_per_ip) {
      c->closed = true;
      ++stats.refused_per_ip;
      ++pending_refused;
      last_refused = c->addr;
      ::shutdown(fd, SHUT_RDWR);  // the handshake fails at its next read
    } else if (known) {
      c->counted = true;
      ++per_addr[c->addr];
    }
    c->deadline = Clock::now() + limits.handshake_timeout;
    c->budget = static_cast<int64_t>(limits.max_header_bytes);  // the handshake and the first headers
    conns.insert(c);
    if (known) by_peer[PeerKey(c->addr, c->port)] = c;
    stats.open = static_cast<int64_t>(conns.size());
    return c;
  }

  void HandshakeDone(Conn* c) {
    std::lock_guard<std::mutex> lock(mu);
    if (!c->handshaking) return;
    c->handshaking = false;
    c->deadline = Clock::now() + limits.request_timeout;
    c->budget = static_cast<int64_t>(limits.max_header_bytes);
  }

  void HeadersRead(const std::string& addr, int port) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_peer.find(PeerKey(addr, port));
    if (it == by_peer.end() || it->second->closed) return;
    it->second->deadline = Clock::now() + limits.request_timeout;
    // This request's body (its Content-Length was checked against max_body) and the next
    // request's headers.
    it->second->budget = max_body + static_cast<int64_t>(limits.max_header_bytes);
  }

  // A TLS record of `len` bytes arrived on `c` (on the connection's own thread).
  void Received(Conn* c, size_t len) {
    if (c->budget.fetch_sub(static_cast<int64_t>(len)) - static_cast<int64_t>(len) >= 0) return;
    std::lock_guard<std::mutex> lock(mu);
    if (c->closed) return;
    c->closed = true;
    ::shutdown(c->fd, SHUT_RDWR);
    ++stats.oversized;
    ++pending_oversized;
  }

  // SSL_free: the connection is over (the socket is closed right after).
  void Close(Conn* c) {
    {
      std::lock_guard<std::mutex> lock(mu);
      conns.erase(c);
      auto it = by_peer.find(PeerKey(c->addr, c->port));
      if (it != by_peer.end() && it->second == c) by_peer.erase(it);
      if (c->counted) {
        auto n = per_addr.find(c->addr);
        if (n != per_addr.end() && --n->second <= 0) per_addr.erase(n);
      }
      stats.open = static_cast<int64_t>(conns.size());
    }
    delete c;
  }

  void Watch() {
    std::unique_lock<std::mutex> lock(mu);
    auto last_log = Clock::now() - std::chrono::hours(1);
    while (!stop) {
      cv.wait_for(lock, std::chrono::milliseconds(50));
      const auto now = Clock::now();
      for (Conn* c : conns) {
        if (c->closed || now < c->deadline) continue;
        c->closed = true;
        // Not close(): the connection's thread owns the descriptor and closes it after
        // SSL_free, which takes this lock first, so `fd` cannot have been reused yet.
        ::shutdown(c->fd, SHUT_RDWR);
        ++(c->handshaking ? stats.handshake_timeouts : stats.request_timeouts);
        ++(c->handshaking ? pending_handshake : pending_request);
      }
      // One line per 10 s at most, however many clients misbehave.
      if ((pending_handshake || pending_request || pending_refused || pending_oversized) &&
          now - last_log >= std::chrono::seconds(10)) {
        std::string line = "server: closed " + std::to_string(pending_handshake + pending_request) +
                           " stalled TLS connection(s) (handshake over " +
                           std::to_string(limits.handshake_timeout.count()) + " ms: " +
                           std::to_string(pending_handshake) + "; request headers over " +
                           std::to_string(limits.request_timeout.count()) + " ms: " + std::to_string(pending_request) +
                           ") and refused " + std::to_string(pending_refused) + " over " +
                           std::to_string(limits.max_connections_per_ip) + " per address" +
                           (pending_refused ? " (last from " + last_refused + ")" : std::string()) +
                           "; closed " + std::to_string(pending_oversized) + " sending over " +
                           std::to_string(limits.max_header_bytes) + " bytes of headers";
        pending_handshake = pending_request = pending_refused = pending_oversized = 0;
        last_log = now;
        lock.unlock();
        if (log) log(line);
        lock.lock();
      }
    }
  }

  const ConnectionLimits limits;
  const int64_t max_body;
  const std::function<void(const std::string&)> log;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::unordered_set<Conn*> conns;
  std::unordered_map<std::string, Conn*> by_peer;
  std::unordered_map<std::string, int> per_addr;
  ConnectionGuardStats stats;
  int64_t pending_handshake = 0, pending_request = 0, pending_refused = 0, pending_oversized = 0;
  std::string last_refused;
  std::thread watchdog;
};

namespace {

using Conn = ConnectionGuard::Impl::Conn;

void FreeConn(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (ptr != nullptr) {
    auto* c = static_cast<Conn*>(ptr);
    c->impl->Close(c);
  }
}

int CtxIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int SslIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeConn);
  return index;
}

void InfoCallback(const SSL* const_ssl, int where, int) {
  SSL* ssl = const_cast<SSL*>(const_ssl);
  auto* conn = static_cast<Conn*>(SSL_get_ex_data(ssl, SslIndex()));
  if (where & SSL_CB_HANDSHAKE_START) {
    if (conn != nullptr) return;  // TLS 1.3 post-handshake messages start "handshakes" too
    auto* impl = static_cast<ConnectionGuard::Impl*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), CtxIndex()));
    if (impl == nullptr) return;
    SSL_set_ex_data(ssl, SslIndex(), impl->Open(SSL_get_fd(ssl)));
  } else if ((where & SSL_CB_HANDSHAKE_DONE) && conn != nullptr) {
    conn->impl->HandshakeDone(conn);
  }
}

// Every record header read: content type, version, and the record's length in bytes 4-5.
void MessageCallback(int write_p, int, int content_type, const void* buf, size_t len, SSL* ssl, void*) {
  if (write_p != 0 || content_type != SSL3_RT_HEADER || len < 5) return;
  auto* conn = static_cast<Conn*>(SSL_get_ex_data(ssl, SslIndex()));
  if (conn == nullptr) return;
  const auto* h = static_cast<const unsigned char*>(buf);
  conn->impl->Received(conn, 5 + ((static_cast<size_t>(h[3]) << 8) | h[4]));
}

}  // namespace

ConnectionGuard::ConnectionGuard(ConnectionLimits limits, size_t max_body_bytes,
                                 std::function<void(const std::string&)> log)
    : impl_(std::make_unique<Impl>(limits, max_body_bytes, std::move(log))) {}

ConnectionGuard::~ConnectionGuard() = default;

bool ConnectionGuard::Attach(ssl_ctx_st* ctx) {
  if (CtxIndex() < 0 || SslIndex() < 0) return false;
  if (SSL_CTX_set_ex_data(ctx, CtxIndex(), impl_.get()) != 1) return false;
  SSL_CTX_set_info_callback(ctx, InfoCallback);
  SSL_CTX_set_msg_callback(ctx, MessageCallback);
  return true;
}

void ConnectionGuard::RequestHeadersRead(const std::string& addr, int port) { impl_->HeadersRead(addr, port); }

ConnectionGuardStats ConnectionGuard::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace bot
