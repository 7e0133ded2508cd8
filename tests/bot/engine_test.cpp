// The conversation engine against the shipped flows: walking, answering, undoing, expiring.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bot/engine.h"
#include "bot/memory_session_store.h"
#include "support/engine_harness.h"

using bot::testing::AllText;
using bot::testing::Conversation;
using bot::testing::ShippedContent;
using Catch::Matchers::Contains;

namespace {

// The answer that passes a step, whichever way its question is phrased.
std::string Pass(const bot::Step& step) { return step.fail_on == "no" ? "yes" : "no"; }
std::string Fail(const bot::Step& step) { return step.fail_on; }

const bot::Panel& PanelOf(const std::string& flow, const std::string& panel) {
  return *ShippedContent().flows.Find(flow)->FindPanel(panel);
}

// Starts `flow` on `panel` and returns the first question's turn.
bot::TurnResult Start(Conversation& c, const std::string& flow, const std::string& panel) {
  c.Command("mailguide", flow);
  return c.Click("panel:" + panel);
}

}  // namespace

TEST_CASE("walks every section and panel through every step in order to the escalation summary", "[engine]") {
  for (const auto& flow : ShippedContent().flows.flows) {
    for (const auto& [panel_id, panel] : flow.panels) {
      DYNAMIC_SECTION(flow.id << " / " << panel_id) {
        Conversation c;
        auto ask = c.Command("mailguide", flow.id);
        CHECK_THAT(AllText(ask), Contains("which panel"));
        auto turn = c.Click("panel:" + panel_id);
        // The status page and the permission note come with the first step, not as questions.
        for (const auto& note : ShippedContent().flows.guide.notes) CHECK_THAT(AllText(turn), Contains(note.text));
        for (size_t i = 0; i < panel.steps.size(); ++i) {
          const auto& step = panel.steps[i];
          REQUIRE(turn.status == bot::TurnStatus::kWaiting);
          const auto& q = turn.replies.back();
          CHECK_THAT(q.PlainText(), Contains(step.question));
          CHECK_THAT(q.PlainText(), Contains(step.check));
          CHECK_THAT(q.progress, Contains("Step " + std::to_string(i + 1) + " of " + std::to_string(panel.steps.size())));
          turn = c.Say(Pass(step));
          if (!step.pass_note.empty()) CHECK_THAT(AllText(turn), Contains(step.pass_note));
        }
        CHECK_THAT(AllText(turn), Contains(ShippedContent().flows.guide.escalation_intro));
        CHECK_THAT(AllText(turn), Contains("Which mailbox"));
        turn = c.Say("alice@example.com");
        // The domain came with the address, so the next question is about timestamps.
        CHECK_THAT(AllText(turn), Contains("When did it happen"));
        turn = c.Say("2026-11-27 14:05 UTC");
        turn = c.Say("skip");
        REQUIRE(turn.status == bot::TurnStatus::kCompleted);
        const auto& summary = turn.replies.back().preformatted;
        CHECK_THAT(summary, Contains("Mailbox: alice@example.com"));
        CHECK_THAT(summary, Contains("Domain: example.com"));
        CHECK_THAT(summary, Contains("Timestamps: 2026-11-27 14:05 UTC"));
        CHECK_THAT(summary, Contains("Bounce messages: (not given)"));
        size_t at = 0;
        for (size_t i = 0; i < panel.steps.size(); ++i) {
          std::string line = std::to_string(i + 1) + ". " + panel.steps[i].check + " — passed";
          size_t found = summary.find(line, at);
          CHECK(found != std::string::npos);
          if (found != std::string::npos) at = found;
        }
        auto stored = c.Stored();
        CHECK(stored.outcome == "escalated");
        CHECK(stored.flow_version == flow.version);
      }
    }
  }
}

TEST_CASE("on a failed check gives the cause and the fix, and 'That fixed it' resolves there", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("webmail", "rcp");
  Start(c, "webmail", "rcp");
  c.Say(Pass(panel.steps[0]));
  auto turn = c.Say(Fail(panel.steps[1]));
  CHECK_THAT(AllText(turn), Contains(panel.steps[1].on_fail.cause));
  CHECK_THAT(AllText(turn), Contains(panel.steps[1].on_fail.fix));
  const auto& choices = turn.replies.back().choices;
  REQUIRE(choices.size() >= 2);
  CHECK(choices[0].label == "That fixed it");
  CHECK(choices[1].label == "Keep checking");
  turn = c.Click("fixed");
  CHECK(turn.status == bot::TurnStatus::kCompleted);
  auto stored = c.Stored();
  CHECK(stored.outcome == "resolved");
  CHECK(stored.outcome_step == panel.steps[1].id);
  CHECK_THAT(turn.replies.back().preformatted, Contains("fixed here"));
}

