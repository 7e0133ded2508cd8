// The hosted-email provider's admin API (OpenSRS Mail API, "OMA"), over bot::HttpClient:
// POST <base>/<method> with {"credentials": {...}, <params>}; the reply is one JSON object
// whose `success` decides, never the HTTP status alone (shared/reference/opensrs-email-api.md
// §1). Every call is logged with the API's audit id; credentials never reach a log line or an
// error message.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "bot/http.h"
#include "bot/status.h"

namespace bot::checks {

struct OpenSrsSettings {
  std::string url;       // base URI, e.g. https://admin.a.hostedemail.com/api (no trailing '/')
  std::string user;
  std::string password;  // a secret
  std::string client = "mailguide/0.1";  // credentials.client: how OpenSRS names the caller in its logs
};

struct OpenSrsReply {
  nlohmann::json body;  // the whole reply object (success is true)
  std::string audit;    // the reply's audit id, "" when it had none
};

// Error convention (API error_number → Status): 1 → Unauthenticated, 2 → NotFound,
// 3 (alias) → InvalidArgument, 4 → PermissionDenied, 5/6 → InvalidArgument, 7 → AlreadyExists,
// 0 and HTTP 5xx → Unavailable, anything else → Internal. Messages carry the API's error text,
// its number and the audit id ("get_user: error 2: The requested object does not exist
// [audit pen12_65f0c0ffee]").
class OpenSrsClient {
 public:
  using LogSink = std::function<void(const std::string& line)>;

  // `log` receives one line per call; default: stderr, prefixed "checks: ".
  OpenSrsClient(std::shared_ptr<HttpClient> http, OpenSrsSettings settings, LogSink log = nullptr);

  // `params` must be an object; its keys sit beside `credentials`. `subject` names what the
  // call is about (a mailbox or a domain) for the log line.
  Result<OpenSrsReply> Call(const std::string& method, const nlohmann::json& params,
                            const std::string& subject = "") const;

 private:
  std::shared_ptr<HttpClient> http_;
  OpenSrsSettings settings_;
  LogSink log_;
};

}  // namespace bot::checks
