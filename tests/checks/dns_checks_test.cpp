// The mx, spf, dmarc and dkim checks against dnsmasq: what passes, what fails and why, and
// that a lookup which cannot decide says unknown with the resolver's reason.
#include <catch2/catch.hpp>

#include <chrono>

#include "bot/checks/dns_checks.h"
#include "checks/dns_world.h"

using bot::ProbeResult;
using bot::checks::DnsCheckOptions;
using bot::checks::DnsStatus;
using Outcome = bot::ProbeResult::Outcome;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

auto Deadline(std::chrono::milliseconds ms = 3000ms) { return Clock::now() + ms; }

struct World {
  std::shared_ptr<bot::checks::DnsResolver> dns = bot::testing::DnsWorld::Get().resolver();
  DnsCheckOptions opts = bot::testing::DnsWorld::Options();
};

bool Has(const ProbeResult& r, const std::string& text) { return r.detail.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("mx: published, resolvable and at the provider passes", "[checks][dns]") {
  World w;
  DnsStatus lookup = DnsStatus::kTimeout;
  ProbeResult r = bot::checks::CheckMx(*w.dns, "good.test", w.opts, Deadline(), &lookup);
  INFO(r.detail);
  CHECK(r.id == "mx");
  CHECK(r.outcome == Outcome::kPass);
  CHECK(lookup == DnsStatus::kOk);
  CHECK(Has(r, "MX 10 mx1.cust.hostedemail.test, 20 mx2.cust.hostedemail.test"));
  CHECK(Has(r, "192.0.2.10"));
  CHECK(Has(r, "2001:db8::11"));
}

TEST_CASE("mx: missing, elsewhere, unresolvable and nonexistent fail with the evidence", "[checks][dns]") {
  World w;
  ProbeResult nomx = bot::checks::CheckMx(*w.dns, "nomx.test", w.opts, Deadline());
  CHECK(nomx.outcome == Outcome::kFail);
  CHECK(nomx.detail == "No MX record is published for nomx.test (NODATA).");

  ProbeResult elsewhere = bot::checks::CheckMx(*w.dns, "elsewhere.test", w.opts, Deadline());
  CHECK(elsewhere.outcome == Outcome::kFail);
  CHECK(Has(elsewhere, "mx.other-provider.test is not the provider's mail host (expected a host under hostedemail.test)"));

  ProbeResult dead = bot::checks::CheckMx(*w.dns, "deadmx.test", w.opts, Deadline());
  CHECK(dead.outcome == Outcome::kFail);
  CHECK(Has(dead, "gone.cust.hostedemail.test (NXDOMAIN) has no A or AAAA record"));

  DnsStatus lookup = DnsStatus::kOk;
  ProbeResult missing = bot::checks::CheckMx(*w.dns, "missing.test", w.opts, Deadline(), &lookup);
  CHECK(missing.outcome == Outcome::kFail);
  CHECK(lookup == DnsStatus::kNxDomain);
  CHECK(Has(missing, "does not exist in DNS (NXDOMAIN)"));

  // With no expected hosts configured, any resolvable MX passes.
  DnsCheckOptions any = w.opts;
  any.mx_hosts.clear();
  CHECK(bot::checks::CheckMx(*w.dns, "elsewhere.test", any, Deadline()).outcome == Outcome::kPass);
}

TEST_CASE("mx: SERVFAIL, REFUSED and timeouts are unknown, never a pass", "[checks][dns]") {
  World w;
  ProbeResult servfail = bot::checks::CheckMx(*w.dns, "servfail.test", w.opts, Deadline());
  CHECK(servfail.outcome == Outcome::kUnknown);
  CHECK(Has(servfail, "SERVFAIL"));
  ProbeResult refused = bot::checks::CheckMx(*w.dns, "refused.example", w.opts, Deadline());
  CHECK(refused.outcome == Outcome::kUnknown);
  CHECK(Has(refused, "REFUSED"));
  ProbeResult slow = bot::checks::CheckMx(*w.dns, "slow.test", w.opts, Deadline(500ms));
  CHECK(slow.outcome == Outcome::kUnknown);
  CHECK(Has(slow, "TIMEOUT"));
  // late.test answers MX (mx.late.test), then its A, each after 0.3 s: in time, but not the provider's.
  DnsCheckOptions late_ok = w.opts;
  late_ok.mx_hosts = {"late.test"};
  ProbeResult late = bot::checks::CheckMx(*w.dns, "late.test", late_ok, Deadline(4000ms));
  INFO(late.detail);
  CHECK(late.outcome == Outcome::kPass);
}

TEST_CASE("spf: one record with the provider's include, within 10 lookups, passes", "[checks][dns]") {
  World w;
  ProbeResult r = bot::checks::CheckSpf(*w.dns, "good.test", w.opts, Deadline());
  INFO(r.detail);
  CHECK(r.id == "spf");
  CHECK(r.outcome == Outcome::kPass);
  CHECK(Has(r, "includes _spf.hostedemail.test; 1 of 10 DNS lookups"));
}

TEST_CASE("spf: two records, none, no provider, too many lookups, loops and dead includes fail", "[checks][dns]") {
  World w;
  ProbeResult two = bot::checks::CheckSpf(*w.dns, "twospf.test", w.opts, Deadline());
  CHECK(two.outcome == Outcome::kFail);
  CHECK(Has(two, "2 SPF records are published for twospf.test"));

  ProbeResult none = bot::checks::CheckSpf(*w.dns, "deadmx.test", w.opts, Deadline());
  CHECK(none.outcome == Outcome::kPass);  // deadmx.test's SPF is fine; its MX is not
  ProbeResult absent = bot::checks::CheckSpf(*w.dns, "twodmarc.test", w.opts, Deadline());
  CHECK(absent.outcome == Outcome::kFail);  // the name does not exist: --local answers NXDOMAIN

  ProbeResult other = bot::checks::CheckSpf(*w.dns, "elsewhere.test", w.opts, Deadline());
  CHECK(other.outcome == Outcome::kFail);
  CHECK(Has(other, "does not include the provider (include:_spf.hostedemail.test)"));

  ProbeResult many = bot::checks::CheckSpf(*w.dns, "toomany.test", w.opts, Deadline());
  INFO(many.detail);
  CHECK(many.outcome == Outcome::kFail);
  CHECK(Has(many, "needs 11 DNS lookups; the limit is 10"));

  ProbeResult loop = bot::checks::CheckSpf(*w.dns, "loop.test", w.opts, Deadline());
  CHECK(loop.outcome == Outcome::kFail);
  CHECK(Has(loop, "loop"));

  ProbeResult dead = bot::checks::CheckSpf(*w.dns, "badinclude.test", w.opts, Deadline());
  CHECK(dead.outcome == Outcome::kFail);
  CHECK(Has(dead, "nothing.test publishes no SPF record (NXDOMAIN)"));

  ProbeResult nomx = bot::checks::CheckSpf(*w.dns, "nomx.test", w.opts, Deadline());
  CHECK(nomx.outcome == Outcome::kPass);
}

TEST_CASE("spf: lookups that fail are unknown", "[checks][dns]") {
  World w;
  CHECK(bot::checks::CheckSpf(*w.dns, "servfail.test", w.opts, Deadline()).outcome == Outcome::kUnknown);
  CHECK(bot::checks::CheckSpf(*w.dns, "silent.test", w.opts, Deadline(500ms)).outcome == Outcome::kUnknown);
  // late.test answers "v=spf1 -all" in time: one record, but without the provider.
  ProbeResult late = bot::checks::CheckSpf(*w.dns, "late.test", w.opts, Deadline());
  CHECK(late.outcome == Outcome::kFail);
}

TEST_CASE("spf: record parsing counts the lookup terms", "[checks][dns]") {
  auto info = bot::checks::ParseSpf("v=spf1 +a mx:mail.example ptr ip4:192.0.2.1 exists:%{i}.x include:_spf.a.test ?include:b.test -all");
  CHECK(info.lookups == 6);
  CHECK(info.includes == std::vector<std::string>{"_spf.a.test", "b.test"});
  CHECK(info.has_all);
  auto redirect = bot::checks::ParseSpf("v=spf1 ip4:192.0.2.1 redirect=_spf.example.test");
  CHECK(redirect.lookups == 1);
  CHECK(redirect.includes == std::vector<std::string>{"_spf.example.test"});
  auto ignored = bot::checks::ParseSpf("v=spf1 -all redirect=_spf.example.test");  // redirect ignored with all
  CHECK(ignored.lookups == 0);
  CHECK(ignored.includes.empty());
  CHECK(bot::checks::IsSpfRecord("v=spf1 -all"));
  CHECK(bot::checks::IsSpfRecord("V=SPF1"));
  CHECK_FALSE(bot::checks::IsSpfRecord("v=spf10 -all"));
  CHECK_FALSE(bot::checks::IsSpfRecord("google-site-verification=x"));
}

TEST_CASE("dmarc: the record and its policy", "[checks][dns]") {
  World w;
  ProbeResult good = bot::checks::CheckDmarc(*w.dns, "good.test", Deadline());
  CHECK(good.id == "dmarc");
  CHECK(good.outcome == Outcome::kPass);
  CHECK(Has(good, "policy quarantine"));
  ProbeResult none = bot::checks::CheckDmarc(*w.dns, "deadmx.test", Deadline());
  CHECK(none.outcome == Outcome::kPass);
  CHECK(Has(none, "policy none (monitoring only"));

  ProbeResult missing = bot::checks::CheckDmarc(*w.dns, "nodmarc.test", Deadline());
  CHECK(missing.outcome == Outcome::kFail);
  CHECK(missing.detail == "No DMARC record is published at _dmarc.nodmarc.test (NXDOMAIN).");
  ProbeResult no_policy = bot::checks::CheckDmarc(*w.dns, "elsewhere.test", Deadline());
  CHECK(no_policy.outcome == Outcome::kFail);
  CHECK(Has(no_policy, "no valid policy"));
  ProbeResult two = bot::checks::CheckDmarc(*w.dns, "twodmarc.test", Deadline());
  CHECK(two.outcome == Outcome::kFail);
  CHECK(Has(two, "2 DMARC records"));
  CHECK(bot::checks::CheckDmarc(*w.dns, "servfail.test", Deadline()).outcome == Outcome::kUnknown);
}

TEST_CASE("dkim: a key at a configured selector", "[checks][dns]") {
  World w;
  ProbeResult good = bot::checks::CheckDkim(*w.dns, "good.test", w.opts, Deadline());
  CHECK(good.id == "dkim");
  CHECK(good.outcome == Outcome::kPass);
  CHECK(good.detail == "DKIM public key published at sel1._domainkey.good.test.");
  ProbeResult none = bot::checks::CheckDkim(*w.dns, "nodmarc.test", w.opts, Deadline());
  CHECK(none.outcome == Outcome::kFail);
  CHECK(Has(none, "sel1._domainkey.nodmarc.test (NXDOMAIN)"));
  ProbeResult revoked = bot::checks::CheckDkim(*w.dns, "elsewhere.test", w.opts, Deadline());
  CHECK(revoked.outcome == Outcome::kFail);
  CHECK(Has(revoked, "key revoked"));
  CHECK(bot::checks::CheckDkim(*w.dns, "servfail.test", w.opts, Deadline()).outcome == Outcome::kUnknown);

  DnsCheckOptions no_selectors = w.opts;
  no_selectors.dkim_selectors.clear();
  ProbeResult unconfigured = bot::checks::CheckDkim(*w.dns, "good.test", no_selectors, Deadline());
  CHECK(unconfigured.outcome == Outcome::kUnknown);
  CHECK(Has(unconfigured, "MAILGUIDE_DKIM_SELECTORS"));
}