TEST_CASE("'Keep checking' after a fix goes on to the next check", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("receiving", "mac");
  Start(c, "receiving", "mac");
  c.Say(Fail(panel.steps[0]));
  auto turn = c.Click("continue");
  CHECK_THAT(AllText(turn), Contains(panel.steps[1].question));
  // Typed "no" to "did that fix it?" also keeps checking.
  c.Say(Fail(panel.steps[1]));
  turn = c.Say("no");
  CHECK_THAT(AllText(turn), Contains(panel.steps[2].question));
}

TEST_CASE("'back' undoes the last answer, one at a time", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("sending", "rcp");
  Start(c, "sending", "rcp");
  c.Say(Pass(panel.steps[0]));
  c.Say(Fail(panel.steps[1]));  // now on the fix for step 2
  auto turn = c.Say("back");
  CHECK_THAT(AllText(turn), Contains(panel.steps[1].question));
  CHECK(c.Stored().history.size() == 1);
  turn = c.Click("back");
  CHECK_THAT(AllText(turn), Contains(panel.steps[0].question));
  CHECK(c.Stored().history.empty());
  turn = c.Say("back");
  CHECK_THAT(AllText(turn), Contains("nothing to undo"));
  CHECK_THAT(AllText(turn), Contains(panel.steps[0].question));
  // After undoing, a different answer takes the other branch.
  turn = c.Say(Fail(panel.steps[0]));
  CHECK_THAT(AllText(turn), Contains(panel.steps[0].on_fail.cause));
}

TEST_CASE("accepts typed answers in any case and with stray punctuation", "[engine]") {
  const auto& panel = PanelOf("webmail", "mac");
  // Step 1 fails on "no": a yes moves on, a no shows the fix.
  auto [typed, passes] = GENERATE(table<std::string, bool>({{"yes", true}, {"Y", true}, {"Yep!", true},
                                                            {"  YES.  ", true}, {"yeah", true}, {"no", false},
                                                            {"N", false}, {"Nope...", false}, {"no!", false}}));
  Conversation c;
  Start(c, "webmail", "mac");
  auto turn = c.Say(typed);
  if (passes) {
    CHECK_THAT(AllText(turn), Contains(panel.steps[1].question));
  } else {
    CHECK_THAT(AllText(turn), Contains(panel.steps[0].on_fail.cause));
  }
}

TEST_CASE("reprompts on an unrecognised answer without losing its place", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("receiving", "rcp");
  Start(c, "receiving", "rcp");
  auto before = c.Stored();
  auto turn = c.Say("maybe, let me look");
  CHECK_THAT(AllText(turn), Contains("I didn't catch that"));
  CHECK_THAT(AllText(turn), Contains(panel.steps[0].question));
  auto after = c.Stored();
  CHECK(after.version == before.version);
  CHECK(after.step == panel.steps[0].id);
  // help answers and asks again, also without moving.
  turn = c.Say("HELP");
  CHECK_THAT(AllText(turn), Contains("/smtp-code"));
  CHECK_THAT(turn.replies.back().PlainText(), Contains(panel.steps[0].question));
  CHECK(c.Stored().version == before.version);
}

TEST_CASE("skip records the check as skipped and moves on", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("webmail", "rcp");
  Start(c, "webmail", "rcp");
  auto turn = c.Say("skip");
  CHECK_THAT(AllText(turn), Contains(panel.steps[1].question));
  for (size_t i = 1; i < panel.steps.size(); ++i) c.Say(Pass(panel.steps[i]));
  c.Say("skip");
  c.Say("skip");
  c.Say("skip");
  turn = c.Say("skip");
  CHECK_THAT(turn.replies.back().preformatted, Contains("1. " + panel.steps[0].check + " — skipped"));
}

TEST_CASE("remembers the panel per user across cases", "[engine]") {
  Conversation c;
  Start(c, "webmail", "mac");
  c.Say("cancel");
  auto turn = c.Command("mailguide", "receiving");
  // No panel question the second time: straight to step 1 in the MAC's wording.
  CHECK_THAT(turn.replies.back().progress, Contains("Mail Administration Console"));
  CHECK_THAT(AllText(turn), Contains(PanelOf("receiving", "mac").steps[0].question));
}

