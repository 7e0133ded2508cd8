// EdgeFixture: the real bot::Server over HTTPS on a loopback port with every public
// endpoint mounted as `mailguide serve` mounts them — Slack (/slack/events, /slack/commands,
// /slack/interactivity), the Teams outgoing webhook (/teams/webhook) and the Bot Framework bot
// (/api/messages) — in front of the real engine and the shipped flows, with fakes for the
// Slack Web API and the Bot Framework. For the hardening tests: hostile input, limits.
// Log lines are kept (and written to the suite's log directory, support/test_log.h).
#pragma once

#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/slack/slack_adapter.h"
#include "adapters/slack/slack_signature.h"
#include "adapters/teams/teams_adapter.h"
#include "adapters/teams/teams_hmac.h"
#include "bot/engine.h"
#include "bot/memory_session_store.h"
#include "bot/server/httplib_client.h"
#include "bot/server/server.h"
#include "bot/server/tls.h"
#include "support/engine_harness.h"
#include "support/fake_slack_api.h"
#include "support/process.h"
#include "support/teams_fake_bot_framework.h"
#include "support/teams_fixtures.h"
#include "support/teams_jwt_signer.h"
#include "support/test_log.h"

namespace bot::testing {

inline constexpr const char* kEdgeSlackSecret = "hardening-signing-secret-5d1e9b";
inline constexpr const char* kEdgeTeamsWebhookSecret = "aGFyZGVuaW5nLXRlYW1zLXdlYmhvb2stc2VjcmV0IQ==";
inline constexpr const char* kEdgeTeamsAppPassword = "hardening-app-password-31f0";
inline constexpr const char* kEdgeTeamsAppId = "9a0c6f4e-7b1d-4c52-8e3f-0d2b6a7c9e11";

inline TeamsTestKey& EdgeTeamsKey() {
  static TeamsTestKey key("edge-key");
  return key;
}

struct EdgeOptions {
  ConnectionLimits limits;
  int http_threads = 8;
  size_t max_body_bytes = 1 << 20;
  RateLimits rate_limits;  // none by default
};

class EdgeFixture {
 public:
  explicit EdgeFixture(EdgeOptions o = {}) {
    Status s = GenerateSelfSignedCertificate(cert_, key_, {"localhost"}, {"127.0.0.1"}, 2);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    slack_api_ = std::make_unique<FakeSlackApi>(cert_, key_);
    teams_ = std::make_unique<TeamsFakeBotFramework>(cert_, key_);
    teams_->SetJwks({{"keys", nlohmann::json::array({EdgeTeamsKey().Jwk({"msteams"})})}});
    HttplibClientOptions co;
    co.ca_cert_file = cert_;
    http_ = std::make_unique<HttplibClient>(co);

    EngineOptions eo;
    eo.rate_limits = o.rate_limits;
    engine_ = std::make_unique<Engine>(ShippedContent(), store_, eo);
    TurnHandler handler = EngineHandler(*engine_);

    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.tls_cert = cert_;
    so.tls_key = key_;
    so.workers = 2;
    so.http_threads = o.http_threads;
    so.limits = o.limits;
    so.max_body_bytes = o.max_body_bytes;
    so.log = [this](const std::string& line) { AddLog(line); };
    server_ = std::make_unique<Server>(so);

    slack::SlackAdapterOptions ao;
    ao.signing_secret = kEdgeSlackSecret;
    ao.bot_token = slack_api_->token();
    ao.api_url = slack_api_->api_url();
    ao.backoff = std::chrono::milliseconds(20);
    ao.log = [this](const std::string& line) { AddLog("slack: " + line); };
    ao.defer = [this](const std::string& key, std::function<void()> task) { server_->Defer(key, std::move(task)); };
    slack_ = std::make_unique<slack::SlackAdapter>(ao, *http_);
    (void)slack_->Start();
    for (const char* path : {"/slack/events", "/slack/commands", "/slack/interactivity"}) {
      server_->Mount(path, *slack_, handler);
    }

    teams::TeamsSettings ts;
    ts.webhook_secret = kEdgeTeamsWebhookSecret;
    ts.app_id = kEdgeTeamsAppId;
    ts.app_password = kEdgeTeamsAppPassword;
    ts.openid_url = teams_->openid_url();
    ts.token_url = teams_->token_url();
    if (Status v = teams::ValidateTeamsSettings(ts); !v.ok()) throw std::runtime_error(v.ToString());
    webhook_ = std::make_unique<teams::TeamsWebhookAdapter>(ts);
    bot_ = std::make_unique<teams::TeamsBotAdapter>(ts, *http_);
    server_->Mount("/teams/webhook", *webhook_, handler);
    server_->Mount("/api/messages", *bot_, handler);

    if (Status started = server_->Start(); !started.ok()) throw std::runtime_error(started.ToString());
  }
  ~EdgeFixture() { server_->Stop(); }

