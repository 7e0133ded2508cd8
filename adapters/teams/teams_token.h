// The bot's outbound credential: an OAuth2 client-credentials token for the Bot Connector,
// fetched from MAILGUIDE_TEAMS_TOKEN_URL and cached until shortly before it expires.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "bot/clock.h"
#include "bot/http.h"
#include "bot/status.h"

namespace bot::teams {

// "{tenant}" is replaced by the tenant id (single-tenant apps, the default since Microsoft
// stopped creating multi-tenant bots) or by "botframework.com" when no tenant is set.
inline constexpr const char* kDefaultTokenUrl =
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
inline constexpr const char* kBotFrameworkScope = "https://api.botframework.com/.default";

struct TokenOptions {
  std::string token_url = kDefaultTokenUrl;
  std::string app_id;
  std::string app_password;  // never logged
  std::string tenant_id;
  int64_t renew_before_seconds = 300;  // renew this long before expiry, as botbuilder does
};

// The token endpoint with {tenant} filled in.
std::string ResolveTokenUrl(const TokenOptions& options);

// Thread-safe; one fetch at a time.
class TokenCache {
 public:
  TokenCache(HttpClient& http, TokenOptions options, Clock clock = UnixNow);

  // A bearer token valid for at least a little longer. Unauthenticated when the endpoint
  // refuses the credentials (fix the configuration), Unavailable when it cannot be reached.
  Result<std::string> Get();
  // Forgets the cached token (after the connector answered 401 with it).
  void Invalidate();

 private:
  HttpClient& http_;
  TokenOptions options_;
  Clock clock_;
  std::mutex mu_;
  std::string token_;
  int64_t expires_at_ = 0;
};

}  // namespace bot::teams
