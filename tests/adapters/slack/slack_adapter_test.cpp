// SlackAdapter with a RecordingHttpClient: what it posts to the Web API and response_urls,
// its retry rules, and the share button. No network.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "adapters/slack/slack_adapter.h"
#include "adapters/slack/slack_signature.h"
#include "support/block_kit_checker.h"
#include "support/paths.h"
#include "support/recording_http_client.h"
#include "support/test_log.h"

namespace {

using namespace bot;
using namespace bot::slack;
using bot::testing::RecordingHttpClient;
using nlohmann::json;

constexpr const char* kSecret = "3f1d9c0e7a5b4e21a8c6d0f2b9e47a15";

std::string Fixture(const std::string& name) {
  std::ifstream in(bot::testing::FixturesDir() + "/slack/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Harness {
  RecordingHttpClient http;
  std::vector<std::string> logs;
  std::vector<std::chrono::milliseconds> sleeps;
  std::vector<std::pair<std::string, std::function<void()>>> deferred;
  std::unique_ptr<SlackAdapter> adapter;

  Harness() {
    SlackAdapterOptions o;
    o.signing_secret = kSecret;
    o.bot_token = "xoxb-1-secret";
    o.api_url = "https://slack.test/api/";
    o.clock = [] { return int64_t{1700000000}; };
    o.log = [this](const std::string& l) {
      bot::testing::AppendTestLog("slack-adapter", l);
      logs.push_back(l);
    };
    o.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    o.defer = [this](const std::string& key, std::function<void()> task) { deferred.emplace_back(key, std::move(task)); };
    adapter = std::make_unique<SlackAdapter>(o, http);
  }

  HttpRequest Request(const std::string& body, const std::string& type) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/slack/events";
    r.body = body;
    r.headers.emplace("Content-Type", type);
    r.headers.emplace("X-Slack-Request-Timestamp", "1700000000");
    r.headers.emplace("X-Slack-Signature", ComputeSlackSignature(kSecret, "1700000000", body));
    return r;
  }

  Inbound Decode(const std::string& body, const std::string& type) {
    HttpRequest r = Request(body, type);
    REQUIRE(adapter->Verify(r).ok());
    auto in = adapter->Decode(r);
    INFO(in.status().ToString());
    REQUIRE(in.ok());
    return *in;
  }

  std::vector<json> Bodies() {
    std::vector<json> out;
    for (auto& r : http.requests()) out.push_back(json::parse(r.body));
    return out;
  }
};

TurnResult OneReply(Reply r) { return TurnResult{{std::move(r)}, TurnStatus::kWaiting}; }
// A one-off answer (a lookup): the turn is over, so the answer may be shared.
TurnResult Finished(Reply r) { return TurnResult{{std::move(r)}, TurnStatus::kCompleted}; }

Reply Question() {
  Reply r;
  r.title = "Webmail login";
  r.paragraphs = {"Can the user log in?"};
  r.choices = {{"Yes", "yes"}, {"No", "no"}};
  r.step_token = "tok-4";
  return r;
}

void CheckLimits(const json& message) {
  for (const auto& p : bot::testing::CheckSlackMessage(message)) FAIL_CHECK(p << "\n" << message.dump());
}

}  // namespace

TEST_CASE("learns its own ids with auth.test and then ignores its own messages", "[slack]") {
  Harness h;
  h.http.EnqueueJson(200, R"({"ok":true,"user_id":"U0BOT","bot_id":"B0BOT","team_id":"T0001ABCD"})");
  REQUIRE(h.adapter->Start().ok());
  CHECK(h.adapter->identity().user_id == "U0BOT");
  auto req = h.http.requests().at(0);
  CHECK(req.url == "https://slack.test/api/auth.test");
  CHECK(req.headers.find("Authorization")->second == "Bearer xoxb-1-secret");
  CHECK(h.Decode(Fixture("own_message_no_bot_id.json"), "application/json").kind == Inbound::Kind::kIgnore);
  SECTION("a refused token is reported as Unauthenticated with a hint, without the token") {
    Harness bad;
    bad.http.EnqueueJson(200, R"({"ok":false,"error":"invalid_auth"})");
    Status s = bad.adapter->Start();
    CHECK(s.code() == Status::Code::kUnauthenticated);
    REQUIRE(bad.logs.size() == 1);
    CHECK(bad.logs[0].find("invalid_auth") != std::string::npos);
    CHECK(bad.logs[0].find("MAILGUIDE_SLACK_BOT_TOKEN") != std::string::npos);
    CHECK(bad.logs[0].find("xoxb-1-secret") == std::string::npos);
  }
}