  int port() const { return server_->port(); }
  const std::string& cert() const { return cert_; }
  std::string service_url() const { return teams_->service_url(); }
  TeamsFakeBotFramework& teams() { return *teams_; }
  FakeSlackApi& slack_api() { return *slack_api_; }

  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port());
    c->set_ca_cert_path(cert_.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(15);
    return c;
  }

  // Slack: signed like Slack (or with a wrong signature when `forge`).
  httplib::Result PostSlack(const std::string& path, const std::string& body, const std::string& content_type,
                            bool forge = false) const {
    const std::string ts = std::to_string(UnixNow());
    httplib::Headers h{{"X-Slack-Request-Timestamp", ts},
                       {"X-Slack-Signature", slack::ComputeSlackSignature(forge ? "wrong" : kEdgeSlackSecret, ts, body)}};
    return Client()->Post(path.c_str(), h, body, content_type.c_str());
  }
  // Teams outgoing webhook: HMAC over the body.
  httplib::Result PostTeamsWebhook(const std::string& body, const std::string& content_type = "application/json",
                                   bool forge = false) const {
    auto auth = teams::ComputeWebhookAuthorization(kEdgeTeamsWebhookSecret, forge ? body + "x" : body);
    httplib::Headers h{{"Authorization", *auth}};
    return Client()->Post("/teams/webhook", h, body, content_type.c_str());
  }
  // Bot Framework: a valid connector token for this fake's serviceUrl (or a token signed by
  // another key when `forge`).
  httplib::Result PostTeamsBot(const std::string& body, const std::string& content_type = "application/json",
                               bool forge = false) const {
    static TeamsTestKey attacker("edge-key");
    const TeamsTestKey& key = forge ? attacker : EdgeTeamsKey();
    httplib::Headers h{
        {"Authorization", "Bearer " + key.Sign(TeamsValidClaims(kEdgeTeamsAppId, service_url(), UnixNow()))}};
    return Client()->Post("/api/messages", h, body, content_type.c_str());
  }

  // A personal-chat activity addressed to this fake connector.
  nlohmann::json TeamsActivity(const std::string& id) const {
    auto a = nlohmann::json::parse(ReadTeamsFixture("personal_message.json"));
    a["id"] = id;
    a["serviceUrl"] = service_url();
    a["recipient"]["id"] = std::string("28:") + kEdgeTeamsAppId;
    return a;
  }

  std::vector<std::string> logs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return logs_;
  }

 private:
  void AddLog(const std::string& line) {
    AppendTestLog("edge-server", line);
    std::lock_guard<std::mutex> lock(mu_);
    logs_.push_back(line);
  }

  TempDir dir_;
  std::string cert_ = dir_.path() + "/cert.pem";
  std::string key_ = dir_.path() + "/key.pem";
  std::unique_ptr<FakeSlackApi> slack_api_;
  std::unique_ptr<TeamsFakeBotFramework> teams_;
  std::unique_ptr<HttplibClient> http_;
  MemorySessionStore store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<slack::SlackAdapter> slack_;
  std::unique_ptr<teams::TeamsWebhookAdapter> webhook_;
  std::unique_ptr<teams::TeamsBotAdapter> bot_;
  mutable std::mutex mu_;
  std::vector<std::string> logs_;
};

}  // namespace bot::testing
