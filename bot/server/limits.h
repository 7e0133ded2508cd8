// Connection limits at the public edge, so that stalled or slow clients cannot starve real
// ones (bot/server/HARDENING.md has the measurements behind the defaults):
//  - an elastic pool of connection threads: httplib holds one thread per connection for its
//    whole life (TLS handshake included), so a fixed pool of 8 is taken by 8 stalled sockets;
//  - a TLS watchdog: a hard deadline for the handshake and for each request's headers (the
//    library's read timeout restarts with every byte, so a client dripping bytes would
//    otherwise hold its thread forever), and a cap on connections per client address;
//  - a byte budget per TLS connection, counted at the record layer: the request headers (which
//    httplib 0.11.4 reads without a count limit) and the body may not exceed
//    max_header_bytes + ServerOptions::max_body_bytes;
//  - TCP_DEFER_ACCEPT on the listening socket: a client that connects and sends nothing is not
//    handed to a thread at all until it sends its first byte.
// No httplib or OpenSSL type appears here; server.cpp wires these in.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace httplib {
class TaskQueue;
}

namespace bot {

struct ConnectionLimits {
  // Connections served at once (one thread each). Threads beyond ServerOptions::http_threads
  // are started on demand and end after a minute idle.
  int max_connections = 256;               // MAILGUIDE_MAX_CONNECTIONS
  // Open TLS connections from one client address; more are closed at their first byte. 0: no cap.
  int max_connections_per_ip = 32;         // MAILGUIDE_MAX_CONNECTIONS_PER_IP
  // From the ClientHello's first byte to the end of the handshake.
  std::chrono::milliseconds handshake_timeout{3000};  // MAILGUIDE_HANDSHAKE_TIMEOUT_MS
  // From the end of the handshake, or from the previous request's headers, to this request's
  // headers (so it also bounds the body and the handler of the previous request, and the
  // keep-alive wait in between).
  std::chrono::milliseconds request_timeout{15000};   // MAILGUIDE_REQUEST_TIMEOUT_MS
  // All the header lines of one request, roughly (counted in TLS records of up to 16 KiB).
  size_t max_header_bytes = 64 * 1024;
  // The library's per-read and per-write timeouts (each wait for the next bytes). The read
  // timeout also bounds each wait inside the TLS handshake, so a client that takes longer than
  // this between two of its handshake messages is closed before handshake_timeout is reached.
  std::chrono::milliseconds read_timeout{3000};  // MAILGUIDE_READ_TIMEOUT_MS
  int write_timeout_seconds = 5;
  int keep_alive_seconds = 3;
  int keep_alive_max_requests = 100;
  // The kernel keeps a silent connection out of accept() this long (TCP_DEFER_ACCEPT).
  int defer_accept_seconds = 3;
};

// A pool that keeps `warm` threads and grows to `max` while every thread is busy; a job
// queued while `max` threads are busy waits for one. Returned as httplib's TaskQueue (owned
// by the caller; httplib deletes it).
httplib::TaskQueue* NewElasticThreadPool(size_t warm, size_t max);

struct ConnectionGuardStats {
  int64_t open = 0;                // TLS connections being tracked now
  int64_t refused_per_ip = 0;      // closed: over max_connections_per_ip
  int64_t handshake_timeouts = 0;  // closed: the handshake took too long
  int64_t request_timeouts = 0;    // closed: a request's headers took too long
  int64_t oversized = 0;           // closed: headers (and body) over their byte budget
};

// Watches every TLS connection of one server. Thread-safe.
class ConnectionGuard {
 public:
  using Clock = std::chrono::steady_clock;
  // `max_body_bytes`: ServerOptions::max_body_bytes, part of each request's byte budget.
  ConnectionGuard(ConnectionLimits limits, size_t max_body_bytes, std::function<void(const std::string&)> log);
  ~ConnectionGuard();  // stops the watchdog; call after the server has stopped
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // Installs the handshake hooks on `ctx` (from SSLServer's setup callback). False when
  // OpenSSL refuses. The guard must outlive every connection made with `ctx`.
  bool Attach(ssl_ctx_st* ctx);

  // The headers of a request from `addr`:`port` were read (the pre-routing handler): the
  // connection's next request must come within request_timeout.
  void RequestHeadersRead(const std::string& addr, int port);

  ConnectionGuardStats stats() const;

  struct Impl;  // public for the OpenSSL callbacks in limits.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

// The listening-socket options of the server: httplib's defaults plus TCP_DEFER_ACCEPT.
void ApplyListenSocketOptions(int fd, int defer_accept_seconds);

}  // namespace bot