TEST_CASE("refuses duplicated or missing signature headers", "[slack]") {
  Harness h;
  HttpRequest r = h.Request(Fixture("message_im.json"), "application/json");
  CHECK(h.adapter->Verify(r).ok());
  HttpRequest dup = r;
  dup.headers.emplace("X-Slack-Signature", r.Header("X-Slack-Signature"));
  CHECK(h.adapter->Verify(dup).code() == Status::Code::kUnauthenticated);
  HttpRequest none = r;
  none.headers.erase("X-Slack-Signature");
  CHECK(h.adapter->Verify(none).code() == Status::Code::kUnauthenticated);
  HttpRequest ssl;
  ssl.body = Fixture("ssl_check.form");
  CHECK(h.adapter->Verify(ssl).ok());  // like Bolt: the probe needs nothing but a 200
}

TEST_CASE("posts a mention's answer in its thread with the bot token", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("app_mention.json"), "application/json");
  REQUIRE(in.kind == Inbound::Kind::kMessage);
  CHECK(!in.reply_inline);
  REQUIRE(h.adapter->Deliver(in.message, OneReply(Question())).ok());
  auto reqs = h.http.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].url == "https://slack.test/api/chat.postMessage");
  CHECK(reqs[0].headers.find("Content-Type")->second == "application/json; charset=utf-8");
  json body = json::parse(reqs[0].body);
  CHECK(body["channel"] == "C0123456789");
  CHECK(body["thread_ts"] == "1700000100.000300");
  CHECK(!body.contains("token"));
  CheckLimits(body);
}

TEST_CASE("honours 429 Retry-After and retries transient failures with backoff", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("message_im.json"), "application/json");
  HttpResponse limited;
  limited.status = 429;
  limited.body = R"({"ok":false,"error":"ratelimited"})";
  limited.headers.emplace("Retry-After", "7");
  h.http.Enqueue(limited);
  h.http.EnqueueJson(503, "busy");
  h.http.EnqueueNetworkFailure();
  h.http.EnqueueJson(200, R"({"ok":false,"error":"internal_error"})");
  h.http.EnqueueJson(200, R"({"ok":true,"ts":"1.2"})");
  // Four attempts by default: the fifth canned answer is never reached.
  Status s = h.adapter->Deliver(in.message, OneReply(Question()));
  CHECK(s.code() == Status::Code::kUnavailable);
  REQUIRE(h.sleeps.size() == 3);
  CHECK(h.sleeps[0] == std::chrono::seconds(7));        // Retry-After, to the second
  CHECK(h.sleeps[1] == std::chrono::milliseconds(500));  // then backoff doubling
  CHECK(h.sleeps[2] == std::chrono::milliseconds(1000));
  CHECK(h.http.requests().size() == 4);
  // The DM is answered in place: no thread_ts outside threads.
  CHECK(!json::parse(h.http.requests()[0].body).contains("thread_ts"));
}

TEST_CASE("logs a permanent error once, in one line, and does not retry it", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("app_mention.json"), "application/json");
  for (const char* error : {"channel_not_found", "not_in_channel", "invalid_auth"}) {
    h.logs.clear();
    h.http.Clear();
    h.http.EnqueueJson(200, std::string(R"({"ok":false,"error":")") + error + "\"}");
    Status s = h.adapter->Deliver(in.message, OneReply(Question()));
    CHECK(!s.ok());
    CHECK(h.http.requests().size() == 1);
    REQUIRE(h.logs.size() == 1);
    CHECK(h.logs[0].find(error) != std::string::npos);
    CHECK(h.logs[0].find('\n') == std::string::npos);
  }
  CHECK(h.sleeps.empty());
}