TEST_CASE("a panel named in the first message is used without asking", "[engine]") {
  Conversation c;
  auto turn = c.Say("customer can't log in to webmail, I'm in the RCP");
  CHECK_THAT(turn.replies.back().progress, Contains("(RCP)"));
  CHECK_THAT(AllText(turn), Contains(PanelOf("webmail", "rcp").steps[0].question));
}

TEST_CASE("starts from free text through triage and asks when it is unclear", "[engine]") {
  Conversation c;
  auto turn = c.Say("hi there");
  CHECK_THAT(AllText(turn), Contains("Which problem is it?"));
  REQUIRE(turn.replies.back().choices.size() == ShippedContent().flows.flows.size());
  turn = c.Say("mail to her address never arrives");
  CHECK_THAT(AllText(turn), Contains(ShippedContent().flows.Find("receiving")->title));
  CHECK(c.Stored().flow == "receiving");
}

TEST_CASE("an address in the first message fills the escalation details", "[engine]") {
  Conversation c;
  c.Say("bob@shop.example cannot send any email, RCP");
  const auto& panel = PanelOf("sending", "rcp");
  bot::TurnResult turn;
  for (const auto& step : panel.steps) turn = c.Say(Pass(step));
  // Mailbox and domain are known, so escalation starts with the timestamps.
  CHECK_THAT(AllText(turn), Contains("When did it happen"));
  c.Say("yesterday 09:00 CET");
  turn = c.Say("no");
  CHECK_THAT(turn.replies.back().preformatted, Contains("Mailbox: bob@shop.example"));
}

TEST_CASE("a message that is just a code gets the explanation, not a flow", "[engine]") {
  Conversation c;
  auto turn = c.Say("550 5.7.26");
  CHECK_THAT(AllText(turn), Contains("5.7.26"));
  CHECK(turn.status == bot::TurnStatus::kCompleted);
  auto stored = c.store().Load("test:W1:C1:T1");
  REQUIRE(stored.ok());
  CHECK_FALSE(stored->has_value());
  // The explanation offers the matching flow.
  bool offers_sending = false;
  for (const auto& ch : turn.replies.back().choices) offers_sending |= ch.value == "start:sending";
  CHECK(offers_sending);
  turn = c.Click("start:sending");
  CHECK(c.Stored().flow == "sending");
}

TEST_CASE("/smtp-code explains a code without touching an open check", "[engine]") {
  Conversation c;
  Start(c, "webmail", "rcp");
  auto before = c.Stored();
  auto turn = c.Command("smtp-code", "552");
  CHECK_THAT(AllText(turn), Contains("552"));
  CHECK(c.Stored().version == before.version);
}

TEST_CASE("the bounce step explains a pasted bounce inline", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("sending", "mac");
  Start(c, "sending", "mac");
  for (size_t i = 0; i + 1 < panel.steps.size(); ++i) c.Say(Pass(panel.steps[i]));
  auto turn = c.Say(
      "Delivery to the following recipient failed permanently:\n  dana@example.net\n"
      "The response from the remote server was:\n"
      "550-5.7.26 Unauthenticated email from shop.example is not accepted due to domain's\n"
      "550-5.7.26 DMARC policy. Please contact the administrator of shop.example domain.\n"
      "550 5.7.26 https://support.google.com/mail/?p=DmarcRejection - gsmtp\n");
  CHECK_THAT(AllText(turn), Contains("5.7.26"));
  CHECK_THAT(AllText(turn), Contains("Did that explain it?"));
  turn = c.Click("continue");
  CHECK_THAT(AllText(turn), Contains("Which mailbox"));
  c.Say("carol@shop.example");
  turn = c.Say("today 10:12 UTC");
  // The bounce was already collected: no question about it; the summary carries it.
  REQUIRE(turn.status == bot::TurnStatus::kCompleted);
  CHECK_THAT(turn.replies.back().preformatted, Contains("550 5.7.26"));
  CHECK_THAT(turn.replies.back().preformatted, Contains("bounce reviewed"));
}

TEST_CASE("a click on an earlier message's button is answered politely and changes nothing", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("webmail", "rcp");
  Start(c, "webmail", "rcp");
  std::string old_token = c.last_token();
  c.Click(Pass(panel.steps[0]));
  auto before = c.Stored();
  auto turn = c.Click("no", old_token);
  CHECK(turn.status == bot::TurnStatus::kIgnored);
  CHECK_THAT(AllText(turn), Contains("earlier question"));
  CHECK(turn.replies.front().ephemeral);
  CHECK(c.Stored().version == before.version);
  CHECK(c.Stored().step == panel.steps[1].id);
}

