// Plain HTTP value types and the one-method outbound client seam, so adapters never
// include an HTTP library: the server translates httplib's types to these.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "bot/status.h"

namespace bot {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

struct HttpRequest {
  std::string method;
  std::string path;
  Headers headers;
  std::string body;         // the raw bytes as received: signatures are computed over these
  std::string remote_addr;  // from the socket, never from a header
  int64_t received_at = 0;  // unix seconds

  // The value of header `name`, or "" when absent. `count` tells duplicates apart.
  std::string Header(const std::string& name) const;
  size_t HeaderCount(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

// Outbound HTTP(S). Implementations verify certificates. Thread-safe.
class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  virtual ~HttpClient() = default;

  // Any HTTP status is a value; Unavailable only when no response arrived (DNS, connect,
  // TLS, timeout).
  virtual Result<HttpResponse> Send(const std::string& method, const std::string& url,
                                    const Headers& headers, const std::string& body) = 0;
};

}  // namespace bot
