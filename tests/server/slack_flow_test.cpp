// A whole guided check in Slack: the real server, Slack adapter and engine (shipped flows,
// memory store), driven by signed mentions and button clicks over HTTPS, with every Block
// Kit message checked against the limits.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "bot/memory_session_store.h"
#include "support/block_kit_checker.h"
#include "support/engine_harness.h"
#include "support/https_server_fixture.h"

namespace {

using namespace bot;
using bot::testing::ApiCall;
using bot::testing::SlackServerFixture;
using bot::testing::SlackServerOptions;
using nlohmann::json;

std::string Fixture(const std::string& name) {
  std::ifstream in(bot::testing::FixturesDir() + "/slack/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void CheckLimits(const json& message) {
  for (const auto& p : bot::testing::CheckSlackMessage(message)) FAIL_CHECK(p << "\n" << message.dump().substr(0, 1500));
}

// The button of `message` whose choice value is `choice` (null when absent).
json Button(const json& message, const std::string& choice) {
  for (const auto& b : message["blocks"]) {
    if (b["type"] != "actions") continue;
    for (const auto& e : b["elements"]) {
      if (json::parse(e["value"].get<std::string>()).value("v", "") == choice) return e;
    }
  }
  return nullptr;
}

class SlackConversation {
 public:
  explicit SlackConversation(bool anyone_can_answer = false) {
    EngineOptions eo;
    eo.anyone_can_answer = anyone_can_answer;
    engine_ = std::make_unique<Engine>(bot::testing::ShippedContent(), store_, eo);
    SlackServerOptions o;
    o.handler = [this](const Message& m) { return engine_->Handle(m); };
    fixture_ = std::make_unique<SlackServerFixture>(o);
  }

  SlackServerFixture& f() { return *fixture_; }

  // Every message the bot posted or wrote through a response_url so far, checked.
  std::vector<ApiCall> Posts() {
    std::vector<ApiCall> out;
    for (auto& c : f().api().calls()) {
      if (c.path == "/api/auth.test" || c.status != 200) continue;
      if (c.body.contains("blocks")) CheckLimits(c.body);
      out.push_back(c);
    }
    return out;
  }
  size_t CountPosts() { return Posts().size(); }

  // Sends `post` and waits for `expect` more outbound calls.
  void SendAndWait(const std::function<void()>& post, size_t expect) {
    const size_t before = CountPosts();
    post();
    REQUIRE(f().api().WaitFor([&](const std::vector<ApiCall>& calls) {
      size_t n = 0;
      for (auto& c : calls) n += c.path != "/api/auth.test" && c.status == 200;
      return n >= before + expect;
    }));
  }

  void Mention(const std::string& text, size_t expect = 1) {
    json e = json::parse(Fixture("app_mention.json"));
    e["event_id"] = "Ev" + std::to_string(++n_);
    e["event"]["text"] = "<@U0BOT> " + text;
    SendAndWait([&] { REQUIRE(f().PostJson(e.dump())->status == 200); }, expect);
  }

  // Clicks `button` on `message` as `user`; returns the response_url id used.
  std::string Click(const json& message, const json& button, const std::string& user, size_t expect) {
    json p = json::parse(Fixture("block_actions.json"));
    const std::string id = "click" + std::to_string(++n_);
    p["user"]["id"] = user;
    p["trigger_id"] = "trigger." + id;
    p["response_url"] = f().api().response_url(id);
    p["message"]["blocks"] = message["blocks"];
    p["actions"][0] = button;
    SendAndWait([&] {
      REQUIRE(f().PostSigned("/slack/interactivity", slack::EncodeForm({{"payload", p.dump()}}),
                             "application/x-www-form-urlencoded")->status == 200);
    }, expect);
    return id;
  }

  json LastPosted() {
    auto posts = f().api().CallsTo("/api/chat.postMessage");
    REQUIRE(!posts.empty());
    return posts.back().body;
  }

 private:
  MemorySessionStore store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<SlackServerFixture> fixture_;
  int n_ = 0;
};

}  // namespace

TEST_CASE("walks a webmail check from a mention to resolved by button clicks", "[server][slack]") {
  SlackConversation c;
  c.Mention("customer can't log in to webmail");
  json panel_question = c.LastPosted();
  CHECK(panel_question["thread_ts"] == "1700000100.000300");
  json rcp = Button(panel_question, "panel:rcp");
  REQUIRE(!rcp.is_null());

  // Each click freezes the clicked message (response_url) and posts the next question.
  const std::string id = c.Click(panel_question, rcp, "U04AGENT1", 2);
  auto frozen = c.f().api().CallsTo("/response/" + id);
  REQUIRE(frozen.size() == 1);
  CHECK(frozen[0].body["replace_original"] == true);
  json question = c.LastPosted();
  json no = Button(question, "no");
  REQUIRE(!no.is_null());

  c.Click(question, no, "U04AGENT1", 2);
  json advice = c.LastPosted();
  json fixed = Button(advice, "fixed");
  REQUIRE(!fixed.is_null());

  c.Click(advice, fixed, "U04AGENT1", 2);
  json done = c.LastPosted();
  CHECK(Button(done, "fixed").is_null());
  CHECK(done["thread_ts"] == "1700000100.000300");

  SECTION("a click on an old question is answered politely, privately, and changes nothing") {
    const size_t posted = c.f().api().CallsTo("/api/chat.postMessage").size();
    const std::string stale = c.Click(question, no, "U04AGENT1", 1);
    auto note = c.f().api().CallsTo("/response/" + stale);
    REQUIRE(note.size() == 1);
    CHECK(note[0].body["response_type"] == "ephemeral");
    CHECK(note[0].body["replace_original"] == false);
    CHECK(c.f().api().CallsTo("/api/chat.postMessage").size() == posted);
  }
}

TEST_CASE("only the person who started a case answers its buttons by default", "[server][slack]") {
  SlackConversation c;
  c.Mention("customer can't log in to webmail");
  json panel_question = c.LastPosted();
  c.Click(panel_question, Button(panel_question, "panel:rcp"), "U04AGENT1", 2);
  json question = c.LastPosted();
  const size_t posted = c.f().api().CallsTo("/api/chat.postMessage").size();
  const std::string id = c.Click(question, Button(question, "yes"), "U0SOMEONEELSE", 1);
  auto note = c.f().api().CallsTo("/response/" + id);
  REQUIRE(note.size() == 1);
  CHECK(note[0].body["response_type"] == "ephemeral");
  CHECK(note[0].body.dump().find("someone else") != std::string::npos);
  CHECK(c.f().api().CallsTo("/api/chat.postMessage").size() == posted);

  SECTION("unless anyone may answer") {
    SlackConversation open(true);
    open.Mention("customer can't log in to webmail");
    json pq = open.LastPosted();
    open.Click(pq, Button(pq, "panel:rcp"), "U04AGENT1", 2);
    json q = open.LastPosted();
    const size_t before = open.f().api().CallsTo("/api/chat.postMessage").size();
    open.Click(q, Button(q, "yes"), "U0SOMEONEELSE", 2);
    CHECK(open.f().api().CallsTo("/api/chat.postMessage").size() == before + 1);
  }
}

TEST_CASE("answers /smtp-code inline from the real knowledge base", "[server][slack]") {
  SlackConversation c;
  const std::string form = slack::EncodeForm({{"team_id", "T0001ABCD"}, {"channel_id", "C0123456789"},
                                              {"user_id", "U0987654321"}, {"command", "/smtp-code"},
                                              {"text", "550 5.7.26"}, {"response_url", c.f().api().response_url("cmd")}});
  auto res = c.f().PostSigned("/slack/commands", form, "application/x-www-form-urlencoded");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  json answer = json::parse(res->body);
  CheckLimits(answer);
  CHECK(answer["response_type"] == "ephemeral");
  CHECK(answer.dump().find("5.7.26") != std::string::npos);
}
