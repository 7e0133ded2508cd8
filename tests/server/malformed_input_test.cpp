// Hostile input over the real server (issue 7, point 2): every malformed request to the Slack
// endpoints and to both Teams endpoints gets a clear 4xx and exactly one log line — never a
// 5xx, a hang or a crash; unknown event types are acknowledged and ignored; replies stay
// valid JSON whatever bytes came in; 40,000-character texts get replies inside the
// platforms' limits (Block Kit; a Teams activity of at most 28 KiB).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/slack/slack_json.h"
#include "adapters/teams/teams_card.h"
#include "support/block_kit_checker.h"
#include "support/edge_fixture.h"
#include "support/raw_tls.h"

using bot::testing::EdgeFixture;
using nlohmann::json;

namespace {

enum class Endpoint { kSlackEvents, kSlackCommands, kSlackInteractivity, kTeamsWebhook, kTeamsBot };

const char* Name(Endpoint e) {
  switch (e) {
    case Endpoint::kSlackEvents: return "/slack/events";
    case Endpoint::kSlackCommands: return "/slack/commands";
    case Endpoint::kSlackInteractivity: return "/slack/interactivity";
    case Endpoint::kTeamsWebhook: return "/teams/webhook";
    case Endpoint::kTeamsBot: return "/api/messages";
  }
  return "?";
}

struct Case {
  std::string name;
  Endpoint endpoint;
  std::string content_type;
  std::string body;
  int status;  // expected
};

httplib::Result Send(const EdgeFixture& f, const Case& c) {
  switch (c.endpoint) {
    case Endpoint::kSlackEvents:
    case Endpoint::kSlackCommands:
    case Endpoint::kSlackInteractivity:
      return f.PostSlack(Name(c.endpoint), c.body, c.content_type);
    case Endpoint::kTeamsWebhook:
      return f.PostTeamsWebhook(c.body, c.content_type);
    case Endpoint::kTeamsBot:
      return f.PostTeamsBot(c.body, c.content_type);
  }
  return f.PostSlack("/", "", "");
}

const std::string kInvalidUtf8 = "caf\xc3 \xff\xfe tr\xe9s \xed\xa0\x80";  // cut, stray, Latin-1, surrogate

// A 40,000-character text that exercises every escape: multi-byte letters, an emoji (two
// UTF-16 units), mrkdwn and HTML specials, quotes, and the words of a bounce.
std::string LongText() {
  const std::string unit = "550 5.1.1 <user@example.com>: mailbox unavailable & “nicht zustellbar” 😀 ";
  std::string out;
  while (bot::slack::CharCount(out) < 40000) out += unit;
  return out;
}

std::string SlackForm(const std::string& command, const std::string& text) {
  return bot::slack::EncodeForm({{"token", "x"},
                                 {"team_id", "T0001ABCD"},
                                 {"channel_id", "C0123456789"},
                                 {"user_id", "U0987654321"},
                                 {"command", command},
                                 {"text", text},
                                 {"response_url", "https://hooks.slack.com/commands/T/1/x"}});
}

std::string SlackEvent(const std::string& event_type, const std::string& text, const std::string& id) {
  json e = {{"type", "event_callback"},
            {"team_id", "T0001ABCD"},
            {"event_id", id},
            {"event",
             {{"type", event_type}, {"user", "U04AGENT1"}, {"text", text}, {"ts", "1700000100.000300"},
              {"channel", "C0123456789"}, {"channel_type", "im"}}}};
  return e.dump();
}

}  // namespace

