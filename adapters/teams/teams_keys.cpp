#include "adapters/teams/teams_keys.h"

#include <iostream>
#include <nlohmann/json.hpp>

namespace bot::teams {

KeySource::KeySource(HttpClient& http, KeySourceOptions options, Clock clock)
    : http_(http), options_(std::move(options)), clock_(std::move(clock)) {}

Result<std::shared_ptr<const JwkSet>> KeySource::KeysFor(const std::string& kid) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_();
  bool stale = keys_ && now - fetched_at_ >= options_.max_age_seconds;
  bool unknown = keys_ && !kid.empty() && keys_->Find(kid) == nullptr;
  bool may_retry = !attempted_ || now - attempted_at_ >= options_.min_refetch_seconds;
  if ((!keys_ || stale || unknown) && may_retry) {
    Status s = Fetch();
    if (!s.ok()) {
      const std::string line = "signing keys not refreshed: " + s.ToString();
      if (options_.log) {
        options_.log(line);
      } else {
        std::cerr << "teams: " << line << "\n";
      }
    }
  }
  if (!keys_) return Status::Unavailable("Bot Framework signing keys could not be fetched");
  return keys_;
}

Status KeySource::Fetch() {
  attempted_ = true;
  attempted_at_ = clock_();
  auto get_json = [this](const std::string& url, const char* what) -> Result<nlohmann::json> {
    auto resp = http_.Send("GET", url, {{"Accept", "application/json"}}, "");
    if (!resp.ok()) return resp.status();
    if (resp->status != 200) {
      return Status::Unavailable(std::string(what) + " answered HTTP " + std::to_string(resp->status));
    }
    auto j = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return Status::Unavailable(std::string(what) + " is not a JSON object");
    return j;
  };
  auto meta = get_json(options_.openid_url, "OpenID metadata");
  if (!meta.ok()) return meta.status();
  auto jwks_uri = meta->find("jwks_uri");
  if (jwks_uri == meta->end() || !jwks_uri->is_string()) {
    return Status::Unavailable("OpenID metadata has no jwks_uri");
  }
  std::string uri = jwks_uri->get<std::string>();
  // The key document decides who may call us; never fetch it in the clear.
  if (uri.rfind("https://", 0) != 0) {
    return Status::Unavailable("jwks_uri is not https");
  }
  auto resp = http_.Send("GET", uri, {{"Accept", "application/json"}}, "");
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return Status::Unavailable("JWKS answered HTTP " + std::to_string(resp->status));
  auto set = JwkSet::Parse(resp->body);
  if (!set.ok()) return Status::Unavailable(set.status().message());
  keys_ = std::make_shared<const JwkSet>(std::move(*set));
  fetched_at_ = attempted_at_;
  return Status::Ok();
}

}  // namespace bot::teams
