// Reply → Adaptive Card: version, elements, buttons and their data, typed-answer hints for
// webhooks, escaping, and the message size limit.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_card.h"

using bot::Choice;
using bot::Reply;
using bot::teams::CardContext;
using bot::teams::RenderCard;
using bot::teams::RenderMessageActivity;
using nlohmann::json;

namespace {

Reply Question() {
  Reply r;
  r.title = "Webmail: can she log in?";
  r.progress = "Step 2 of 5";
  r.paragraphs = {"Open webmail in a private window.", "Try her password there."};
  r.checklist = {"Caps Lock off", "Right address"};
  r.facts = {{"Mailbox", "ada@example.com"}, {"Panel", "RCP"}};
  r.preformatted = "line one\n\nline three";
  r.choices = {{"Yes", "yes", Choice::Style::kPrimary}, {"No", "no", Choice::Style::kDanger}, {"Skip", "skip"}};
  r.footer = "Type back to go back.";
  r.step_token = "t2";
  return r;
}

CardContext BotContext() {
  CardContext c;
  c.channel = "19:c0ffee@thread.tacv2";
  c.thread = "1700000000100";
  return c;
}

// Every TextBlock anywhere in the card, in order.
std::vector<json> TextBlocks(const json& node) {
  std::vector<json> out;
  if (node.is_object()) {
    if (node.value("type", "") == "TextBlock") out.push_back(node);
    for (auto& [k, v] : node.items()) {
      auto sub = TextBlocks(v);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  } else if (node.is_array()) {
    for (const auto& v : node) {
      auto sub = TextBlocks(v);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  }
  return out;
}

std::string AllText(const json& card) {
  std::string s;
  for (const auto& tb : TextBlocks(card)) s += tb["text"].get<std::string>() + "\n";
  return s;
}

}  // namespace

TEST_CASE("a reply renders as an Adaptive Card Teams shows on desktop and mobile", "[teams]") {
  json card = RenderCard(Question(), BotContext());
  CHECK(card["type"] == "AdaptiveCard");
  CHECK(card["version"] == "1.4");
  CHECK(card["msteams"]["width"] == "Full");
  CHECK(card["fallbackText"].get<std::string>().find("Webmail: can she log in?") != std::string::npos);
  const json& body = card["body"];
  CHECK(body[0]["text"] == "Step 2 of 5");
  CHECK(body[0]["isSubtle"] == true);
  CHECK(body[1]["text"] == "Webmail: can she log in?");
  CHECK(body[1]["weight"] == "Bolder");
  bool has_factset = false, has_container = false;
  for (const auto& e : body) {
    if (e["type"] == "FactSet") {
      has_factset = true;
      CHECK(e["facts"][0]["title"] == "Mailbox");
      CHECK(e["facts"][0]["value"] == "ada@example.com");
    }
    if (e["type"] == "Container") {
      has_container = true;
      CHECK(e["items"].size() == 2);
      CHECK(e["items"][0]["fontType"] == "Monospace");
      CHECK(e["items"][1]["spacing"] == "Medium");
    }
  }
  CHECK(has_factset);
  CHECK(has_container);
  // Every TextBlock wraps and has text (mobile clients drop cards that break either rule).
  for (const auto& tb : TextBlocks(card)) {
    CHECK(tb["wrap"] == true);
    CHECK(!tb["text"].get<std::string>().empty());
  }
  CHECK(AllText(card).find("- Caps Lock off\n- Right address") != std::string::npos);
}

TEST_CASE("choices become Action.Submit buttons whose data carries the conversation and step", "[teams]") {
  json card = RenderCard(Question(), BotContext());
  const json& actions = card["actions"];
  REQUIRE(actions.size() == 3);
  CHECK(actions[0]["type"] == "Action.Submit");
  CHECK(actions[0]["title"] == "Yes");
  CHECK(actions[0]["style"] == "positive");
  CHECK(actions[1]["style"] == "destructive");
  const json& data = actions[0]["data"];
  REQUIRE(data.is_object());  // Teams drops string data
  CHECK(data["mailguide"]["choice"] == "yes");
  CHECK(data["mailguide"]["label"] == "Yes");
  CHECK(data["mailguide"]["step"] == "t2");
  CHECK(data["mailguide"]["channel"] == "19:c0ffee@thread.tacv2");
  CHECK(data["mailguide"]["thread"] == "1700000000100");
  CHECK(data["mailguide"]["title"] == "Webmail: can she log in?");

  SECTION("more than six choices become a drop-down and one submit button") {
    Reply many = Question();
    many.choices.clear();
    for (int i = 0; i < 8; ++i) many.choices.push_back({"Option " + std::to_string(i), "v" + std::to_string(i)});
    json c = RenderCard(many, BotContext());
    REQUIRE(c["actions"].size() == 1);
    CHECK(c["actions"][0]["data"]["mailguide"]["step"] == "t2");
    CHECK(!c["actions"][0]["data"]["mailguide"].contains("choice"));
    const json& input = c["body"].back();
    CHECK(input["type"] == "Input.ChoiceSet");
    CHECK(input["id"] == "choice");
    CHECK(input["choices"].size() == 8);
  }
}

TEST_CASE("webhook cards tell people what to type instead of showing buttons", "[teams]") {
  CardContext ctx;
  ctx.buttons = false;
  ctx.mention_name = "mailguide";
  json card = RenderCard(Question(), ctx);
  CHECK(!card.contains("actions"));
  std::string text = AllText(card);
  CHECK(text.find("Answer with **@mailguide yes**, **@mailguide no** or **@mailguide skip**") != std::string::npos);
  SECTION("prefixed values are typed without their prefix; odd values fall back to the label") {
    Reply panel;
    panel.title = "Which panel?";
    panel.choices = {{"Reseller Control Panel (RCP)", "panel:rcp"}, {"Something else", "x y"}};
    CHECK(AllText(RenderCard(panel, ctx)).find("**@mailguide rcp** or **@mailguide Something else**") != std::string::npos);
  }
  CHECK(card.dump().find("Action.Submit") == std::string::npos);
}

TEST_CASE("the message activity carries the card and a text fallback", "[teams]") {
  Reply a = Question();
  Reply b;
  b.paragraphs = {"Second reply."};
  json activity = json::parse(RenderMessageActivity({a, b}, BotContext(), {{"replyToId", "42"}}));
  CHECK(activity["type"] == "message");
  CHECK(activity["replyToId"] == "42");
  CHECK(activity["summary"] == "Webmail: can she log in?");
  REQUIRE(activity["attachments"].size() == 1);
  CHECK(activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive");
  const json& card = activity["attachments"][0]["content"];
  CHECK(card["fallbackText"].get<std::string>().find("Second reply.") != std::string::npos);
  CHECK(AllText(card).find("Second reply.") != std::string::npos);
}

TEST_CASE("plain text is escaped so Teams markdown does not reinterpret it", "[teams]") {
  using bot::teams::EscapeMarkdown;
  CHECK(EscapeMarkdown("*bold* _it_ [x](y)") == "\\*bold\\* \\_it\\_ \\[x\\](y)");
  CHECK(EscapeMarkdown("- not a list\n1. not numbered") == "\\- not a list\n1\\. not numbered");
  CHECK(EscapeMarkdown("550 5.7.26 rejected") == "550 5.7.26 rejected");
  CHECK(EscapeMarkdown("C:\\path") == "C:\\\\path");
}

TEST_CASE("activities stay inside the Teams message size limit", "[teams]") {
  Reply big;
  big.title = "Escalation summary";
  big.preformatted = std::string(60000, 'x') + "\n" + std::string(40000, 'y');
  for (int i = 0; i < 500; ++i) big.checklist.push_back("item " + std::to_string(i) + std::string(100, 'z'));
  big.choices = {{"Copy", "copy"}};
  std::string out = RenderMessageActivity({big}, BotContext());
  CHECK(out.size() <= bot::teams::kMaxActivityBytes);
  json activity = json::parse(out);
  const json& card = activity["attachments"][0]["content"];
  CHECK(AllText(card).find("shortened to fit") != std::string::npos);
  CHECK(card["actions"].size() == 1);  // the buttons survive shortening

  SECTION("cuts never split a UTF-8 sequence") {
    Reply u;
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "\xc3\xa9";  // é
    u.paragraphs = {s};
    std::string o = RenderMessageActivity({u}, BotContext());
    CHECK(o.size() <= bot::teams::kMaxActivityBytes);
    CHECK_NOTHROW(json::parse(o));
  }
  SECTION("invalid UTF-8 never throws") {
    Reply bad;
    bad.paragraphs = {"bounce \xff\xfe text"};
    CHECK_NOTHROW(json::parse(RenderMessageActivity({bad}, BotContext())));
  }
  SECTION("truncation helper") {
    CHECK(bot::teams::TruncateUtf8("héllo", 3) == "…");
    CHECK(bot::teams::TruncateUtf8("héllo wörld", 7) == "hél…");
    CHECK(bot::teams::TruncateUtf8("éééé", 6) == "é…");  // byte 3 is inside the second é
    CHECK(bot::teams::TruncateUtf8("short", 10) == "short");
  }
}

TEST_CASE("an answered card keeps the question and drops the buttons", "[teams]") {
  json card = bot::teams::RenderAnsweredCard("Can she log in?\nYes");
  CHECK(card["version"] == "1.4");
  CHECK(!card.contains("actions"));
  CHECK(AllText(card) == "Can she log in?\nAnswered: Yes\n");
}
