// The two Teams front ends as bot::Adapter implementations:
//   TeamsWebhookAdapter — /teams/webhook, an outgoing webhook: HMAC, answered inline.
//   TeamsBotAdapter     — /api/messages, a Bot Framework bot: JWT, acknowledged at once,
//                         answered from a worker through the Bot Connector REST API.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "adapters/teams/teams_keys.h"
#include "adapters/teams/teams_token.h"
#include "bot/adapter.h"
#include "bot/clock.h"
#include "bot/http.h"

namespace bot::teams {

// Everything Teams needs from the configuration; serve wiring fills it from
// MAILGUIDE_TEAMS_* (design.md). Empty values switch the endpoint off.
struct TeamsSettings {
  std::string webhook_secret;  // MAILGUIDE_TEAMS_WEBHOOK_SECRET: the webhook's base64 security token
  std::string app_id;          // MAILGUIDE_TEAMS_APP_ID
  std::string app_password;    // MAILGUIDE_TEAMS_APP_PASSWORD
  std::string tenant_id;       // MAILGUIDE_TEAMS_TENANT_ID; empty → multi-tenant (botframework.com)
  std::string openid_url = kBotFrameworkOpenIdUrl;  // MAILGUIDE_TEAMS_OPENID_URL
  std::string token_url = kDefaultTokenUrl;         // MAILGUIDE_TEAMS_TOKEN_URL; "{tenant}" is filled in

  bool webhook_enabled() const { return !webhook_secret.empty(); }
  bool bot_enabled() const { return !app_id.empty() && !app_password.empty(); }
};

// Ok, or InvalidArgument naming the setting that can't work (a webhook secret that is not
// base64, an app id without a password, a non-https URL). Never echoes secret values.
Status ValidateTeamsSettings(const TeamsSettings& settings);

class TeamsWebhookAdapter final : public Adapter {
 public:
  explicit TeamsWebhookAdapter(const TeamsSettings& settings);

  const char* Name() const override { return "teams-webhook"; }
  Status Verify(const HttpRequest& request) override;
  Result<Inbound> Decode(const HttpRequest& request) override;  // always reply_inline
  // A message activity with the card (typed-answer hints instead of buttons) and fallback text.
  HttpResponse RenderInline(const Message& message, const TurnResult& turn) override;
  // An outgoing webhook has no credentials to post later: always an error.
  Status Deliver(const Message& message, const TurnResult& turn) override;

 private:
  std::string secret_;
};

struct BotAdapterOptions {
  Clock clock = UnixNow;
  // How the worker waits between retries; tests record instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  int max_attempts = 4;                  // per REST call, the first try included
  int64_t max_retry_after_seconds = 30;  // longer Retry-After values are capped
  KeySourceOptions keys;                 // openid_url is taken from TeamsSettings
  // One line per event worth an operator's attention; default: stderr. Never gets secrets.
  std::function<void(const std::string&)> log;
};

class TeamsBotAdapter final : public Adapter {
 public:
  TeamsBotAdapter(const TeamsSettings& settings, HttpClient& http, BotAdapterOptions options = {});

  const char* Name() const override { return "teams"; }
  // The Bearer JWT, before anything else: 401 for a bad token, 403 for a key not endorsed
  // for msteams. Remembers the verified serviceUrl as one replies may be sent to.
  Status Verify(const HttpRequest& request) override;
  Result<Inbound> Decode(const HttpRequest& request) override;
  // The acknowledgement: 200 with an empty body (replies go through Deliver).
  HttpResponse RenderInline(const Message& message, const TurnResult& turn) override;
  // Posts each reply as a card under the inbound activity; a card click also replaces the
  // clicked card (PUT) so its buttons can't be pressed twice. Retries 412/429/502-504 and
  // network errors with backoff, honouring Retry-After. Thread-safe.
  Status Deliver(const Message& message, const TurnResult& turn) override;
  // Posts `interim` as a card under the inbound activity; Deliver then PUTs the first reply
  // over it.
  bool ShowProgress(const Message& message, const Reply& interim) override;

  void TrustServiceUrlForTesting(const std::string& url);

 private:
  // One REST call with the retry rules above; the response body on success.
  Result<std::string> Send(const std::string& method, const std::string& url, const std::string& body);
  bool Trusted(const std::string& service_url);
  void Log(const std::string& line) const;

  TeamsSettings settings_;
  HttpClient& http_;
  BotAdapterOptions options_;
  KeySource keys_;
  TokenCache tokens_;
  std::mutex mu_;
  std::set<std::string> trusted_service_urls_;            // guarded by mu_
  std::map<std::string, std::string> interims_;            // guarded by mu_; event id → activity id
};

}  // namespace bot::teams
