// Slack payload decoding (fixtures in tests/fixtures/slack/) and Block Kit rendering, with
// every rendered message checked against Block Kit's limits.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "adapters/slack/slack_json.h"
#include "support/block_kit_checker.h"
#include "support/paths.h"

namespace {

using namespace bot;
using namespace bot::slack;
using nlohmann::json;

std::string Fixture(const std::string& name) {
  std::ifstream in(bot::testing::FixturesDir() + "/slack/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const BotIdentity kSelf{"U0BOT", "B0BOT", "T0001ABCD"};

Decoded DecodeOk(const std::string& content_type, const std::string& body, const BotIdentity& self = kSelf) {
  auto d = DecodePayload(content_type, body, self);
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  return *d;
}

Decoded DecodeJsonFixture(const std::string& name) { return DecodeOk("application/json", Fixture(name)); }
Decoded DecodeFormFixture(const std::string& name) {
  return DecodeOk("application/x-www-form-urlencoded; charset=utf-8", Fixture(name));
}

void CheckLimits(const json& message) {
  auto problems = bot::testing::CheckSlackMessage(message);
  INFO(message.dump().substr(0, 1500));
  for (const auto& p : problems) FAIL_CHECK(p);
}

ConversationRef Ref() {
  ConversationRef ref;
  ref.platform = "slack";
  ref.workspace = "T0001ABCD";
  ref.channel = "C0123456789";
  ref.thread = "1700000100.000300";
  ref.user = "U04AGENT1";
  return ref;
}

}  // namespace

TEST_CASE("decodes forms the way Slack encodes them", "[slack]") {
  auto form = ParseForm(Fixture("slash_vector.form"));
  REQUIRE(form.ok());
  CHECK(form->at("command") == "/deploy");
  CHECK(form->at("text") == "api prod&now");
  CHECK(form->at("response_url") == "https://hooks.slack.com/commands/T0001ABCD/111/abc");
  CHECK(!ParseForm("a=%zz").ok());
  CHECK(!ParseForm("a=%4").ok());
  CHECK(ParseForm("")->empty());
  SECTION("and EncodeForm is its inverse with + for spaces") {
    const std::string body = EncodeForm({{"text", "a b&c=d/é"}, {"x", ""}});
    CHECK(body == "text=a+b%26c%3Dd%2F%C3%A9&x=");
    CHECK(ParseForm(body)->at("text") == "a b&c=d/é");
  }
}

TEST_CASE("answers url_verification and ssl_check without a turn", "[slack]") {
  Decoded v = DecodeJsonFixture("url_verification.json");
  CHECK(v.kind == PayloadKind::kUrlVerification);
  CHECK(v.challenge == "c7a9f0e2b4d6");
  CHECK(DecodeFormFixture("ssl_check.form").kind == PayloadKind::kSslCheck);
  CHECK(IsSslCheck(Fixture("ssl_check.form")));
  CHECK(!IsSslCheck(Fixture("slash_vector.form")));
}

TEST_CASE("turns an app_mention into a turn in the mention's thread", "[slack]") {
  Decoded d = DecodeJsonFixture("app_mention.json");
  REQUIRE(d.kind == PayloadKind::kEvent);
  const Message& m = d.message;
  CHECK(m.ref.platform == "slack");
  CHECK(m.ref.workspace == "T0001ABCD");
  CHECK(m.ref.channel == "C0123456789");
  CHECK(m.ref.thread == "1700000100.000300");  // a top-level mention starts a thread at its ts
  CHECK(m.ref.user == "U04AGENT1");
  CHECK(m.event_id == "Ev0MENTION1");
  CHECK(m.text == "customer can't log in to webmail & sees <error> on example.com");
  CHECK(m.command.empty());
  SECTION("a mention inside a thread continues that thread's case") {
    Decoded t = DecodeJsonFixture("app_mention_in_thread.json");
    CHECK(t.message.ref.thread == "1700000100.000300");
    CHECK(t.message.ref.Key() == m.ref.Key());
    CHECK(t.message.text == "yes");
  }
}

TEST_CASE("turns a direct message into a turn in the DM", "[slack]") {
  Decoded d = DecodeJsonFixture("message_im.json");
  REQUIRE(d.kind == PayloadKind::kEvent);
  CHECK(d.message.ref.channel == "D07DMCHAN");
  CHECK(d.message.ref.thread.empty());
  CHECK(d.message.text == "webmail login fails");
}

TEST_CASE("ignores its own messages, other bots, edits and unknown payloads", "[slack]") {
  for (const char* name : {"own_message.json", "own_message_no_bot_id.json", "bot_message.json",
                           "message_changed.json", "app_rate_limited.json"}) {
    INFO(name);
    Decoded d = DecodeJsonFixture(name);
    CHECK(d.kind == PayloadKind::kIgnored);
    CHECK(!d.ignore_reason.empty());
  }
  SECTION("our user id is recognised even without a bot_id") {
    Decoded d = DecodeJsonFixture("own_message_no_bot_id.json");
    CHECK(d.ignore_reason == "our own message");
  }
  SECTION("a view submission is not ours to handle") {
    Decoded d = DecodeOk("application/x-www-form-urlencoded",
                         EncodeForm({{"payload", Fixture("view_submission.json")}}));
    CHECK(d.kind == PayloadKind::kIgnored);
  }
}

TEST_CASE("refuses malformed bodies with a one-line reason", "[slack]") {
  for (auto [type, body] : std::vector<std::pair<std::string, std::string>>{
           {"application/json", "{not json"},
           {"application/json", "[1,2]"},
           {"application/json", R"({"type":"event_callback"})"},
           {"application/json", R"({"type":"url_verification"})"},
           {"application/x-www-form-urlencoded", "payload=%7Bbroken"},
           {"application/x-www-form-urlencoded", "a=%ZZ"},
           {"application/x-www-form-urlencoded", "hello=world"},
           {"application/x-www-form-urlencoded", "command=%2Fmailguide"}}) {
    INFO(body);
    auto d = DecodePayload(type, body, kSelf);
    REQUIRE(!d.ok());
    CHECK(d.status().code() == Status::Code::kInvalidArgument);
    CHECK(d.status().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("decodes slash commands into per-user cases", "[slack]") {
  Decoded d = DecodeFormFixture("slash_smtp_code.form");
  REQUIRE(d.kind == PayloadKind::kSlashCommand);
  CHECK(d.message.command == "smtp-code");
  CHECK(d.message.text == "550 5.7.26");
  CHECK(d.message.ref.thread == "u:U0987654321");
  CHECK(d.message.ref.reply_url == "https://hooks.slack.com/commands/T0001ABCD/222/def");
  CHECK(d.message.event_id.empty());  // Slack never retries a slash command: nothing to deduplicate
  Decoded g = DecodeFormFixture("slash_mailguide.form");
  CHECK(g.message.command == "mailguide");
  CHECK(g.message.text == "webmail");
  Decoded unknown = DecodeFormFixture("slash_vector.form");
  CHECK(unknown.kind == PayloadKind::kSlashCommand);
  CHECK(unknown.message.command.empty());
  CHECK(unknown.command == "/deploy");
}

TEST_CASE("decodes a click on a choice button into the conversation it belongs to", "[slack]") {
  Decoded d = DecodeOk("application/x-www-form-urlencoded", EncodeForm({{"payload", Fixture("block_actions.json")}}));
  REQUIRE(d.kind == PayloadKind::kBlockActions);
  CHECK(d.message.choice == "yes");
  CHECK(d.message.step_token == "tok-3");
  CHECK(d.message.ref.thread == "1700000100.000300");
  CHECK(d.message.ref.user == "U04AGENT1");
  CHECK(d.message.ref.Key() == DecodeJsonFixture("app_mention.json").message.ref.Key());
  CHECK(d.message.ref.reply_url == "https://hooks.slack.com/actions/T0001ABCD/456/abc");
  CHECK(d.message.event_id == "act:7001234567.1234567890.ab12");
  CHECK(d.click.message_ts == "1700000101.000200");
  CHECK(d.click.label == "Yes");
  CHECK(d.click.message_blocks.is_array());
  CHECK(!d.click.share);

  Decoded share = DecodeOk("application/x-www-form-urlencoded",
                           EncodeForm({{"payload", Fixture("block_actions_ephemeral_share.json")}}));
  CHECK(share.kind == PayloadKind::kBlockActions);
  CHECK(share.click.share);
  CHECK(share.click.share_id == "SHAREID");
  CHECK(share.click.ephemeral);
}

TEST_CASE("escapes &, < and > in everything a reply shows", "[slack]") {
  CHECK(EscapeMrkdwn("a & b <c> &amp;") == "a &amp; b &lt;c&gt; &amp;amp;");
  Reply r;
  r.title = "<title> & co";
  r.paragraphs = {"<!channel> typed by <@U1> & friends"};
  r.checklist = {"<b>"};
  r.facts = {{"<k>", "<v>"}};
  r.footer = "a > b";
  auto messages = RenderReply(r, Ref());
  REQUIRE(messages.size() == 1);
  const std::string dump = messages[0]["blocks"].dump();
  CHECK(dump.find("<!channel>") == std::string::npos);
  CHECK(dump.find("&lt;!channel&gt; typed by &lt;@U1&gt; &amp; friends") != std::string::npos);
  CHECK(messages[0]["blocks"][0]["text"]["text"] == "<title> & co");  // plain_text: shown verbatim
  CHECK(messages[0]["text"].get<std::string>().find("&lt;title&gt;") != std::string::npos);
  CheckLimits(messages[0]);
}

TEST_CASE("renders a reply in reading order with stable action ids and round-trip values", "[slack]") {
  Reply r;
  r.title = "Webmail login";
  r.progress = "Step 2 of 5";
  r.paragraphs = {"Can the user log in?", "Check the password first."};
  r.checklist = {"caps lock", "keyboard layout"};
  r.facts = {{"Code", "550 5.7.26"}};
  r.preformatted = "line 1\n```\nline 3";
  r.choices = {{"Yes", "yes", Choice::Style::kPrimary}, {"No", "no", Choice::Style::kDanger},
               {"Skip", "skip", Choice::Style::kPrimary}};
  r.footer = "Type back to undo";
  r.step_token = "tok-9";
  auto messages = RenderReply(r, Ref());
  REQUIRE(messages.size() == 1);
  const json& blocks = messages[0]["blocks"];
  CheckLimits(messages[0]);
  std::vector<std::string> types;
  for (const auto& b : blocks) types.push_back(b["type"]);
  CHECK(types == std::vector<std::string>{"header", "context", "section", "section", "section", "section",
                                          "actions", "context"});
  CHECK(blocks[2]["text"]["text"] == "Can the user log in?\n\nCheck the password first.");
  CHECK(blocks[3]["text"]["text"] == "\u2022 caps lock\n\u2022 keyboard layout");
  CHECK(blocks[4]["fields"][0]["text"] == "*Code*\n550 5.7.26");
  const std::string code = blocks[5]["text"]["text"];
  CHECK(code.rfind("```\n", 0) == 0);
  CHECK(code.find("```", 4) == code.size() - 3);  // the inner fence was broken up
  const json& buttons = blocks[6]["elements"];
  CHECK(buttons[0]["action_id"] == "mg_choice_0");
  CHECK(buttons[1]["action_id"] == "mg_choice_1");
  CHECK(buttons[0]["style"] == "primary");
  CHECK(buttons[1]["style"] == "danger");
  CHECK(!buttons[2].contains("style"));  // one primary per set
  // A click on the rendered button decodes back to the same conversation, step and choice.
  json payload = json::parse(Fixture("block_actions.json"));
  payload["actions"][0]["action_id"] = buttons[1]["action_id"];
  payload["actions"][0]["value"] = buttons[1]["value"];
  Decoded d = DecodeOk("application/x-www-form-urlencoded", EncodeForm({{"payload", payload.dump()}}));
  CHECK(d.message.choice == "no");
  CHECK(d.message.step_token == "tok-9");
  CHECK(d.message.ref.Key() == Ref().Key());
}

TEST_CASE("writes button values byte for byte as nlohmann::json would", "[slack]") {
  // EncodeButtonValue writes plain values itself; whatever it writes must be what a dump of
  // the same object gives, so values already on Slack messages keep decoding.
  auto reference = [](const std::string& w, const std::string& t, const std::string& s, const std::string& v) {
    json j = json::object();
    if (!w.empty()) j["w"] = w;
    if (!t.empty()) j["t"] = t;
    if (!s.empty()) j["s"] = s;
    j["v"] = v;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  const std::vector<std::string> samples = {"", "T0001", "1700000000.000100", "u:U123", "panel:rcp", "a\"quote",
                                            "back\\slash", "tab\there", "caf\u00e9", "\xff\xfe broken",
                                            std::string("nul\0byte", 8), "\x7f"};
  for (const auto& w : samples) {
    for (const auto& t : samples) {
      for (const auto& v : samples) {
        INFO(w << " | " << t << " | " << v);
        CHECK(EncodeButtonValue(w, t, "tok-1", v) == reference(w, t, "tok-1", v));
        CHECK(EncodeButtonValue(w, t, "", v) == reference(w, t, "", v));
      }
    }
  }
}

TEST_CASE("keeps every Block Kit limit on oversized replies", "[slack]") {
  Reply r;
  r.title = std::string(400, 'T');
  r.paragraphs = {std::string(7000, 'a'), std::string(2999, 'b') + " " + std::string(3000, 'c')};
  for (int i = 0; i < 23; ++i) r.facts.push_back({"Fact " + std::to_string(i), std::string(2500, 'f')});
  for (int i = 0; i < 40; ++i) r.checklist.push_back("item " + std::to_string(i) + " " + std::string(150, 'x'));
  r.preformatted = std::string(9000, 'p');
  for (int i = 0; i < 60; ++i) r.choices.push_back({"Choice " + std::to_string(i) + std::string(100, 'L'), "c" + std::to_string(i)});
  r.step_token = "tok";
  auto messages = RenderReply(r, Ref());
  CHECK(messages.size() > 1);
  size_t buttons = 0;
  for (const auto& m : messages) {
    CheckLimits(m);
    for (const auto& b : m["blocks"]) {
      if (b["type"] == "actions") buttons += b["elements"].size();
    }
  }
  CHECK(buttons == 60);  // split into actions blocks of at most 25
  CHECK(messages[0]["blocks"][0]["text"]["text"].get<std::string>().size() < 400);
  SECTION("multi-byte text is cut on character boundaries") {
    const std::string cut = TruncateChars(std::string(100, 'x') + "\u00e9\u00e9\u00e9\U0001F600", 102);
    CHECK(CharCount(cut) <= 102);
    CHECK(json(cut).dump().size() > 0);  // valid UTF-8, or dump() would throw
  }
  SECTION("entities are never cut in half") {
    Reply amp;
    amp.paragraphs = {std::string(5000, '&')};
    for (const auto& m : RenderReply(amp, Ref())) {
      CheckLimits(m);
      for (const auto& b : m["blocks"]) {
        const std::string t = b["text"]["text"];
        CHECK(t.size() % 5 == 0);
      }
    }
  }
}

TEST_CASE("folds several replies into one message for inline answers", "[slack]") {
  std::vector<Reply> replies(3);
  replies[0].title = "One";
  replies[1].paragraphs = {"Two"};
  replies[2].paragraphs = std::vector<std::string>(60, std::string(200, 'z'));
  json extra = json::array({{{"type", "actions"},
                             {"elements", json::array({{{"type", "button"},
                                                        {"action_id", kShareActionId},
                                                        {"text", {{"type", "plain_text"}, {"text", "Share"}}},
                                                        {"value", "{}"}}})}}});
  json m = RenderSingleMessage(replies, Ref(), extra);
  CheckLimits(m);
  CHECK(m["blocks"].back()["elements"][0]["action_id"] == kShareActionId);
  std::vector<Reply> many(40);
  for (auto& r : many) {
    r.title = "T";
    r.paragraphs = {"p"};
  }
  json cut = RenderSingleMessage(many, Ref(), extra);
  CheckLimits(cut);
  CHECK(cut["blocks"].size() <= kMaxBlocks);
  CHECK(cut.dump().find("shortened") != std::string::npos);
}

TEST_CASE("decodes Slack's escaping and link syntax in event text", "[slack]") {
  CHECK(DecodeEventText("<@U0BOT> hi", "U0BOT") == "hi");
  CHECK(DecodeEventText("<@U0BOT>   550 5.7.1 &lt;user@example.com&gt;", "U0BOT") == "550 5.7.1 <user@example.com>");
  CHECK(DecodeEventText("ask <@U1|bob> about <mailto:a@b.com|a@b.com>", "U0BOT") == "ask @bob about a@b.com");
  CHECK(DecodeEventText("<#C1|support> <!here> <https://x.example/a?b=1&amp;c=2>", "U0BOT") ==
        "#support @here https://x.example/a?b=1&c=2");
  CHECK(DecodeEventText("<@U9> first mention is the bot when unknown", "") == "first mention is the bot when unknown");
  CHECK(DecodeEventText("broken <tag", "U0BOT") == "broken <tag");
}
