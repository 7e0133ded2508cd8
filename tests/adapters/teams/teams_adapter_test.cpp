// The two adapters end to end without a network: requests built from fixtures, JWTs signed
// by a test key served as JWKS, connector calls captured by a recording HttpClient.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_adapter.h"
#include "adapters/teams/teams_hmac.h"
#include "adapters/teams/teams_json.h"
#include "support/teams_fixtures.h"
#include "support/teams_jwt_signer.h"
#include "support/teams_recording_http_client.h"

using bot::HttpRequest;
using bot::Inbound;
using bot::Reply;
using bot::Status;
using bot::TurnResult;
using bot::teams::TeamsBotAdapter;
using bot::teams::TeamsSettings;
using bot::teams::TeamsWebhookAdapter;
using bot::testing::ReadTeamsFixture;
using bot::testing::TeamsRecordingHttpClient;
using bot::testing::TeamsTestKey;
using nlohmann::json;

namespace {

const std::string kSecret = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
const std::string kAppId = "c9e8c047-2a74-40a2-b28a-b162d5f5327c";
const std::string kServiceUrl = "https://smba.trafficmanager.net/amer/";
const std::string kMetaUrl = "https://login.test/v1/.well-known/openidconfiguration";
const std::string kJwksUrl = "https://login.test/v1/.well-known/keys";
const std::string kTokenUrl = "https://login.test/tenant-1/oauth2/v2.0/token";
constexpr int64_t kNow = 1700000000;

TeamsTestKey& Key() {
  static TeamsTestKey key("adapter-key");
  return key;
}

HttpRequest Post(const std::string& body, const std::string& authorization) {
  HttpRequest r;
  r.method = "POST";
  r.body = body;
  r.headers.emplace("Content-Type", "application/json");
  if (!authorization.empty()) r.headers.emplace("Authorization", authorization);
  return r;
}

Reply Question(const std::string& token) {
  Reply r;
  r.title = "Can she log in?";
  r.choices = {{"Yes", "yes"}, {"No", "no"}};
  r.step_token = token;
  return r;
}

struct BotFixture {
  TeamsRecordingHttpClient http;
  std::vector<std::chrono::milliseconds> sleeps;
  TeamsSettings settings;
  std::unique_ptr<TeamsBotAdapter> adapter;

  BotFixture() {
    http.OnJson(kMetaUrl, 200, json{{"issuer", "https://api.botframework.com"}, {"jwks_uri", kJwksUrl}}.dump());
    http.OnJson(kJwksUrl, 200, json{{"keys", json::array({Key().Jwk({"msteams"})})}}.dump());
    http.OnJson(kTokenUrl, 200, R"({"token_type":"Bearer","expires_in":3600,"access_token":"bot-token"})");
    http.SetDefault(201, R"({"id":"1700000000999"})");  // the connector accepts everything else
    settings.app_id = kAppId;
    settings.app_password = "app-secret";
    settings.tenant_id = "tenant-1";
    settings.openid_url = kMetaUrl;
    settings.token_url = "https://login.test/{tenant}/oauth2/v2.0/token";
    bot::teams::BotAdapterOptions options;
    options.clock = [] { return kNow; };
    options.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    adapter = std::make_unique<TeamsBotAdapter>(settings, http, options);
  }

  std::string Bearer(json claims = bot::testing::TeamsValidClaims(kAppId, kServiceUrl, kNow)) {
    return "Bearer " + Key().Sign(claims);
  }

  // Verify + Decode as the server would, returning the decoded message.
  bot::Message Accept(const std::string& fixture) {
    HttpRequest req = Post(ReadTeamsFixture(fixture), Bearer());
    Status s = adapter->Verify(req);
    INFO(s.ToString());
    REQUIRE(s.ok());
    auto in = adapter->Decode(req);
    REQUIRE(in.ok());
    REQUIRE(in->kind == Inbound::Kind::kMessage);
    return in->message;
  }

