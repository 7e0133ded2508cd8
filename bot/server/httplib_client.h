// HttplibClient: the real bot::HttpClient, over cpp-httplib with OpenSSL. Certificates are
// always verified (the system store, or a CA file for private deployments and tests).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bot/http.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace bot {

struct HttplibClientOptions {
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::string ca_cert_file;  // PEM bundle to trust instead of the system store; "" = system
  // Connections are kept open and reused per origin (scheme://host:port), so a reply to Slack
  // or Teams does not pay for a TCP and TLS handshake each time; at most this many wait idle
  // per origin. 0: a new connection for every request.
  size_t max_idle_per_origin = 4;
};

// Thread-safe: each request in flight has a connection of its own, taken from the idle ones
// of its origin or opened anew. httplib reopens one that the server closed meanwhile.
class HttplibClient final : public HttpClient {
 public:
  explicit HttplibClient(HttplibClientOptions options = {});
  ~HttplibClient() override;

  // InvalidArgument for a URL that is not http(s)://host[:port]/path; Unavailable when no
  // response arrived (DNS, connect, TLS verification, timeout). Error messages name the
  // host only: URLs such as Slack's response_url are credentials.
  Result<HttpResponse> Send(const std::string& method, const std::string& url, const Headers& headers,
                            const std::string& body) override;

 private:
  Result<std::unique_ptr<httplib::Client>> Take(const std::string& origin, bool https);
  void GiveBack(const std::string& origin, std::unique_ptr<httplib::Client> client);

  HttplibClientOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;  // guarded by mu_
};

}  // namespace bot