TEST_CASE("answers a click by freezing the clicked question and posting the next one", "[slack]") {
  Harness h;
  Inbound in = h.Decode(EncodeForm({{"payload", Fixture("block_actions.json")}}), "application/x-www-form-urlencoded");
  REQUIRE(in.kind == Inbound::Kind::kMessage);
  REQUIRE(h.adapter->Deliver(in.message, OneReply(Question())).ok());
  auto reqs = h.http.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].url == "https://hooks.slack.com/actions/T0001ABCD/456/abc");
  CHECK(reqs[0].headers.count("Authorization") == 0);  // the URL is the credential
  json frozen = json::parse(reqs[0].body);
  CHECK(frozen["replace_original"] == true);
  CHECK(frozen["blocks"].dump().find("\"actions\"") == std::string::npos);
  CHECK(frozen["blocks"].back()["elements"][0]["text"] == "<@U04AGENT1> chose *Yes*");
  CheckLimits(frozen);
  CHECK(reqs[1].url == "https://slack.test/api/chat.postMessage");
  CHECK(json::parse(reqs[1].body)["thread_ts"] == "1700000100.000300");

  SECTION("replaces_previous updates the clicked message itself") {
    Harness g;
    Inbound click = g.Decode(EncodeForm({{"payload", Fixture("block_actions.json")}}), "application/x-www-form-urlencoded");
    Reply r = Question();
    r.replaces_previous = true;
    REQUIRE(g.adapter->Deliver(click.message, OneReply(r)).ok());
    REQUIRE(g.http.requests().size() == 1);
    json body = json::parse(g.http.requests()[0].body);
    CHECK(body["replace_original"] == true);
    CHECK(body["blocks"][0]["text"]["text"] == "Webmail login");
  }
  SECTION("falls back to chat.update when the response_url has expired") {
    Harness g;
    Inbound click = g.Decode(EncodeForm({{"payload", Fixture("block_actions.json")}}), "application/x-www-form-urlencoded");
    Reply r = Question();
    r.replaces_previous = true;
    g.http.EnqueueJson(404, "expired_url");
    REQUIRE(g.adapter->Deliver(click.message, OneReply(r)).ok());
    REQUIRE(g.http.requests().size() == 2);
    CHECK(g.http.requests()[1].url == "https://slack.test/api/chat.update");
    json body = json::parse(g.http.requests()[1].body);
    CHECK(body["ts"] == "1700000101.000200");
    CHECK(body["channel"] == "C0123456789");
    for (const auto& l : g.logs) CHECK(l.find("/actions/T0001ABCD/456/abc") == std::string::npos);  // never the full URL
  }
  SECTION("an ephemeral note (not your case, stale button) leaves the message alone") {
    Harness g;
    Inbound click = g.Decode(EncodeForm({{"payload", Fixture("block_actions.json")}}), "application/x-www-form-urlencoded");
    Reply note;
    note.title = "This case belongs to someone else";
    note.ephemeral = true;
    REQUIRE(g.adapter->Deliver(click.message, TurnResult{{note}, TurnStatus::kIgnored}).ok());
    REQUIRE(g.http.requests().size() == 1);
    json body = json::parse(g.http.requests()[0].body);
    CHECK(body["response_type"] == "ephemeral");
    CHECK(body["replace_original"] == false);
  }
}

TEST_CASE("answers slash commands inline, ephemeral, with a working share button", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("slash_smtp_code.form"), "application/x-www-form-urlencoded");
  REQUIRE(in.kind == Inbound::Kind::kMessage);
  CHECK(in.reply_inline);
  Reply answer;
  answer.title = "550 5.7.26";
  answer.paragraphs = {"DMARC failure"};
  HttpResponse res = h.adapter->RenderInline(in.message, Finished(answer));
  CHECK(res.status == 200);
  CHECK(res.content_type == "application/json");
  json body = json::parse(res.body);
  CHECK(body["response_type"] == "ephemeral");
  CheckLimits(body);
  const json& share = body["blocks"].back()["elements"][0];
  REQUIRE(share["action_id"] == kShareActionId);

  json payload = json::parse(Fixture("block_actions_ephemeral_share.json"));
  payload["actions"][0]["value"] = share["value"];
  Inbound click = h.Decode(EncodeForm({{"payload", payload.dump()}}), "application/x-www-form-urlencoded");
  CHECK(click.kind == Inbound::Kind::kIgnore);  // no engine turn ...
  REQUIRE(h.deferred.size() == 1);               // ... but work after the acknowledgement
  CHECK(h.http.requests().empty());
  h.deferred[0].second();
  auto reqs = h.http.requests();
  REQUIRE(reqs.size() == 2);
  json shared = json::parse(reqs[0].body);
  CHECK(shared["response_type"] == "in_channel");
  CHECK(shared["replace_original"] == false);
  CHECK(shared.dump().find(kShareActionId) == std::string::npos);
  CHECK(shared["blocks"][0]["text"]["text"] == "550 5.7.26");
  CheckLimits(shared);
  CHECK(json::parse(reqs[1].body)["delete_original"] == true);

  SECTION("a question of a case in progress has no share button") {
    json question = json::parse(h.adapter->RenderInline(in.message, OneReply(Question())).body);
    CHECK(question.dump().find(kShareActionId) == std::string::npos);
  }
  SECTION("an unknown or expired share id gets a polite ephemeral note") {
    h.http.Clear();
    h.deferred.clear();
    h.Decode(EncodeForm({{"payload", Fixture("block_actions_ephemeral_share.json")}}), "application/x-www-form-urlencoded");
    h.deferred.at(0).second();
    REQUIRE(h.http.requests().size() == 1);
    json note = json::parse(h.http.requests()[0].body);
    CHECK(note["response_type"] == "ephemeral");
    CHECK(note["text"].get<std::string>().find("no longer available") != std::string::npos);
  }
}