TEST_CASE("only the person who started a case answers it, unless configured otherwise", "[engine]") {
  SECTION("owner only") {
    Conversation c;
    Start(c, "webmail", "rcp");
    c.As("U2");
    auto turn = c.Click("yes");
    CHECK_THAT(AllText(turn), Contains("belongs to someone else"));
    CHECK(turn.replies.front().ephemeral);
    CHECK(c.Stored().history.empty());
  }
  SECTION("anyone in the channel") {
    bot::EngineOptions options;
    options.anyone_can_answer = true;
    Conversation c(options);
    Start(c, "webmail", "rcp");
    c.As("U2");
    c.Click("yes");
    CHECK(c.Stored().history.size() == 1);
  }
}

TEST_CASE("an answer to an expired conversation says it expired", "[engine]") {
  bot::EngineOptions options;
  options.session_ttl_seconds = 3600;
  Conversation c(options);
  Start(c, "receiving", "rcp");
  c.Advance(3601);
  auto turn = c.Say("yes");
  CHECK_THAT(AllText(turn), Contains("expired"));
  CHECK(c.Stored().outcome == "abandoned");
  // Within the TTL nothing expires.
  Conversation d(options);
  Start(d, "receiving", "rcp");
  d.Advance(3599);
  turn = d.Say("yes");
  CHECK_THAT(AllText(turn), !Contains("expired"));
}

TEST_CASE("cancel abandons the case and restart starts the same section again", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("sending", "rcp");
  Start(c, "sending", "rcp");
  c.Say(Pass(panel.steps[0]));
  auto turn = c.Say("Start over!");
  CHECK_THAT(AllText(turn), Contains(panel.steps[0].question));
  CHECK(c.Stored().history.empty());
  turn = c.Say("cancel");
  CHECK(turn.status == bot::TurnStatus::kCompleted);
  CHECK(c.Stored().outcome == "abandoned");
}

TEST_CASE("keeps every thread its own conversation", "[engine]") {
  bot::MemorySessionStore store;
  bot::Engine engine(ShippedContent(), store);
  bot::Message a;
  a.ref = {"test", "W1", "C1", "thread-a", "U1", ""};
  a.command = "mailguide";
  a.text = "webmail";
  bot::Message b = a;
  b.ref.thread = "thread-b";
  b.text = "sending";
  REQUIRE(engine.Handle(a).ok());
  REQUIRE(engine.Handle(b).ok());
  CHECK((*store.Load(a.ref.Key()))->flow == "webmail");
  CHECK((*store.Load(b.ref.Key()))->flow == "sending");
}

TEST_CASE("a repeated platform event id is answered once", "[engine]") {
  bot::MemorySessionStore store;
  bot::Engine engine(ShippedContent(), store);
  bot::Message m;
  m.ref = {"test", "W1", "C1", "T9", "U1", ""};
  m.event_id = "Ev123";
  m.text = "webmail login fails";
  auto first = engine.Handle(m);
  auto again = engine.Handle(m);
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  CHECK_FALSE(first->replies.empty());
  CHECK(again->status == bot::TurnStatus::kIgnored);
  CHECK(again->replies.empty());
}

namespace {

// A memory store that counts the engine's event claims, on their own and with a commit.
class ClaimCountingStore final : public bot::SessionStore {
 public:
  int separate_claims = 0;
  int claims_with_commit = 0;
  bot::MemorySessionStore inner;

  bot::Result<std::optional<bot::Session>> Load(const std::string& key) override { return inner.Load(key); }
  using SessionStore::Commit;
  bot::Status Commit(const bot::Session& session, int64_t expected_version, const bot::TurnRecord& turn,
                     const bot::EventClaim& claim) override {
    if (!claim.event_id.empty()) ++claims_with_commit;
    return inner.Commit(session, expected_version, turn, claim);
  }
  bot::Status Erase(const std::string& key) override { return inner.Erase(key); }
  bot::Result<std::vector<bot::TurnRecord>> Turns(const std::string& key) override { return inner.Turns(key); }
  bot::Result<std::string> GetPreference(const std::string& user_key, const std::string& name) override {
    return inner.GetPreference(user_key, name);
  }
  bot::Status SetPreference(const std::string& user_key, const std::string& name,
                            const std::string& value) override {
    return inner.SetPreference(user_key, name, value);
  }
  bot::Result<bool> ClaimEvent(const std::string& event_id, int64_t ttl_seconds) override {
    ++separate_claims;
    return inner.ClaimEvent(event_id, ttl_seconds);
  }
  bot::Result<int64_t> CountHit(const std::string& key, int64_t window_seconds) override {
    return inner.CountHit(key, window_seconds);
  }
  bot::Result<std::vector<bot::OutcomeRecord>> Outcomes(int64_t since, int64_t until) override {
    return inner.Outcomes(since, until);
  }
  bot::Status Ping() override { return inner.Ping(); }
};

}  // namespace