TEST_CASE("hostile input: every malformed request gets a clear 4xx and one log line", "[hardening][malformed]") {
  EdgeFixture f;
  const json activity = f.TeamsActivity("act-1");
  json no_from = activity;
  no_from.erase("from");
  json no_conversation = activity;
  no_conversation.erase("conversation");
  json no_type = activity;
  no_type.erase("type");
  json click_without_value = activity;
  click_without_value["value"] = json::object();
  click_without_value["text"] = "";
  json webhook = json::parse(bot::testing::ReadTeamsFixture("webhook_message.json"));
  json webhook_no_type = webhook;
  webhook_no_type.erase("type");
  const std::string truncated_activity = activity.dump().substr(0, activity.dump().size() / 2);

  const std::string json_type = "application/json";
  const std::string form_type = "application/x-www-form-urlencoded";
  const std::vector<Case> cases = {
      // Slack Events API
      {"truncated JSON", Endpoint::kSlackEvents, json_type, R"({"type":"event_callback","event":{"type":"app_me)", 400},
      {"not JSON", Endpoint::kSlackEvents, json_type, "hello, world", 400},
      {"empty body", Endpoint::kSlackEvents, json_type, "", 400},
      {"JSON but not an object", Endpoint::kSlackEvents, json_type, "[1,2,3]", 400},
      {"deeply nested JSON", Endpoint::kSlackEvents, json_type, std::string(5000, '[') + std::string(5000, ']'), 400},
      {"invalid UTF-8 in JSON", Endpoint::kSlackEvents, json_type, SlackEvent("app_mention", "x", "Ev1").replace(60, 1, kInvalidUtf8), 400},
      {"wrong content type", Endpoint::kSlackEvents, "text/plain", SlackEvent("app_mention", "hi", "Ev2"), 400},
      {"no content type", Endpoint::kSlackEvents, "", SlackEvent("app_mention", "hi", "Ev3"), 400},
      {"event_callback without an event", Endpoint::kSlackEvents, json_type, R"({"type":"event_callback","team_id":"T1"})", 400},
      {"url_verification without a challenge", Endpoint::kSlackEvents, json_type, R"({"type":"url_verification"})", 400},
      {"event of the wrong JSON types", Endpoint::kSlackEvents, json_type, R"({"type":"event_callback","event":{"type":7,"user":[],"text":{}}})", 200},
      {"unknown event type (ignored)", Endpoint::kSlackEvents, json_type, SlackEvent("reaction_added", "", "Ev4"), 200},
      {"unknown payload type (ignored)", Endpoint::kSlackEvents, json_type, R"({"type":"some_future_thing","x":1})", 200},
      // Slash commands and interactivity (forms)
      {"broken percent escape", Endpoint::kSlackCommands, form_type, "command=%2Fmailguide&text=%ZZ", 400},
      {"form without a command", Endpoint::kSlackCommands, form_type, "team_id=T1&user_id=U1&text=hi", 400},
      {"invalid UTF-8 in a form field", Endpoint::kSlackCommands, form_type, "command=%2Fsmtp-code&team_id=T1&user_id=U1&channel_id=C1&text=550%20%FF%C3", 400},
      {"command with JSON content type", Endpoint::kSlackCommands, json_type, SlackForm("/mailguide", "hi"), 400},
      {"interaction payload not JSON", Endpoint::kSlackInteractivity, form_type, "payload=%7Bbroken", 400},
      {"interaction payload of an unknown type (ignored)", Endpoint::kSlackInteractivity, form_type, "payload=%7B%22type%22%3A%22shortcut%22%7D", 200},
      // Teams outgoing webhook
      {"truncated JSON", Endpoint::kTeamsWebhook, json_type, webhook.dump().substr(0, 100), 400},
      {"not JSON", Endpoint::kTeamsWebhook, json_type, "hello", 400},
      {"JSON but not an object", Endpoint::kTeamsWebhook, json_type, "\"text\"", 400},
      {"invalid UTF-8", Endpoint::kTeamsWebhook, json_type, R"({"type":"message","text":")" + kInvalidUtf8 + "\"}", 400},
      {"wrong content type", Endpoint::kTeamsWebhook, "text/plain", webhook.dump(), 400},
      {"activity without a type", Endpoint::kTeamsWebhook, json_type, webhook_no_type.dump(), 400},
      {"unknown activity type (ignored)", Endpoint::kTeamsWebhook, json_type, json{{"type", "messageReaction"}, {"conversation", {{"id", "19:x"}}}}.dump(), 200},
      // Teams Bot Framework: a body whose serviceUrl cannot be read cannot be bound to the
      // (valid) token, so it is refused as unauthenticated.
      {"truncated JSON", Endpoint::kTeamsBot, json_type, truncated_activity, 401},
      {"not JSON", Endpoint::kTeamsBot, json_type, "hello", 401},
      {"invalid UTF-8", Endpoint::kTeamsBot, json_type, activity.dump().replace(10, 0, kInvalidUtf8), 401},
      {"wrong content type", Endpoint::kTeamsBot, "application/x-www-form-urlencoded", activity.dump(), 400},
      {"activity without a type", Endpoint::kTeamsBot, json_type, no_type.dump(), 400},
      {"message without from", Endpoint::kTeamsBot, json_type, no_from.dump(), 400},
      {"message without a conversation", Endpoint::kTeamsBot, json_type, no_conversation.dump(), 400},
      {"unknown activity type (ignored)", Endpoint::kTeamsBot, json_type, [&] { json a = activity; a["type"] = "messageReaction"; return a.dump(); }(), 200},
  };

  for (const Case& c : cases) {
    INFO(Name(c.endpoint) << ": " << c.name);
    const size_t logs_before = f.logs().size();
    const auto start = std::chrono::steady_clock::now();
    auto r = Send(f, c);
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(r);  // an answer, not a dropped connection
    CHECK(r->status == c.status);
    CHECK(r->status < 500);
    CHECK(took < std::chrono::seconds(3));  // never a hang
    if (r->get_header_value("Content-Type").rfind("application/json", 0) == 0) CHECK(json::accept(r->body));
    // Exactly one log line for a refusal, naming the endpoint and never echoing the body.
    std::vector<std::string> lines = f.logs();
    lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(logs_before));
    if (c.status >= 400) {
      REQUIRE(lines.size() == 1);
      CHECK(lines[0].find(Name(c.endpoint)) != std::string::npos);
      CHECK(lines[0].find('\n') == std::string::npos);
      if (c.body.size() > 12) CHECK(lines[0].find(c.body) == std::string::npos);
    }
  }
}