TEST_CASE("keeps a slash-command case private: clicks update the ephemeral message in place", "[slack]") {
  Harness h;
  json payload = json::parse(Fixture("block_actions.json"));
  payload["container"]["is_ephemeral"] = true;
  payload.erase("message");
  payload["actions"][0]["value"] = EncodeButtonValue("T0001ABCD", "u:U04AGENT1", "tok-4", "start:webmail");
  Inbound click = h.Decode(EncodeForm({{"payload", payload.dump()}}), "application/x-www-form-urlencoded");
  CHECK(click.message.ref.thread == "u:U04AGENT1");
  Reply second = Question();
  second.title = "Next";
  REQUIRE(h.adapter->Deliver(click.message, TurnResult{{Question(), second}, TurnStatus::kWaiting}).ok());
  auto reqs = h.http.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(json::parse(reqs[0].body)["replace_original"] == true);
  CHECK(json::parse(reqs[1].body)["response_type"] == "ephemeral");
  for (auto& r : reqs) CHECK(r.url.find("chat.postMessage") == std::string::npos);
}

TEST_CASE("answers an unknown slash command without a turn", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("slash_vector.form"), "application/x-www-form-urlencoded");
  CHECK(in.kind == Inbound::Kind::kRespond);
  CHECK(json::parse(in.response.body)["response_type"] == "ephemeral");
}

TEST_CASE("a confidential answer to a slash command has no share button and leaves no copy", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("slash_smtp_code.form"), "application/x-www-form-urlencoded");
  CHECK(in.message.private_conversation);
  Reply token;
  token.title = "Email token for jane@example.com";
  token.preformatted = "d39b3ab55786e3a6161f860c3361e2aa";
  token.ephemeral = true;
  token.confidential = true;
  json body = json::parse(h.adapter->RenderInline(in.message, OneReply(token)).body);
  CHECK(body["response_type"] == "ephemeral");
  CHECK(body.dump().find("d39b3ab55786e3a6161f860c3361e2aa") != std::string::npos);
  CHECK(body.dump().find(kShareActionId) == std::string::npos);
  CheckLimits(body);
}

TEST_CASE("a repeated lookup reuses its rendering, with a fresh working share id each time", "[slack]") {
  Harness h;
  Inbound in = h.Decode(Fixture("slash_smtp_code.form"), "application/x-www-form-urlencoded");
  Reply answer;
  answer.title = "550 5.7.26";
  answer.paragraphs = {"DMARC failure"};
  TurnResult turn = Finished(answer);
  turn.cacheable = true;
  const std::string first = h.adapter->RenderInline(in.message, turn).body;
  turn.replies[0].paragraphs = {"(changed after the first render)"};
  const std::string second = h.adapter->RenderInline(in.message, turn).body;
  // The same answer, from the cache (the changed paragraph is not rendered) ...
  CHECK(second.find("DMARC failure") != std::string::npos);
  CHECK(second.find("changed after") == std::string::npos);
  // ... with its own share id, and both buttons share the answer.
  auto share_value = [](const std::string& body) {
    return json::parse(body)["blocks"].back()["elements"][0]["value"].get<std::string>();
  };
  REQUIRE(share_value(first) != share_value(second));
  CHECK(first.size() == second.size());
  CheckLimits(json::parse(second));
  for (const std::string& body : {first, second}) {
    json payload = json::parse(Fixture("block_actions_ephemeral_share.json"));
    payload["actions"][0]["value"] = share_value(body);
    h.deferred.clear();
    h.http.Clear();
    h.Decode(EncodeForm({{"payload", payload.dump()}}), "application/x-www-form-urlencoded");
    h.deferred.at(0).second();
    REQUIRE(!h.http.requests().empty());
    json shared = json::parse(h.http.requests()[0].body);
    CHECK(shared["response_type"] == "in_channel");
    CHECK(shared["blocks"][0]["text"]["text"] == "550 5.7.26");
  }

  SECTION("another person's lookup is rendered for them (buttons name the thread)") {
    Message other = in.message;
    other.ref.thread = "u:U0OTHER";
    const std::string theirs = h.adapter->RenderInline(other, turn).body;
    CHECK(theirs.find("changed after the first render") != std::string::npos);
  }
  SECTION("a turn that is not cacheable is always rendered") {
    turn.cacheable = false;
    CHECK(h.adapter->RenderInline(in.message, turn).body.find("changed after") != std::string::npos);
  }
}
