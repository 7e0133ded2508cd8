// `mailguide check` run as a process, against dnsmasq and a loopback admin API.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "checks/dns_world.h"
#include "support/fake_opensrs.h"
#include "support/process.h"

using bot::testing::DnsWorld;
using bot::testing::FakeOpenSrs;
using bot::testing::RunMailguide;
using json = nlohmann::json;

namespace {

std::vector<std::string> Env(const FakeOpenSrs* api, std::vector<std::string> extra = {}) {
  std::vector<std::string> env = DnsWorld::Get().Env();
  env.push_back("MAILGUIDE_CHECK_DEADLINE_MS=3000");
  if (api) {
    env.push_back("MAILGUIDE_OPENSRS_URL=" + api->url());
    env.push_back("MAILGUIDE_OPENSRS_USER=" + api->user());
    env.push_back("MAILGUIDE_OPENSRS_PASSWORD=" + api->password());
  } else {
    env.push_back("MAILGUIDE_OPENSRS_USER=");
    env.push_back("MAILGUIDE_OPENSRS_PASSWORD=");
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::map<std::string, std::string> Statuses(const json& report) {
  std::map<std::string, std::string> m;
  for (const auto& c : report["checks"]) m[c["id"]] = c["status"];
  return m;
}

}  // namespace

TEST_CASE("mailguide check --json: every probe, one report, in the documented shape", "[checks][cli]") {
  FakeOpenSrs api;
  api.AddDomain("good.test", false);
  api.AddUser("jane@good.test", FakeOpenSrs::MailboxReply("enabled", "enabled", "enabled", 500, 500), "smtplimit");
  auto r = RunMailguide({"check", "--json", "jane@good.test"}, "", Env(&api));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json report = json::parse(r.out);
  REQUIRE(report.is_object());
  CHECK(report.size() == 2);
  CHECK(report["target"] == "jane@good.test");
  REQUIRE(report["checks"].is_array());
  CHECK(r.out.rfind("{\"target\": \"jane@good.test\", \"checks\": [{\"id\": \"mx\", \"status\": \"pass\", \"detail\": ", 0) == 0);
  for (const auto& c : report["checks"]) {
    CHECK(c.size() == 3);
    CHECK((c["status"] == "pass" || c["status"] == "fail" || c["status"] == "unknown"));
    CHECK_FALSE(c["detail"].get<std::string>().empty());
  }
  auto s = Statuses(report);
  CHECK(s["mx"] == "pass");
  CHECK(s["spf"] == "pass");
  CHECK(s["dmarc"] == "pass");
  CHECK(s["dkim"] == "pass");
  CHECK(s["mailbox-exists"] == "pass");
  CHECK(s["sending-limit"] == "fail");
  CHECK(s["mailbox-maintenance"] == "unknown");
  // Every call is logged on stderr with its audit id, never with the password.
  CHECK(r.err.find("opensrs get_user jane@good.test: ok audit=fake") != std::string::npos);
  CHECK(r.err.find(api.password()) == std::string::npos);
  CHECK(r.out.find(api.password()) == std::string::npos);
}

TEST_CASE("mailguide check: DNS faults and a missing provider are reported, not passed", "[checks][cli]") {
  auto r = RunMailguide({"check", "--json", "twospf.test"}, "", Env(nullptr));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json report = json::parse(r.out);
  auto s = Statuses(report);
  CHECK(s["mx"] == "pass");
  CHECK(s["spf"] == "fail");
  CHECK(s["dmarc"] == "fail");
  CHECK(s["domain-active"] == "unknown");
  for (const auto& c : report["checks"]) {
    if (c["id"] == "domain-active") CHECK(c["detail"] == "The provider API is not configured (set MAILGUIDE_OPENSRS_USER and MAILGUIDE_OPENSRS_PASSWORD).");
  }

  auto broken = RunMailguide({"check", "--json", "servfail.test"}, "", Env(nullptr));
  REQUIRE(broken.exit_code == 0);
  // Named: a range-for over a member of a temporary reads the temporary after it is gone.
  const json broken_report = json::parse(broken.out);
  for (const auto& c : broken_report["checks"]) CHECK(c["status"] != "pass");
}

TEST_CASE("mailguide check: wrong admin credentials are unknown, with the reason", "[checks][cli]") {
  FakeOpenSrs api;
  api.AddDomain("good.test", false);
  auto env = Env(&api);
  env.push_back("MAILGUIDE_OPENSRS_PASSWORD=not-it-at-all");
  auto r = RunMailguide({"check", "--json", "good.test"}, "", env);
  REQUIRE(r.exit_code == 0);
  json report = json::parse(r.out);
  for (const auto& c : report["checks"]) {
    if (c["id"] == "domain-active") {
      CHECK(c["status"] == "unknown");
      CHECK(c["detail"].get<std::string>().find("rejected mailguide's credentials") != std::string::npos);
    }
  }
  CHECK(r.err.find("not-it-at-all") == std::string::npos);
  CHECK(r.out.find("not-it-at-all") == std::string::npos);
}

TEST_CASE("mailguide check: plain text report", "[checks][cli]") {
  auto r = RunMailguide({"check", "nomx.test"}, "", Env(nullptr));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("nomx.test\n  fail     mx                   No MX record is published for nomx.test (NODATA).\n", 0) == 0);
  CHECK(r.out.find(" pass, ") != std::string::npos);
}

TEST_CASE("mailguide check: a malformed target or configuration exits 2 with one line", "[checks][cli]") {
  for (const std::string bad : {"not a domain", "localhost", "@example.com", "x@"}) {
    auto r = RunMailguide({"check", bad}, "", Env(nullptr));
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("mailguide: check: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(RunMailguide({"check"}, "", Env(nullptr)).exit_code == 2);
  auto bad_dns = RunMailguide({"check", "good.test"}, "", Env(nullptr, {"MAILGUIDE_DNS_SERVER=resolver.example"}));
  CHECK(bad_dns.exit_code == 2);
  CHECK(bad_dns.err.find("MAILGUIDE_DNS_SERVER") != std::string::npos);
  auto token_json = RunMailguide({"check", "--json", "--token", "t-1", "a@good.test"}, "", Env(nullptr));
  CHECK(token_json.exit_code == 2);
}

TEST_CASE("mailguide check --token: only with a role that may", "[checks][cli]") {
  FakeOpenSrs api;
  api.AddDomain("good.test", false);
  api.AddUser("jane@good.test", FakeOpenSrs::MailboxReply());
  auto refused = RunMailguide({"check", "--token", "ticket 1", "jane@good.test"}, "", Env(&api));
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("company_ro") != std::string::npos);
  auto made = RunMailguide({"check", "--token", "ticket 1", "jane@good.test"}, "",
                           Env(&api, {"MAILGUIDE_OPENSRS_ROLE=company_mail"}));
  INFO(made.err);
  CHECK(made.exit_code == 0);
  CHECK(made.out.find("email token for jane@good.test: d39b3ab55786e3a6161f860c3361e2aa (single use, valid 1 h, audit fake") !=
        std::string::npos);
  CHECK(made.err.find("d39b3ab55786e3a6161f860c3361e2aa") == std::string::npos);
}
