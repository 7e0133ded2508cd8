// The engine with the real CheckProber — dnsmasq for DNS, the loopback admin API for the
// provider: the probes find the cause before the agent answers anything.
#include <catch2/catch.hpp>

#include "bot/checks/prober.h"
#include "bot/engine.h"
#include "bot/server/httplib_client.h"
#include "checks/dns_world.h"
#include "support/engine_harness.h"
#include "support/fake_opensrs.h"
#include "support/paths.h"

using bot::testing::AllText;
using bot::testing::Conversation;
using bot::testing::DnsWorld;
using bot::testing::FakeOpenSrs;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<bot::checks::CheckProber> RealProber(const FakeOpenSrs& api, const std::string& role = "company_ro") {
  bot::checks::ChecksConfig c;
  auto o = DnsWorld::Options();
  c.dns_server = DnsWorld::Get().server();
  c.mx_hosts = o.mx_hosts;
  c.spf_include = o.spf_include;
  c.dkim_selectors = o.dkim_selectors;
  c.provider_map = bot::testing::FlowsDir() + "/checks/opensrs.json";
  c.opensrs_url = api.url();
  c.opensrs_user = api.user();
  c.opensrs_password = api.password();
  c.opensrs_role = role;
  auto p = bot::checks::MakeCheckProber(c, std::make_shared<bot::HttplibClient>(), [](const std::string&) {});
  REQUIRE(p.ok());
  return std::move(*p);
}

}  // namespace

TEST_CASE("conversation: live DNS finds the missing MX before any question", "[checks][conversation]") {
  FakeOpenSrs api;
  api.AddDomain("nomx.test", false);
  api.AddUser("dana@nomx.test", FakeOpenSrs::MailboxReply());
  auto prober = RealProber(api);
  bot::EngineOptions options;
  options.prober = prober.get();
  options.probe_deadline = 3000ms;
  Conversation c(options);
  auto turn = c.Say("customer at dana@nomx.test is not receiving any mail, RCP");
  std::string text = AllText(turn);
  INFO(text);
  CHECK_THAT(text, Contains("Automatic checks for nomx.test"));
  CHECK_THAT(text, Contains("No MX record is published for nomx.test (NODATA)."));
  CHECK_THAT(turn.replies.back().title, Contains("found automatically"));
  // The admin API decided domain-active; receive-enabled is shown but stays undecided.
  CHECK_THAT(text, Contains("The mail service has nomx.test enabled"));
  CHECK_THAT(text, Contains("attributes.service_smtpin is enabled"));
}

TEST_CASE("conversation: the admin API finds webmail switched off", "[checks][conversation]") {
  FakeOpenSrs api;
  api.AddDomain("good.test", false);
  api.AddUser("jane@good.test", FakeOpenSrs::MailboxReply("disabled"));
  auto prober = RealProber(api);
  bot::EngineOptions options;
  options.prober = prober.get();
  options.probe_deadline = 3000ms;
  Conversation c(options);
  auto turn = c.Say("jane@good.test can't log in to webmail, RCP");
  std::string text = AllText(turn);
  INFO(text);
  CHECK_THAT(text, Contains("Webmail access is disabled for jane@good.test"));
  CHECK_THAT(turn.replies.back().title, Contains("found automatically"));
  CHECK_THAT(text, Contains("Enable Webmail access"));
}

TEST_CASE("conversation: /mailguide token gives the provider's token privately, and only when the role allows",
          "[checks][conversation]") {
  FakeOpenSrs api;
  api.AddDomain("good.test", false);
  api.AddUser("jane@good.test", FakeOpenSrs::MailboxReply());
  auto admin = RealProber(api, "company_mail");
  bot::EngineOptions options;
  options.prober = admin.get();
  Conversation c(options);
  bot::Message m = c.Base();
  m.command = "mailguide";
  m.text = "token jane@good.test reproducing ticket 48213";
  m.private_conversation = true;
  auto turn = c.Send(m);
  REQUIRE(turn.replies.size() == 1);
  const bot::Reply& r = turn.replies[0];
  CHECK(r.title == "Email token for jane@good.test");
  CHECK(r.preformatted == "d39b3ab55786e3a6161f860c3361e2aa");  // what the loopback API issued
  CHECK(r.confidential);
  CHECK(r.ephemeral);
  CHECK_THAT(r.PlainText(), Contains("valid for 1 h"));

  SECTION("never in a conversation others read, and the API is not even asked") {
    m.private_conversation = false;
    auto open = c.Send(m);
    CHECK(open.replies.at(0).title == "Ask for tokens privately");
    CHECK(open.replies.at(0).PlainText().find("d39b3ab5") == std::string::npos);
  }
  SECTION("a reason is required, and the mailbox must be a mailbox") {
    m.text = "token jane@good.test";
    CHECK_THAT(AllText(c.Send(m)), Contains("A token for which mailbox, and why?"));
    m.text = "token good.test because";
    CHECK_THAT(AllText(c.Send(m)), Contains("A token for which mailbox, and why?"));
  }
  SECTION("the default read-only role may not make tokens: the refusal says why") {
    auto read_only = RealProber(api);
    bot::EngineOptions ro;
    ro.prober = read_only.get();
    Conversation d(ro);
    bot::Message n = m;
    n.ref = d.Base().ref;
    auto refused = d.Send(n);
    CHECK(refused.replies.at(0).title == "No token for jane@good.test");
    CHECK_THAT(AllText(refused), Contains("company_ro"));
    CHECK(refused.replies.at(0).preformatted.empty());
  }
}
