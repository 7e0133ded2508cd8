#include "adapters/teams/teams_token.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_codec.h"

namespace bot::teams {

std::string ResolveTokenUrl(const TokenOptions& options) {
  std::string url = options.token_url.empty() ? kDefaultTokenUrl : options.token_url;
  const std::string kPlaceholder = "{tenant}";
  size_t at = url.find(kPlaceholder);
  if (at != std::string::npos) {
    url.replace(at, kPlaceholder.size(),
                options.tenant_id.empty() ? "botframework.com" : PercentEncode(options.tenant_id));
  }
  return url;
}

TokenCache::TokenCache(HttpClient& http, TokenOptions options, Clock clock)
    : http_(http), options_(std::move(options)), clock_(std::move(clock)) {}

void TokenCache::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
  expires_at_ = 0;
}

Result<std::string> TokenCache::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_();
  if (!token_.empty() && now < expires_at_ - options_.renew_before_seconds) return token_;

  std::string body = "grant_type=client_credentials&client_id=" + PercentEncode(options_.app_id) +
                     "&client_secret=" + PercentEncode(options_.app_password) +
                     "&scope=" + PercentEncode(kBotFrameworkScope);
  auto resp = http_.Send("POST", ResolveTokenUrl(options_),
                         {{"Content-Type", "application/x-www-form-urlencoded"},
                          {"Accept", "application/json"}},
                         body);
  if (!resp.ok()) return Status::Unavailable("token endpoint unreachable: " + resp.status().message());
  auto j = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (resp->status == 400 || resp->status == 401 || resp->status == 403) {
    // The endpoint's error code says what is wrong (wrong tenant, bad secret) without echoing it.
    std::string code = j.is_object() && j.contains("error") && j["error"].is_string()
                           ? j["error"].get<std::string>()
                           : "HTTP " + std::to_string(resp->status);
    return Status::Unauthenticated("token endpoint refused the app credentials: " + code);
  }
  if (resp->status != 200) {
    return Status::Unavailable("token endpoint answered HTTP " + std::to_string(resp->status));
  }
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string()) {
    return Status::Unavailable("token endpoint answer has no access_token");
  }
  int64_t expires_in = 3600;
  if (j.contains("expires_in")) {
    // Azure AD has sent it both as a number and as a string.
    const auto& e = j["expires_in"];
    if (e.is_number()) expires_in = static_cast<int64_t>(e.get<double>());
    else if (e.is_string()) expires_in = std::atoll(e.get<std::string>().c_str());
  }
  token_ = j["access_token"].get<std::string>();
  // A token shorter-lived than the renewal margin is still used for this call.
  expires_at_ = now + std::max<int64_t>(expires_in, 0);
  return token_;
}

}  // namespace bot::teams