  std::vector<TeamsRecordingHttpClient::Call> ConnectorCalls() { return http.CallsTo(kServiceUrl); }
};

}  // namespace

TEST_CASE("webhook adapter: a signed request is answered inline with a card and typed hints", "[teams]") {
  TeamsSettings settings;
  settings.webhook_secret = kSecret;
  TeamsWebhookAdapter adapter(settings);
  std::string body = ReadTeamsFixture("webhook_message.json");
  HttpRequest req = Post(body, *bot::teams::ComputeWebhookAuthorization(kSecret, body));
  REQUIRE(adapter.Verify(req).ok());
  auto in = adapter.Decode(req);
  REQUIRE(in.ok());
  REQUIRE(in->reply_inline);

  TurnResult turn;
  turn.replies = {Question("t1")};
  auto resp = adapter.RenderInline(in->message, turn);
  CHECK(resp.status == 200);
  CHECK(resp.content_type == "application/json");
  json activity = json::parse(resp.body);
  CHECK(activity["type"] == "message");
  const json& card = activity["attachments"][0]["content"];
  CHECK(card["version"] == "1.4");
  CHECK(!card.contains("actions"));
  CHECK(card.dump().find("@mailguide yes") != std::string::npos);
  CHECK(card["fallbackText"].get<std::string>().find("Can she log in?") != std::string::npos);
  CHECK(adapter.Deliver(in->message, turn).code() == Status::Code::kInvalidArgument);

  SECTION("a tampered, re-serialised or unsigned body is refused") {
    std::string reserialised = json::parse(body).dump(1);
    CHECK(adapter.Verify(Post(reserialised, req.Header("Authorization"))).code() == Status::Code::kUnauthenticated);
    CHECK(adapter.Verify(Post(body, "")).code() == Status::Code::kUnauthenticated);
    HttpRequest twice = req;
    twice.headers.emplace("Authorization", "HMAC AAAA");
    CHECK(adapter.Verify(twice).code() == Status::Code::kUnauthenticated);
  }
}

TEST_CASE("settings validation names the broken setting without echoing it", "[teams]") {
  TeamsSettings s;
  CHECK(bot::teams::ValidateTeamsSettings(s).ok());
  s.webhook_secret = "not base64 at all";
  Status bad = bot::teams::ValidateTeamsSettings(s);
  CHECK(bad.code() == Status::Code::kInvalidArgument);
  CHECK(bad.message().find("MAILGUIDE_TEAMS_WEBHOOK_SECRET") != std::string::npos);
  CHECK(bad.message().find("not base64 at all") == std::string::npos);
  s.webhook_secret = kSecret;
  s.app_id = "app";
  CHECK(bot::teams::ValidateTeamsSettings(s).message().find("MAILGUIDE_TEAMS_APP_PASSWORD") != std::string::npos);
  s.app_password = "pw";
  CHECK(bot::teams::ValidateTeamsSettings(s).ok());
  s.token_url = "http://login.test/token";
  CHECK(!bot::teams::ValidateTeamsSettings(s).ok());
}

TEST_CASE("bot adapter: the JWT is checked before anything else", "[teams]") {
  BotFixture f;
  std::string body = ReadTeamsFixture("personal_message.json");
  CHECK(f.adapter->Verify(Post(body, f.Bearer())).ok());
  CHECK(f.adapter->Verify(Post(body, "")).code() == Status::Code::kUnauthenticated);
  CHECK(f.adapter->Verify(Post(body, "HMAC abc")).code() == Status::Code::kUnauthenticated);
  json claims = bot::testing::TeamsValidClaims(kAppId, kServiceUrl, kNow);
  claims["serviceurl"] = "https://attacker.example/";
  CHECK(f.adapter->Verify(Post(body, f.Bearer(claims))).code() == Status::Code::kUnauthenticated);
  CHECK(f.adapter->Verify(Post("not json", f.Bearer())).code() == Status::Code::kUnauthenticated);
  // The token is judged before the body is read: garbage with a bad token is refused for the token.
  json wrong_aud = bot::testing::TeamsValidClaims("someone-else", kServiceUrl, kNow);
  Status order = f.adapter->Verify(Post("not json", f.Bearer(wrong_aud)));
  CHECK(order.message().find("audience") != std::string::npos);
  TeamsSettings off;
  TeamsBotAdapter disabled(off, f.http);
  CHECK(disabled.Verify(Post(body, f.Bearer())).code() == Status::Code::kUnauthenticated);
}

