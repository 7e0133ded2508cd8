// CheckProber: every DNS and provider probe at once, within one deadline, one result per id in
// a fixed order; an unconfigured provider says so; NXDOMAIN fails domain-active.
#include <catch2/catch.hpp>

#include <chrono>

#include "bot/checks/prober.h"
#include "bot/server/httplib_client.h"
#include "checks/dns_world.h"
#include "support/fake_opensrs.h"
#include "support/paths.h"

using bot::ProbeResult;
using bot::ProbeTarget;
using bot::checks::ChecksConfig;
using bot::testing::DnsWorld;
using bot::testing::FakeOpenSrs;
using Outcome = bot::ProbeResult::Outcome;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

ChecksConfig Config(const FakeOpenSrs* api) {
  ChecksConfig c;
  auto o = DnsWorld::Options();
  c.dns_server = DnsWorld::Get().server();
  c.mx_hosts = o.mx_hosts;
  c.spf_include = o.spf_include;
  c.dkim_selectors = o.dkim_selectors;
  c.provider_map = bot::testing::FlowsDir() + "/checks/opensrs.json";
  if (api) {
    c.opensrs_url = api->url();
    c.opensrs_user = api->user();
    c.opensrs_password = api->password();
  }
  return c;
}

std::unique_ptr<bot::checks::CheckProber> Make(const ChecksConfig& c) {
  auto p = bot::checks::MakeCheckProber(c, std::make_shared<bot::HttplibClient>(), [](const std::string&) {});
  REQUIRE(p.ok());
  return std::move(*p);
}

std::map<std::string, ProbeResult> ById(const std::vector<ProbeResult>& v) {
  std::map<std::string, ProbeResult> m;
  for (const auto& r : v) m[r.id] = r;
  return m;
}

}  // namespace

TEST_CASE("prober: every probe, DNS and provider, one result each in a fixed order", "[checks][prober]") {
  FakeOpenSrs api;
  api.AddDomain("good.test", false);
  api.AddUser("jane@good.test", FakeOpenSrs::MailboxReply("disabled"));
  auto prober = Make(Config(&api));
  auto results = prober->Run(ProbeTarget{"jane@good.test", "good.test"}, 3000ms);
  std::vector<std::string> ids;
  for (const auto& r : results) ids.push_back(r.id);
  CHECK(ids == prober->ProbeIds());
  CHECK(std::vector<std::string>(ids.begin(), ids.begin() + 4) == std::vector<std::string>{"mx", "spf", "dmarc", "dkim"});
  auto r = ById(results);
  for (const char* id : {"mx", "spf", "dmarc", "dkim", "mailbox-exists", "domain-active", "account-status"}) {
    INFO(id << ": " << r.at(id).detail);
    CHECK(r.at(id).outcome == Outcome::kPass);
  }
  CHECK(r.at("webmail-enabled").outcome == Outcome::kFail);
}

TEST_CASE("prober: without the provider API its probes are unknown and say why", "[checks][prober]") {
  auto prober = Make(Config(nullptr));
  auto r = ById(prober->Run(ProbeTarget{"jane@nodmarc.test", "nodmarc.test"}, 3000ms));
  CHECK(r.at("mx").outcome == Outcome::kPass);
  CHECK(r.at("dmarc").outcome == Outcome::kFail);
  for (const char* id : {"mailbox-exists", "mailbox-maintenance", "webmail-enabled", "domain-active", "receive-enabled",
                         "account-status", "sending-limit"}) {
    INFO(id);
    CHECK(r.at(id).outcome == Outcome::kUnknown);
    CHECK(r.at(id).detail == bot::checks::kProviderNotConfigured);
  }
  CHECK(prober->GenerateToken("jane@nodmarc.test", "t").status().code() == bot::Status::Code::kPermissionDenied);
}

TEST_CASE("prober: a domain missing from DNS fails domain-active whatever the API says", "[checks][prober]") {
  FakeOpenSrs api;
  api.AddDomain("missing.test", false);  // still on the mail service, gone from DNS
  auto prober = Make(Config(&api));
  auto r = ById(prober->Run(ProbeTarget{"", "missing.test"}, 3000ms));
  CHECK(r.at("mx").outcome == Outcome::kFail);
  CHECK(r.at("domain-active").outcome == Outcome::kFail);
  CHECK(r.at("domain-active").detail.find("does not exist in public DNS (NXDOMAIN)") == std::string("missing.test ").size());
}

TEST_CASE("prober: slow DNS and a slow API still return by the deadline, as unknown", "[checks][prober]") {
  FakeOpenSrs api;
  api.AddDomain("slow.test", false);
  api.SetDelay(2000ms);
  auto prober = Make(Config(&api));
  auto started = Clock::now();
  auto r = ById(prober->Run(ProbeTarget{"a@slow.test", "slow.test"}, 600ms));
  auto took = Clock::now() - started;
  CHECK(took < 1200ms);
  for (const auto& [id, result] : r) {
    INFO(id << ": " << result.detail);
    CHECK(result.outcome == Outcome::kUnknown);
  }
  // The late API calls finish on their own, before the server goes.
  CHECK(prober->WaitIdle(Clock::now() + 5000ms));
}

TEST_CASE("prober: configuration errors name what is wrong", "[checks][prober]") {
  ChecksConfig c = Config(nullptr);
  c.provider_map = "/nonexistent/opensrs.json";
  auto missing = bot::checks::MakeCheckProber(c, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("/nonexistent/opensrs.json") != std::string::npos);
  c = Config(nullptr);
  c.dns_server = "resolver.example";
  CHECK(bot::checks::MakeCheckProber(c, nullptr).status().message().find("MAILGUIDE_DNS_SERVER") == 0);
}
