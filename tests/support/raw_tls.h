// Raw loopback clients for the hardening tests: sockets bound to a chosen 127.x.y.z source
// address (the whole of 127/8 is loopback on Linux, so a test can be many clients), stalled
// or partial TLS handshakes, and one-shot HTTPS requests over OpenSSL with no library in
// between (so a test controls every byte and every timeout).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace bot::testing {

// Writing to a connection the server has cut must fail, not kill the test binary.
inline void IgnoreSigpipe() {
  static const bool done = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

// A TCP connection to 127.0.0.1:`port` from `source` (e.g. "127.0.0.2"); -1 on failure.
inline int ConnectFrom(const std::string& source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The start of a ClientHello: a handshake record header announcing 512 bytes and the first
// few of them. A server reading it waits for the rest, mid-handshake.
inline void SendPartialClientHello(int fd) {
  const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00,  // record: handshake, 512 bytes
                                 0x01, 0x00, 0x01, 0xfc,        // ClientHello, 508 bytes
                                 0x03, 0x03, 0x11, 0x22, 0x33};
  (void)::send(fd, hello, sizeof(hello), MSG_NOSIGNAL);
}

// Status code and body of one HTTPS exchange, or `error`.
struct RawResponse {
  int status = 0;
  std::string body;
  std::string error;  // "" when an answer arrived
};

// One request (`request` is the whole HTTP/1.1 message, "Connection: close" advised) over a
// fresh TLS connection from `source`; the certificate is not checked (loopback tests).
inline RawResponse RawHttps(const std::string& source, int port, const std::string& request,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  IgnoreSigpipe();
  RawResponse r;
  int fd = ConnectFrom(source, port);
  if (fd < 0) {
    r.error = "connect failed";
    return r;
  }
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string raw;
  if (SSL_connect(ssl) != 1) {
    r.error = "TLS handshake failed";
  } else if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size())) {
    r.error = "write failed";
  } else {
    char buf[16384];
    for (;;) {
      int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) break;
      raw.append(buf, static_cast<size_t>(n));
    }
  }
  SSL_free(ssl);
  ::close(fd);
  if (!r.error.empty()) return r;
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) {
    r.error = raw.empty() ? "connection closed without an answer" : "not an HTTP answer";
    return r;
  }
  r.status = std::atoi(raw.c_str() + 9);
  const size_t end = raw.find("\r\n\r\n");
  if (end != std::string::npos) r.body = raw.substr(end + 4);
  return r;
}

inline std::string HttpPost(const std::string& path, const std::string& content_type, const std::string& body,
                            const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

// Polls `probe` until it returns true or `deadline` passes; true when it did.
template <typename F>
bool WaitUntil(F probe, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (probe()) return true;
    ::usleep(20000);
  }
  return probe();
}

// VmRSS of process `pid` in KiB, from /proc/PID/status; -1 when unreadable.
inline long RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace bot::testing