TEST_CASE("hostile input: oversized and chunked bodies are refused before they are read", "[hardening][malformed]") {
  EdgeFixture f;
  for (const char* path : {"/slack/events", "/slack/commands", "/teams/webhook", "/api/messages"}) {
    INFO(path);
    // The headers announce 2 MiB; only a few bytes follow, and the answer comes anyway.
    const size_t logs_before = f.logs().size();
    auto big = bot::testing::RawHttps(
        "127.0.0.60", f.port(),
        std::string("POST ") + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                      "Content-Length: 2097152\r\nConnection: close\r\n\r\n{\"a\":",
        std::chrono::seconds(5));
    CHECK(big.error == "");
    CHECK(big.status == 413);
    CHECK(f.logs().size() == logs_before + 1);
    auto chunked = bot::testing::RawHttps(
        "127.0.0.60", f.port(),
        std::string("POST ") + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n",
        std::chrono::seconds(5));
    CHECK(chunked.status == 411);
    CHECK(f.logs().size() == logs_before + 2);
  }
  // Form bodies over httplib's own 8 KiB form limit still reach the adapter (Slack
  // interaction payloads carry the clicked message and are often larger).
  const std::string large = SlackForm("/smtp-code", "550 5.1.1 " + std::string(20000, 'x'));
  REQUIRE(large.size() > 8192);
  auto r = f.PostSlack("/slack/commands", large, "application/x-www-form-urlencoded");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("hostile input: invalid UTF-8 and 40,000-character texts get replies inside Slack's limits",
          "[hardening][malformed][slack]") {
  EdgeFixture f;
  const std::string text = LongText();
  SECTION("a slash command answered inline") {
    for (const std::string& t : {text, "550 5.1.1 " + text, "/x " + text}) {
      const std::string form = SlackForm("/smtp-code", t);
      auto r = f.PostSlack("/slack/commands", form, "application/x-www-form-urlencoded");
      REQUIRE(r);
      INFO(form.size() << " bytes: " << r->body.substr(0, 200));
      REQUIRE(r->status == 200);
      if (r->body.empty()) continue;  // answered later through response_url
      json message = json::parse(r->body);
      CHECK(bot::testing::CheckSlackMessage(message).empty());
    }
  }
  SECTION("an event answered through the Web API") {
    auto r = f.PostSlack("/slack/events", SlackEvent("message", text, "EvLong1"), "application/json");
    REQUIRE(r);
    CHECK(r->status == 200);
    REQUIRE(f.slack_api().WaitForCalls("/api/chat.postMessage", 1));
    for (const auto& call : f.slack_api().CallsTo("/api/chat.postMessage")) {
      INFO(call.body.dump().substr(0, 300));
      REQUIRE(call.body.is_object());
      CHECK(bot::testing::CheckSlackMessage(call.body).empty());
    }
  }
}

TEST_CASE("hostile input: 40,000-character texts get Teams replies under 28 KiB, valid JSON",
          "[hardening][malformed][teams]") {
  EdgeFixture f;
  const std::string text = LongText();
  SECTION("outgoing webhook, answered inline") {
    json a = json::parse(bot::testing::ReadTeamsFixture("webhook_message.json"));
    int n = 0;
    for (const std::string& t : {text, "550 5.1.1 " + text}) {
      a["id"] = "14859834085" + std::to_string(20 + n++);  // a new activity, not a repeat
      a["text"] = "<at>mailguide</at> " + t;
      const auto start = std::chrono::steady_clock::now();
      auto r = f.PostTeamsWebhook(a.dump());
      REQUIRE(r);
      INFO(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
           << " s, " << r->body.size() << " bytes: " << r->body.substr(0, 200));
      REQUIRE(r->status == 200);
      CHECK(r->body.size() <= bot::teams::kMaxActivityBytes);
      CHECK(json::accept(r->body));
    }
  }
  SECTION("bot, answered through the connector") {
    json a = f.TeamsActivity("act-long");
    a["text"] = "550 5.1.1 " + text;
    auto r = f.PostTeamsBot(a.dump());
    REQUIRE(r);
    CHECK(r->status == 200);
    auto sent = f.teams().WaitForActivities(1);
    REQUIRE_FALSE(sent.empty());
    for (const auto& s : sent) {
      CHECK(s.body.dump().size() <= bot::teams::kMaxActivityBytes);
    }
  }
}
