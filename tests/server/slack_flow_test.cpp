// A whole guided check in Slack: the real server, Slack adapter and engine (shipped flows,
// memory store), driven by signed mentions and button clicks over HTTPS, with every Block
// Kit message checked against the limits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "bot/memory_session_store.h"
#include "support/block_kit_checker.h"
#include "support/engine_harness.h"
#include "support/gated_prober.h"
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
  explicit SlackConversation(bool anyone_can_answer = false, Prober* prober = nullptr,
                             std::chrono::milliseconds inline_budget = std::chrono::milliseconds(2500)) {
    EngineOptions eo;
    eo.anyone_can_answer = anyone_can_answer;
    eo.prober = prober;
    engine_ = std::make_unique<Engine>(bot::testing::ShippedContent(), store_, eo);
    SlackServerOptions o;
    o.inline_budget = inline_budget;
    o.handler = EngineHandler(*engine_);
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

TEST_CASE("a mention naming a mailbox: 'Checking…' at once, then the results in its place", "[server][slack][probe]") {
  bot::testing::GatedProber prober({{"mx", ProbeResult::Outcome::kFail, "No MX record is published for example.com."},
                                    {"spf", ProbeResult::Outcome::kPass, "one SPF record"}});
  SlackConversation c(false, &prober);
  json e = json::parse(Fixture("app_mention.json"));
  e["event"]["text"] = "<@U0BOT> customer at dana@example.com is not receiving any mail, RCP";
  auto res = c.f().PostJson(e.dump());
  REQUIRE(res);
  CHECK(res->status == 200);
  // While the probes are still running, the thread already says what is going on.
  auto is_checking = [](const ApiCall& call) {
    return call.path == "/api/chat.postMessage" && call.body.dump().find("Checking dana@example.com") != std::string::npos;
  };
  REQUIRE(c.f().api().WaitFor([&](const std::vector<ApiCall>& calls) {
    return std::any_of(calls.begin(), calls.end(), is_checking);
  }));
  REQUIRE(prober.WaitRunning(1));  // the probes are held at the gate: nothing can have finished
  auto posted = c.f().api().CallsTo("/api/chat.postMessage");
  REQUIRE(posted.size() == 1);
  CHECK(posted[0].body["thread_ts"] == e["event"]["ts"]);
  CHECK(c.f().api().CallsTo("/api/chat.update").empty());

  prober.Open();
  REQUIRE(c.f().api().WaitForCalls("/api/chat.update", 1));
  REQUIRE(c.f().api().WaitForCalls("/api/chat.postMessage", 2));
  auto updates = c.f().api().CallsTo("/api/chat.update");
  REQUIRE(updates.size() == 1);
  // The checking message itself becomes the report (found by its channel and ts) ...
  CHECK(updates[0].body["channel"] == posted[0].body["channel"]);
  CHECK(updates[0].body["ts"].is_string());
  CHECK(updates[0].body.dump().find("Automatic checks for example.com") != std::string::npos);
  CHECK(updates[0].body.dump().find("No MX record is published") != std::string::npos);
  CHECK(updates[0].body.dump().find("Checking dana@example.com") == std::string::npos);
  // ... and the likely cause follows below it.
  auto after = c.f().api().CallsTo("/api/chat.postMessage");
  REQUIRE(after.size() == 2);
  CHECK(after[1].body.dump().find("found automatically") != std::string::npos);
  c.Posts();  // checks every message against Block Kit's limits
}

TEST_CASE("/mailguide check is acknowledged before the probes finish; the report follows", "[server][slack][probe]") {
  bot::testing::GatedProber prober({{"dmarc", ProbeResult::Outcome::kFail, "no DMARC record at _dmarc.example.org"}});
  // A long inline budget: an acknowledgement that waited on the probes would wait for the gate.
  SlackConversation c(false, &prober, std::chrono::seconds(30));
  const std::string form = slack::EncodeForm({{"team_id", "T0001ABCD"}, {"channel_id", "C0123456789"},
                                              {"user_id", "U0987654321"}, {"command", "/mailguide"},
                                              {"text", "check example.org"},
                                              {"response_url", c.f().api().response_url("cmd")}});
  auto res = c.f().PostSigned("/slack/commands", form, "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.empty());
  // The answer came while the probes could not finish: they are held at the gate.
  REQUIRE(prober.WaitRunning(1));
  auto notes = c.f().api().CallsTo("/response/cmd");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].body["response_type"] == "ephemeral");
  CHECK(notes[0].body["replace_original"] == false);
  CHECK(notes[0].body.dump().find("Checking example.org") != std::string::npos);

  prober.Open();
  REQUIRE(c.f().api().WaitForCalls("/response/cmd", 2));
  json report = c.f().api().CallsTo("/response/cmd")[1].body;
  CHECK(report["response_type"] == "ephemeral");
  // A fresh reply: Slack does not reliably let a command replace its own reply.
  CHECK(report["replace_original"] == false);
  CHECK(report.dump().find("Checks for example.org") != std::string::npos);
  CHECK(report.dump().find("no DMARC record") != std::string::npos);
  CheckLimits(report);
}

TEST_CASE("/smtp-code does not wait behind its asker's busy conversation", "[server][slack][probe]") {
  bot::testing::GatedProber prober({{"mx", ProbeResult::Outcome::kPass, "MX 10 mx.example.net"}});
  // An inline budget longer than the test's patience: a lookup queued behind the held turn
  // would come back empty, after the gate opens.
  SlackConversation c(false, &prober, std::chrono::seconds(30));
  auto command = [&](const std::string& name, const std::string& text, const std::string& url) {
    return slack::EncodeForm({{"team_id", "T0001ABCD"}, {"channel_id", "C0123456789"}, {"user_id", "U0987654321"},
                              {"command", name}, {"text", text}, {"response_url", c.f().api().response_url(url)}});
  };
  // The user's private conversation is busy: its turn is held in the probes.
  REQUIRE(c.f().PostSigned("/slack/commands", command("/mailguide", "check example.org", "held"),
                           "application/x-www-form-urlencoded")->status == 200);
  REQUIRE(prober.WaitRunning(1));
  auto res = c.f().PostSigned("/slack/commands", command("/smtp-code", "550 5.7.26", "lookup"),
                              "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 200);
  REQUIRE(!res->body.empty());
  json answer = json::parse(res->body);
  CHECK(answer.dump().find("5.7.26") != std::string::npos);
  CHECK(prober.running() == 1);  // still held: the answer did not wait for it
  prober.Open();
  REQUIRE(c.f().api().WaitForCalls("/response/held", 2));
}
