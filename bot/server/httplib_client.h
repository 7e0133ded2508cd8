// HttplibClient: the real bot::HttpClient, over cpp-httplib with OpenSSL. Certificates are
// always verified (the system store, or a CA file for private deployments and tests).
#pragma once

#include <chrono>
#include <string>

#include "bot/http.h"

namespace bot {

struct HttplibClientOptions {
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::string ca_cert_file;  // PEM bundle to trust instead of the system store; "" = system
};

// Thread-safe: every Send opens its own connection.
class HttplibClient final : public HttpClient {
 public:
  explicit HttplibClient(HttplibClientOptions options = {});

  // InvalidArgument for a URL that is not http(s)://host[:port]/path; Unavailable when no
  // response arrived (DNS, connect, TLS verification, timeout). Error messages name the
  // host only: URLs such as Slack's response_url are credentials.
  Result<HttpResponse> Send(const std::string& method, const std::string& url, const Headers& headers,
                            const std::string& body) override;

 private:
  HttplibClientOptions options_;
};

}  // namespace bot