TEST_CASE("an answer that commits claims its event with the commit, and its redelivery is ignored", "[engine]") {
  ClaimCountingStore store;
  bot::Engine engine(ShippedContent(), store);
  bot::Message start;
  start.ref = {"test", "W1", "C1", "T9", "U1", ""};
  start.event_id = "Ev1";
  start.command = "mailguide";
  start.text = "webmail";
  auto asked = engine.Handle(start);
  REQUIRE(asked.ok());
  REQUIRE_FALSE(asked->replies.empty());
  // A case start is counted against the rate limits, so its claim comes first.
  CHECK(store.separate_claims == 1);

  bot::Message click;
  click.ref = start.ref;
  click.event_id = "Ev2";
  click.choice = "panel:rcp";
  for (const auto& r : asked->replies) {
    if (!r.step_token.empty()) click.step_token = r.step_token;
  }
  REQUIRE_FALSE(click.step_token.empty());
  auto first = engine.Handle(click);
  REQUIRE(first.ok());
  CHECK(first->status != bot::TurnStatus::kIgnored);
  CHECK(store.separate_claims == 1);
  CHECK(store.claims_with_commit == 1);
  const size_t logged = store.Turns(start.ref.Key())->size();

  auto again = engine.Handle(click);
  REQUIRE(again.ok());
  CHECK(again->status == bot::TurnStatus::kIgnored);
  CHECK(again->replies.empty());
  CHECK(store.Turns(start.ref.Key())->size() == logged);
  CHECK((*store.Load(start.ref.Key()))->panel == "rcp");
}

TEST_CASE("logs every answered turn and keeps the stored conversation small", "[engine]") {
  Conversation c;
  const auto& panel = PanelOf("webmail", "rcp");
  Start(c, "webmail", "rcp");
  for (const auto& step : panel.steps) c.Say(Pass(step));
  c.Say("someone@example.org");
  c.Say("not sure, this morning");
  c.Say("550 5.1.1 user unknown");
  auto turns = c.store().Turns("test:W1:C1:T1");
  REQUIRE(turns.ok());
  // /mailguide, the panel click, five answers, three details.
  CHECK(turns->size() == 10);
  CHECK(turns->front().input == "text:webmail");
  CHECK(bot::EncodeSession(c.Stored()).size() <= 2048);
}

TEST_CASE("a conversation stays on the flow version it started on", "[engine]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mailguide-flows-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(bot::testing::FlowsDir(), dir, fs::copy_options::recursive);
  bot::MemorySessionStore store;
  bot::Message m;
  m.ref = {"test", "W1", "C1", "T1", "U1", ""};
  m.command = "mailguide";
  m.text = "webmail rcp";
  std::string old_question = PanelOf("webmail", "rcp").steps[1].question;
  {
    bot::Engine engine(ShippedContent(), store);
    m.text = "webmail";
    REQUIRE(engine.Handle(m).ok());
    bot::Message click = m;
    click.command.clear();
    click.text.clear();
    click.choice = "panel:rcp";
    REQUIRE(engine.Handle(click).ok());
  }
  // A new release: webmail 2.0.0 words step 2 differently; 1.0.0 moves to archive/.
  fs::create_directories(dir / "archive");
  fs::copy_file(dir / "webmail.json", dir / "archive" / "webmail-1.0.0.json");
  {
    std::ifstream in(dir / "webmail.json");
    auto j = nlohmann::json::parse(in);
    j["version"] = "2.0.0";
    j["panels"]["rcp"]["steps"][1]["question"] = "NEW WORDING: is the mailbox in maintenance?";
    std::ofstream(dir / "webmail.json") << j.dump(2);
  }
  auto v2 = bot::LoadContent(dir.string());
  REQUIRE(v2.ok());
  bot::Engine engine(*v2, store);
  bot::Message answer;
  answer.ref = m.ref;
  answer.text = "yes";
  auto turn = engine.Handle(answer);
  REQUIRE(turn.ok());
  CHECK_THAT(AllText(*turn), Contains(old_question));
  // A new case gets the new version.
  bot::Message fresh = m;
  fresh.ref.thread = "T2";
  fresh.text = "webmail";
  REQUIRE(engine.Handle(fresh).ok());
  CHECK((*store.Load(fresh.ref.Key()))->flow_version == "2.0.0");
  fs::remove_all(dir);
}
