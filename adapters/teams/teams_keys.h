// The Bot Framework signing keys: OpenID metadata → jwks_uri → JWKS, fetched through
// bot::HttpClient and cached. Keys rotate without notice, so an unknown key id triggers a
// refetch (at most once per minimum interval) and the whole set is refreshed daily.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "adapters/teams/teams_jwt.h"
#include "bot/clock.h"
#include "bot/http.h"
#include "bot/status.h"

namespace bot::teams {

inline constexpr const char* kBotFrameworkOpenIdUrl =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";

struct KeySourceOptions {
  std::string openid_url = kBotFrameworkOpenIdUrl;
  int64_t max_age_seconds = 24 * 3600;     // refresh the whole set at least this often
  int64_t min_refetch_seconds = 5 * 60;    // unknown kids refetch no more often than this
  std::function<void(const std::string&)> log;  // a failed refresh; default: stderr
};

// Thread-safe. Fetches happen under a lock, so concurrent requests with a new kid cause
// one fetch, not many. A failed refresh keeps the previous set.
class KeySource {
 public:
  KeySource(HttpClient& http, KeySourceOptions options, Clock clock = UnixNow);

  // The current key set, fetched or refreshed as needed so that it holds `kid` if the
  // metadata does. Unavailable when no set could ever be fetched; a set without `kid`
  // is still returned (validation then says "unknown key id").
  Result<std::shared_ptr<const JwkSet>> KeysFor(const std::string& kid);

 private:
  Status Fetch();  // requires mu_

  HttpClient& http_;
  KeySourceOptions options_;
  Clock clock_;
  std::mutex mu_;
  std::shared_ptr<const JwkSet> keys_;
  int64_t fetched_at_ = 0;    // last successful fetch
  int64_t attempted_at_ = 0;  // last attempt, successful or not
  bool attempted_ = false;
};

}  // namespace bot::teams