TEST_CASE("bot adapter: replies are posted under the inbound activity with a bearer token", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("channel_mention.json");
  CHECK(f.adapter->RenderInline(m, {}).body.empty());
  TurnResult turn;
  turn.replies = {Question("t1")};
  REQUIRE(f.adapter->Deliver(m, turn).ok());
  auto calls = f.ConnectorCalls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "POST");
  CHECK(calls[0].url == kServiceUrl + "v3/conversations/19%3Ac0ffee%40thread.tacv2%3Bmessageid%3D1700000000100/activities/1700000000201");
  CHECK(calls[0].Header("Authorization") == "Bearer bot-token");
  json activity = json::parse(calls[0].body);
  CHECK(activity["replyToId"] == "1700000000201");
  CHECK(activity["from"]["id"] == "28:" + kAppId);
  CHECK(activity["conversation"]["id"] == "19:c0ffee@thread.tacv2;messageid=1700000000100");
  const json& data = activity["attachments"][0]["content"]["actions"][0]["data"]["mailguide"];
  CHECK(data["step"] == "t1");
  CHECK(data["thread"] == "1700000000100");
  // One token fetch, with the app's credentials.
  auto token_calls = f.http.CallsTo(kTokenUrl);
  REQUIRE(token_calls.size() == 1);
  CHECK(token_calls[0].body.find("client_id=" + kAppId) != std::string::npos);
}

TEST_CASE("bot adapter: a card click updates the clicked card in place", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("card_click.json");
  const std::string card_url = kServiceUrl +
      "v3/conversations/19%3Ac0ffee%40thread.tacv2%3Bmessageid%3D1700000000100/activities/1700000000555";
  SECTION("the reply meant to replace it is PUT over it") {
    TurnResult turn;
    Reply next = Question("t4");
    next.replaces_previous = true;
    turn.replies = {next};
    REQUIRE(f.adapter->Deliver(m, turn).ok());
    auto calls = f.ConnectorCalls();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "PUT");
    CHECK(calls[0].url == card_url);
    json activity = json::parse(calls[0].body);
    CHECK(activity["id"] == "1700000000555");
    CHECK(activity["attachments"][0]["content"]["actions"][0]["data"]["mailguide"]["step"] == "t4");
  }
  SECTION("otherwise the old card is retired (no buttons) and the reply posted") {
    TurnResult turn;
    turn.replies = {Question("t4")};
    REQUIRE(f.adapter->Deliver(m, turn).ok());
    auto calls = f.ConnectorCalls();
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].method == "PUT");
    CHECK(calls[0].url == card_url);
    json retired = json::parse(calls[0].body)["attachments"][0]["content"];
    CHECK(!retired.contains("actions"));
    CHECK(retired.dump().find("Answered: Yes") != std::string::npos);
    CHECK(calls[1].method == "POST");
  }
}

TEST_CASE("bot adapter: a click the engine refused leaves the card alone", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("card_click.json");
  TurnResult turn;
  Reply notice;
  notice.title = "This case belongs to someone else";
  notice.ephemeral = true;
  turn.replies = {notice};
  SECTION("someone else's case") { turn.status = bot::TurnStatus::kWaiting; }
  SECTION("a stale button") { turn.status = bot::TurnStatus::kIgnored; }
  REQUIRE(f.adapter->Deliver(m, turn).ok());
  auto calls = f.ConnectorCalls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "POST");  // the notice; Teams has no ephemeral messages
}

