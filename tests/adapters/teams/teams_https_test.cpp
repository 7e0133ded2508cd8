// Teams over real HTTPS on loopback: mailguide's bot::Server with both Teams adapters, the
// real engine and flows, and TeamsFakeBotFramework as OpenID metadata, JWKS, token endpoint
// and Bot Connector. Requests are signed like Teams signs them (HMAC, or RS256 JWTs made
// with a key this test generates and serves).
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_adapter.h"
#include "adapters/teams/teams_hmac.h"
#include "bot/content.h"
#include "bot/engine.h"
#include "bot/memory_session_store.h"
#include "bot/server/httplib_client.h"
#include "bot/server/server.h"
#include "bot/server/tls.h"
#include "support/gated_prober.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/teams_fake_bot_framework.h"
#include "support/teams_fixtures.h"
#include "support/teams_jwt_signer.h"

using bot::testing::TeamsFakeBotFramework;
using bot::testing::TeamsTestKey;
using nlohmann::json;

namespace {

const std::string kSecret = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
const std::string kAppId = "c9e8c047-2a74-40a2-b28a-b162d5f5327c";
const std::string kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";

TeamsTestKey& PublishedKey() {
  static TeamsTestKey key("published");
  return key;
}
TeamsTestKey& UnendorsedKey() {
  static TeamsTestKey key("unendorsed");
  return key;
}
TeamsTestKey& AttackerKey() {
  static TeamsTestKey key("published");  // claims the published kid, but another key
  return key;
}

const bot::Content& SharedContent() {
  static const bot::Content content = [] {
    auto loaded = bot::LoadContent(bot::testing::FlowsDir());
    if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
    return std::move(*loaded);
  }();
  return content;
}

// mailguide serving /teams/webhook and /api/messages over HTTPS, talking to the fake.
class TeamsHttpsFixture {
 public:
  explicit TeamsHttpsFixture(bot::Prober* prober = nullptr) {
    cert_ = dir_.path() + "/cert.pem";
    key_ = dir_.path() + "/key.pem";
    bot::Status s = bot::GenerateSelfSignedCertificate(cert_, key_, {"localhost"}, {"127.0.0.1"}, 2);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    fake_ = std::make_unique<TeamsFakeBotFramework>(cert_, key_);
    fake_->SetJwks({{"keys", json::array({PublishedKey().Jwk({"msteams", "skype"}), UnendorsedKey().Jwk({"skype"})})}});

    bot::HttplibClientOptions co;
    co.ca_cert_file = cert_;
    http_ = std::make_unique<bot::HttplibClient>(co);
    bot::EngineOptions eo;
    eo.prober = prober;
    engine_ = std::make_unique<bot::Engine>(SharedContent(), store_, eo);

    bot::teams::TeamsSettings ts;
    ts.webhook_secret = kSecret;
    ts.app_id = kAppId;
    ts.app_password = "loopback-password";
    ts.tenant_id = kTenant;
    ts.openid_url = fake_->openid_url();
    ts.token_url = fake_->token_url();
    REQUIRE(bot::teams::ValidateTeamsSettings(ts).ok());
    webhook_ = std::make_unique<bot::teams::TeamsWebhookAdapter>(ts);
    bot_ = std::make_unique<bot::teams::TeamsBotAdapter>(ts, *http_);

    bot::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.tls_cert = cert_;
    so.tls_key = key_;
    so.workers = 2;
    so.http_threads = 4;
    so.log = [this](const std::string& line) {
      bot::testing::AppendTestLog("teams-server", line);
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    };
    server_ = std::make_unique<bot::Server>(so);
    bot::TurnHandler handler = bot::EngineHandler(*engine_);
    server_->Mount("/teams/webhook", *webhook_, handler);
    server_->Mount("/api/messages", *bot_, handler);
    s = server_->Start();
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  ~TeamsHttpsFixture() { server_->Stop(); }

  httplib::Result Post(const std::string& path, const std::string& body, const std::string& authorization) {
    httplib::SSLClient client("127.0.0.1", server_->port());
    client.set_ca_cert_path(cert_.c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(10, 0);
    httplib::Headers headers;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return client.Post(path.c_str(), headers, body, "application/json");
  }

  // A webhook turn: "<at>mailguide</at> TEXT" in one channel reply chain, HMAC-signed.
  httplib::Result Webhook(const std::string& text, int n) {
    json a = json::parse(bot::testing::ReadTeamsFixture("webhook_message.json"));
    a["id"] = "14859834085" + std::to_string(10 + n);
    a["text"] = "<at>mailguide</at> " + text;
    std::string body = a.dump();  // the signature covers exactly these bytes
    return Post("/teams/webhook", body, *bot::teams::ComputeWebhookAuthorization(kSecret, body));
  }

  // A personal-chat activity addressed to the fake connector.
  json Activity(const std::string& id) const {
    json a = json::parse(bot::testing::ReadTeamsFixture("personal_message.json"));
    a["id"] = id;
    a["serviceUrl"] = fake_->service_url();
    a["recipient"]["id"] = "28:" + kAppId;
    return a;
  }

  std::string Bearer(const TeamsTestKey& key, json claims) const { return "Bearer " + key.Sign(claims); }
  json Claims() const {
    return bot::testing::TeamsValidClaims(kAppId, fake_->service_url(), bot::UnixNow());
  }

  TeamsFakeBotFramework& fake() { return *fake_; }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

 private:
  bot::testing::TempDir dir_;
  std::string cert_, key_;
  std::unique_ptr<TeamsFakeBotFramework> fake_;
  std::unique_ptr<bot::HttplibClient> http_;
  bot::MemorySessionStore store_;
  std::unique_ptr<bot::Engine> engine_;
  std::unique_ptr<bot::teams::TeamsWebhookAdapter> webhook_;
  std::unique_ptr<bot::teams::TeamsBotAdapter> bot_;
  std::unique_ptr<bot::Server> server_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

const json& CardOf(const json& activity) { return activity["attachments"][0]["content"]; }

std::string CardText(const json& card) {
  std::string out;
  std::function<void(const json&)> walk = [&](const json& n) {
    if (n.is_object()) {
      if (n.value("type", "") == "TextBlock") out += n["text"].get<std::string>() + "\n";
      for (auto& [k, v] : n.items()) walk(v);
    } else if (n.is_array()) {
      for (const auto& v : n) walk(v);
    }
  };
  walk(card["body"]);
  return out;
}

// The Action.Submit data of the button whose choice is `value`.
json ButtonData(const json& card, const std::string& value) {
  for (const auto& a : card.value("actions", json::array())) {
    if (a["data"]["mailguide"].value("choice", "") == value) return a["data"];
  }
  FAIL("no button for " << value << " in " << card.dump());
  return nullptr;
}

}  // namespace

TEST_CASE("webhook over HTTPS: HMAC checked on the raw bytes; a text-driven flow answers inline", "[teams]") {
  TeamsHttpsFixture f;

  SECTION("bad, missing and re-serialised signatures get 401 and no answer") {
    std::string body = bot::testing::ReadTeamsFixture("webhook_message.json");
    std::string auth = *bot::teams::ComputeWebhookAuthorization(kSecret, body);
    auto ok = f.Post("/teams/webhook", body, auth);
    REQUIRE(ok);
    CHECK(ok->status == 200);
    auto reserialised = f.Post("/teams/webhook", json::parse(body).dump(), auth);
    REQUIRE(reserialised);
    CHECK(reserialised->status == 401);
    CHECK(reserialised->body.empty());
    auto wrong = f.Post("/teams/webhook", body, "HMAC p6hkLMVOgEyx1nfj2PZYA/GPD1Gdwlznq5VbC2M5chQ=");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    auto none = f.Post("/teams/webhook", body, "");
    REQUIRE(none);
    CHECK(none->status == 401);
  }

  SECTION("@mailguide webmail → rcp → yes walks the guide, each answer inline within the budget") {
    auto t0 = std::chrono::steady_clock::now();
    auto first = f.Webhook("webmail", 1);
    REQUIRE(first);
    REQUIRE(first->status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    json a1 = json::parse(first->body);
    CHECK(a1["type"] == "message");
    CHECK(CardOf(a1)["version"] == "1.4");
    CHECK(!CardOf(a1).contains("actions"));  // webhooks cannot take clicks
    CHECK(CardText(CardOf(a1)).find("**@mailguide rcp**") != std::string::npos);
    CHECK(CardOf(a1).contains("fallbackText"));

    auto second = f.Webhook("rcp", 2);
    REQUIRE(second);
    REQUIRE(second->status == 200);
    std::string step1 = CardText(CardOf(json::parse(second->body)));
    INFO(step1);
    CHECK(step1.find("Step 1 of") != std::string::npos);
    CHECK(step1.find("**@mailguide yes**") != std::string::npos);

    auto third = f.Webhook("yes", 3);
    REQUIRE(third);
    REQUIRE(third->status == 200);
    std::string step2 = CardText(CardOf(json::parse(third->body)));
    INFO(step2);
    CHECK(step2.find("Step 2 of") != std::string::npos);
    CHECK(f.fake().activities().empty());  // nothing went through the connector
  }
}

TEST_CASE("bot over HTTPS: JWTs from the loopback JWKS; each broken rule refused, nothing sent", "[teams]") {
  TeamsHttpsFixture f;
  std::string body = f.Activity("1700000000101").dump();
  auto status_with = [&](const std::string& authorization) {
    auto r = f.Post("/api/messages", body, authorization);
    REQUIRE(r);
    return r->status;
  };
  json claims = f.Claims();
  json wrong_aud = claims;
  wrong_aud["aud"] = "00000000-0000-0000-0000-000000000000";
  json wrong_iss = claims;
  wrong_iss["iss"] = "https://login.microsoftonline.com/botframework.com/v2.0";
  json expired = claims;
  expired["exp"] = bot::UnixNow() - 600;
  expired["nbf"] = bot::UnixNow() - 4000;
  json other_service = claims;
  other_service["serviceurl"] = "https://smba.trafficmanager.net/amer/";

  CHECK(status_with("") == 401);
  CHECK(status_with(f.Bearer(AttackerKey(), claims)) == 401);        // wrong key
  CHECK(status_with(f.Bearer(PublishedKey(), wrong_aud)) == 401);    // audience
  CHECK(status_with(f.Bearer(PublishedKey(), wrong_iss)) == 401);    // issuer
  CHECK(status_with(f.Bearer(PublishedKey(), expired)) == 401);      // expiry
  CHECK(status_with(f.Bearer(PublishedKey(), other_service)) == 401);  // serviceUrl
  CHECK(status_with(f.Bearer(UnendorsedKey(), claims)) == 403);      // not endorsed for msteams
  CHECK(f.fake().jwks_fetches() == 1);                               // keys cached

  // The same request with a good token is answered; only its reply reaches the connector.
  CHECK(status_with(f.Bearer(PublishedKey(), claims)) == 200);
  auto activities = f.fake().WaitForActivities(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(f.fake().activities().size() == 1);
}

TEST_CASE("bot over HTTPS: replies via the loopback connector; an Action.Submit continues the flow", "[teams]") {
  TeamsHttpsFixture f;
  std::string token = f.Bearer(PublishedKey(), f.Claims());

  json typed = f.Activity("1700000000101");
  typed["text"] = "webmail";
  auto ack = f.Post("/api/messages", typed.dump(), token);
  REQUIRE(ack);
  CHECK(ack->status == 200);
  CHECK(ack->body.empty());  // acknowledged at once; the answer comes through the connector

  auto got = f.fake().WaitForActivities(1);
  REQUIRE(got.size() == 1);
  const auto question = got[0];  // a copy: `got` is refreshed below
  CHECK(question.method == "POST");
  CHECK(question.path == "/amer/v3/conversations/a:17I0kl9EkpE1O9-personal/activities/1700000000101");
  CHECK(question.authorization == "Bearer loopback-token");
  CHECK(question.body["replyToId"] == "1700000000101");
  const json& panel_card = CardOf(question.body);
  json data = ButtonData(panel_card, "panel:rcp");
  auto tokens = f.fake().token_requests();
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0].rfind(kTenant + " grant_type=client_credentials&client_id=" + kAppId, 0) == 0);

  // The click: a message activity with the button's data as value, no text, replyToId = the card.
  json click = f.Activity("1700000000102");
  click.erase("text");
  click["value"] = data;
  click["replyToId"] = question.id;
  auto click_ack = f.Post("/api/messages", click.dump(), token);
  REQUIRE(click_ack);
  CHECK(click_ack->status == 200);

  got = f.fake().WaitForActivities(3);
  REQUIRE(got.size() == 3);
  // The clicked card is replaced in place (no buttons left) ...
  CHECK(got[1].method == "PUT");
  CHECK(got[1].path == "/amer/v3/conversations/a:17I0kl9EkpE1O9-personal/activities/" + question.id);
  CHECK(!CardOf(got[1].body).contains("actions"));
  CHECK(CardText(CardOf(got[1].body)).find("Answered: Reseller Control Panel (RCP)") != std::string::npos);
  // ... and the flow continues with the first check, which has buttons of its own.
  CHECK(got[2].method == "POST");
  CHECK(got[2].path == "/amer/v3/conversations/a:17I0kl9EkpE1O9-personal/activities/1700000000102");
  std::string step1 = CardText(CardOf(got[2].body));
  INFO(step1);
  CHECK(step1.find("Step 1 of") != std::string::npos);
  json yes = ButtonData(CardOf(got[2].body), "yes");

  json click2 = f.Activity("1700000000103");
  click2.erase("text");
  click2["value"] = yes;
  click2["replyToId"] = got[2].id;
  REQUIRE(f.Post("/api/messages", click2.dump(), token)->status == 200);
  got = f.fake().WaitForActivities(5);
  REQUIRE(got.size() == 5);
  CHECK(got[3].method == "PUT");
  CHECK(CardText(CardOf(got[4].body)).find("Step 2 of") != std::string::npos);
  CHECK(f.fake().token_requests().size() == 1);  // the token is cached

  // Pressing the first card's button again (say, from a client that had not refreshed): the
  // engine says it belongs to an earlier question, and no card is touched.
  json stale = f.Activity("1700000000104");
  stale.erase("text");
  stale["value"] = data;
  stale["replyToId"] = question.id;
  REQUIRE(f.Post("/api/messages", stale.dump(), token)->status == 200);
  got = f.fake().WaitForActivities(6);
  REQUIRE(got.size() == 6);
  CHECK(got[5].method == "POST");
  CHECK(CardText(CardOf(got[5].body)).find("earlier question") != std::string::npos);
}

TEST_CASE("bot over HTTPS: being installed posts one short help card", "[teams]") {
  TeamsHttpsFixture f;
  std::string token = f.Bearer(PublishedKey(), f.Claims());
  for (const char* fixture : {"conversation_update_bot_added.json", "installation_update_add.json"}) {
    json a = json::parse(bot::testing::ReadTeamsFixture(fixture));
    a["serviceUrl"] = f.fake().service_url();
    a["recipient"]["id"] = "28:" + kAppId;
    if (a.contains("membersAdded")) a["membersAdded"][0]["id"] = "28:" + kAppId;
    auto r = f.Post("/api/messages", a.dump(), token);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto got = f.fake().WaitForActivities(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  got = f.fake().activities();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].path == "/amer/v3/conversations/a:1personal-install/activities");
  CHECK(!CardText(CardOf(got[0].body)).empty());
}

TEST_CASE("bot over HTTPS: a 'Checking…' card while the probes run, then the results in its place", "[teams][probe]") {
  bot::testing::GatedProber prober({{"mx", bot::ProbeResult::Outcome::kFail, "No MX record is published for example.com."},
                                    {"spf", bot::ProbeResult::Outcome::kPass, "one SPF record"}});
  TeamsHttpsFixture f(&prober);
  json typed = f.Activity("1700000000201");
  typed["text"] = "customer at dana@example.com is not receiving any mail, RCP";
  auto ack = f.Post("/api/messages", typed.dump(), f.Bearer(PublishedKey(), f.Claims()));
  REQUIRE(ack);
  CHECK(ack->status == 200);
  CHECK(ack->body.empty());

  auto got = f.fake().WaitForActivities(1);
  REQUIRE(got.size() == 1);
  const auto checking = got[0];
  CHECK(checking.method == "POST");
  CHECK(checking.body["replyToId"] == "1700000000201");
  CHECK(CardText(CardOf(checking.body)).find("Checking dana@example.com") != std::string::npos);
  // Posted before the probes could finish: they are held at the gate until now.
  REQUIRE(prober.WaitRunning(1));
  CHECK(f.fake().activities().size() == 1);

  prober.Open();
  got = f.fake().WaitForActivities(3);
  REQUIRE(got.size() == 3);
  // The checking card becomes the report ...
  CHECK(got[1].method == "PUT");
  CHECK(got[1].path == "/amer/v3/conversations/a:17I0kl9EkpE1O9-personal/activities/" + checking.id);
  CHECK(got[1].body["id"] == checking.id);
  std::string report = CardOf(got[1].body).dump();  // the title and the facts, wherever they sit
  INFO(report);
  CHECK(report.find("Automatic checks for example.com") != std::string::npos);
  CHECK(report.find("No MX record is published") != std::string::npos);
  // ... and the likely cause is a new card below it.
  CHECK(got[2].method == "POST");
  CHECK(CardText(CardOf(got[2].body)).find("found automatically") != std::string::npos);
}
