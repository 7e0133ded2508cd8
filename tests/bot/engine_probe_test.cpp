// The engine with automatic checks: probes decide what they can, a failure leads, the rest
// is asked, and the agent can still answer by hand.
#include <catch2/catch.hpp>

#include <algorithm>

#include "bot/engine.h"
#include "bot/memory_session_store.h"
#include "support/engine_harness.h"

using bot::ProbeResult;
using bot::testing::AllText;
using bot::testing::Conversation;
using bot::testing::ShippedContent;
using Catch::Matchers::Contains;

namespace {

// A prober whose answers the test sets; it records what it was asked.
class ScriptedProber final : public bot::Prober {
 public:
  std::vector<ProbeResult> results;
  std::vector<bot::ProbeTarget> asked;
  std::vector<ProbeResult> Run(const bot::ProbeTarget& target, std::chrono::milliseconds) override {
    asked.push_back(target);
    return results;
  }
};

bot::EngineOptions WithProber(ScriptedProber& p) {
  bot::EngineOptions o;
  o.prober = &p;
  return o;
}

const bot::Panel& Receiving() { return *ShippedContent().flows.Find("receiving")->FindPanel("rcp"); }

}  // namespace

TEST_CASE("finds the cause before the agent answers anything", "[engine][probe]") {
  ScriptedProber prober;
  prober.results = {{"domain-active", ProbeResult::Outcome::kPass, "domain status: active"},
                    {"mx", ProbeResult::Outcome::kFail, "example.com has no MX record (NOERROR, no answer)"},
                    {"spf", ProbeResult::Outcome::kPass, "one SPF record"},
                    {"receive-enabled", ProbeResult::Outcome::kUnknown, "the provider API is not configured"}};
  Conversation c(WithProber(prober));
  auto turn = c.Say("customer at dana@example.com is not receiving any mail, RCP");
  REQUIRE(prober.asked.size() == 1);
  CHECK(prober.asked[0].domain == "example.com");
  CHECK(prober.asked[0].mailbox == "dana@example.com");
  std::string text = AllText(turn);
  CHECK_THAT(text, Contains("Automatic checks for example.com"));
  CHECK_THAT(text, Contains("mx: fail — example.com has no MX record"));
  CHECK_THAT(text, Contains("receive-enabled: unknown — the provider API is not configured"));
  // Leads with the failed check's cause and fix, not with question 1.
  CHECK_THAT(turn.replies.back().title, Contains("found automatically"));
  CHECK_THAT(text, Contains(Receiving().steps[1].on_fail.fix));
  // Keep checking: the blocklist is asked (no probe), then receive-enabled (undecided) is asked.
  turn = c.Click("continue");
  CHECK_THAT(AllText(turn), Contains(Receiving().steps[2].question));
  turn = c.Say("no");
  CHECK_THAT(AllText(turn), Contains(Receiving().steps[3].question));
  turn = c.Say("yes");
  turn = c.Say("today 08:00 UTC");
  turn = c.Say("skip");
  const auto& summary = turn.replies.back().preformatted;
  CHECK_THAT(summary, Contains("passed (automatic: domain status: active)"));
  CHECK_THAT(summary, Contains("FAILED (automatic: example.com has no MX record"));
}

TEST_CASE("asks once for the mailbox or domain when it is not known, and skips probes on skip", "[engine][probe]") {
  ScriptedProber prober;
  prober.results = {{"domain-active", ProbeResult::Outcome::kPass, "active"}, {"mx", ProbeResult::Outcome::kPass, "MX 10 mx.example.net"}};
  Conversation c(WithProber(prober));
  c.Command("mailguide", "receiving");
  auto turn = c.Click("panel:rcp");
  CHECK_THAT(AllText(turn), Contains("Which mailbox or domain is it?"));
  turn = c.Say("shop.example");
  REQUIRE(prober.asked.size() == 1);
  CHECK(prober.asked[0].domain == "shop.example");
  // Both passing steps are passed over: the first question is the blocklist.
  CHECK_THAT(turn.replies.back().PlainText(), Contains(Receiving().steps[2].question));
  // The agent can still answer a decided check by hand: back goes to it.
  turn = c.Say("back");
  CHECK_THAT(AllText(turn), Contains(Receiving().steps[1].question));

  Conversation d(WithProber(prober));
  d.Command("mailguide", "receiving");
  d.Click("panel:rcp");
  turn = d.Say("skip");
  CHECK(prober.asked.size() == 1);
  CHECK_THAT(AllText(turn), Contains(Receiving().steps[0].question));
}

TEST_CASE("/mailguide check reports every probe", "[engine][probe]") {
  ScriptedProber prober;
  prober.results = {{"mx", ProbeResult::Outcome::kPass, "MX 10 mx.example.net"},
                    {"dmarc", ProbeResult::Outcome::kFail, "no DMARC record at _dmarc.example.org"}};
  Conversation c(WithProber(prober));
  auto turn = c.Command("mailguide", "check example.org");
  CHECK_THAT(AllText(turn), Contains("Checks for example.org"));
  CHECK_THAT(AllText(turn), Contains("dmarc: fail — no DMARC record"));
  CHECK_THAT(AllText(turn), Contains("1 check(s) failed"));
  turn = c.Command("mailguide", "check");
  CHECK_THAT(AllText(turn), Contains("Give a domain or a mailbox"));
  Conversation off;
  turn = off.Command("mailguide", "check example.org");
  CHECK_THAT(AllText(turn), Contains("not configured"));
}

TEST_CASE("shows a checking reply once, before the probes run, and only when they run", "[engine][probe]") {
  ScriptedProber prober;
  prober.results = {{"mx", ProbeResult::Outcome::kFail, "no MX record"}};
  Conversation c(WithProber(prober));
  std::vector<std::pair<std::string, size_t>> shown;  // interim title, probes run before it
  c.OnProgress([&](const bot::Reply& interim) { shown.emplace_back(interim.title, prober.asked.size()); });

  c.Say("550 5.7.26");  // a lookup: no probes, nothing to show
  c.Command("mailguide", "receiving");
  auto asked = c.Click("panel:rcp");  // no mailbox or domain yet: asked for, no probes
  CHECK_THAT(AllText(asked), Contains("Which mailbox or domain is it?"));
  CHECK(shown.empty());
  auto turn = c.Say("alice@example.com");
  REQUIRE(shown.size() == 1);
  CHECK(shown[0].first == "Checking alice@example.com…");
  CHECK(shown[0].second == 0);  // shown before the prober ran
  CHECK(prober.asked.size() == 1);
  CHECK(std::none_of(turn.replies.begin(), turn.replies.end(),
                     [](const bot::Reply& r) { return r.title.rfind("Checking", 0) == 0; }));

  c.Command("mailguide", "check example.org");
  REQUIRE(shown.size() == 2);
  CHECK(shown[1].first == "Checking example.org…");
  CHECK(shown[1].second == 1);
}