TEST_CASE("bot adapter: install help is appended to the conversation", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("conversation_update_bot_added.json");
  TurnResult turn;
  Reply help;
  help.title = "mailguide";
  help.paragraphs = {"Ask me about webmail, receiving or sending."};
  turn.replies = {help};
  REQUIRE(f.adapter->Deliver(m, turn).ok());
  auto calls = f.ConnectorCalls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].url == kServiceUrl + "v3/conversations/a%3A1personal-install/activities");
  CHECK(!json::parse(calls[0].body).contains("replyToId"));
}

TEST_CASE("bot adapter: 429 Retry-After is honoured and transient errors retried", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("personal_message.json");
  const std::string url = kServiceUrl + "v3/conversations/a%3A17I0kl9EkpE1O9-personal/activities/1700000000101";
  bot::HttpResponse throttled;
  throttled.status = 429;
  throttled.body = R"({"error":{"code":"Throttled","message":"slow down"}})";
  throttled.headers.emplace("Retry-After", "7");
  f.http.On(url, throttled);
  f.http.OnJson(url, 503, "{}");
  f.http.OnJson(url, 201, R"({"id":"1700000000999"})");
  f.http.FailNext(url);  // first of all: no response at all
  TurnResult turn;
  turn.replies = {Question("t1")};
  Status s = f.adapter->Deliver(m, turn);
  INFO(s.ToString());
  CHECK(s.ok());
  CHECK(f.ConnectorCalls().size() == 4);
  REQUIRE(f.sleeps.size() == 3);
  CHECK(f.sleeps[1] == std::chrono::seconds(7));
  CHECK(f.sleeps[0] >= std::chrono::milliseconds(1600));
  CHECK(f.sleeps[2] > std::chrono::milliseconds(0));
}

TEST_CASE("bot adapter: permanent refusals are not retried", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("personal_message.json");
  const std::string url = kServiceUrl + "v3/conversations/a%3A17I0kl9EkpE1O9-personal/activities/1700000000101";
  bot::HttpResponse forbidden;
  forbidden.status = 403;
  forbidden.body = R"({"error":{"code":"BotNotInConversationRoster","message":"x"}})";
  forbidden.headers.emplace("X-Correlating-OperationId", "op-1");
  f.http.On(url, forbidden);
  TurnResult turn;
  turn.replies = {Question("t1"), Question("t2")};
  Status s = f.adapter->Deliver(m, turn);
  CHECK(s.code() == Status::Code::kPermissionDenied);
  CHECK(s.message().find("BotNotInConversationRoster") != std::string::npos);
  CHECK(s.message().find("op-1") != std::string::npos);
  CHECK(f.ConnectorCalls().size() == 1);
  CHECK(f.sleeps.empty());
}

TEST_CASE("bot adapter: a 401 from the connector fetches a fresh token once", "[teams]") {
  BotFixture f;
  bot::Message m = f.Accept("personal_message.json");
  const std::string url = kServiceUrl + "v3/conversations/a%3A17I0kl9EkpE1O9-personal/activities/1700000000101";
  f.http.OnJson(url, 401, "{}");
  f.http.OnJson(url, 200, "{}");
  TurnResult turn;
  turn.replies = {Question("t1")};
  CHECK(f.adapter->Deliver(m, turn).ok());
  CHECK(f.http.CallsTo(kTokenUrl).size() == 2);
}

TEST_CASE("bot adapter: the token never goes to a serviceUrl no verified token named", "[teams]") {
  BotFixture f;
  auto in = f.adapter->Decode(Post(ReadTeamsFixture("personal_message.json"), ""));
  REQUIRE(in.ok());
  bot::Message m = in->message;
  m.ref.reply_url = "https://attacker.example/";
  TurnResult turn;
  turn.replies = {Question("t1")};
  CHECK(f.adapter->Deliver(m, turn).code() == Status::Code::kPermissionDenied);
  CHECK(f.http.calls().empty());
}
