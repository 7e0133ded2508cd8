// DnsResolver against a real dnsmasq on loopback: answers, and each way a lookup fails as its
// own status — NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout, unreachable — never as success.
#include <catch2/catch.hpp>

#include <chrono>

#include "bot/checks/dns_resolver.h"
#include "checks/dns_world.h"

using bot::checks::DnsAnswer;
using bot::checks::DnsQuery;
using bot::checks::DnsResolver;
using bot::checks::DnsStatus;
using bot::checks::DnsType;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

DnsAnswer Ask(const std::string& name, DnsType type, std::chrono::milliseconds deadline = 3000ms) {
  return bot::testing::DnsWorld::Get().resolver()->Resolve(DnsQuery{name, type}, Clock::now() + deadline);
}

}  // namespace

TEST_CASE("resolver: MX, TXT, A and AAAA answers from dnsmasq", "[checks][dns]") {
  DnsAnswer mx = Ask("good.test", DnsType::kMx);
  REQUIRE(mx.status == DnsStatus::kOk);
  REQUIRE(mx.mx.size() == 2);
  CHECK(mx.mx[0].preference == 10);
  CHECK(mx.mx[0].host == "mx1.cust.hostedemail.test");
  CHECK(mx.mx[1].host == "mx2.cust.hostedemail.test");

  DnsAnswer txt = Ask("good.test", DnsType::kTxt);
  REQUIRE(txt.status == DnsStatus::kOk);
  CHECK(txt.txt.size() == 2);

  DnsAnswer a = Ask("mx2.cust.hostedemail.test", DnsType::kA);
  REQUIRE(a.status == DnsStatus::kOk);
  CHECK(a.addresses == std::vector<std::string>{"192.0.2.11"});
  DnsAnswer aaaa = Ask("mx2.cust.hostedemail.test", DnsType::kAaaa);
  REQUIRE(aaaa.status == DnsStatus::kOk);
  CHECK(aaaa.addresses == std::vector<std::string>{"2001:db8::11"});
}

TEST_CASE("resolver: NODATA and NXDOMAIN are conclusive and distinct", "[checks][dns]") {
  DnsAnswer nodata = Ask("nomx.test", DnsType::kMx);
  CHECK(nodata.status == DnsStatus::kNoData);
  CHECK(nodata.mx.empty());
  DnsAnswer nx = Ask("missing.test", DnsType::kMx);
  CHECK(nx.status == DnsStatus::kNxDomain);
  CHECK(nx.Describe() == "missing.test MX: NXDOMAIN (the name does not exist)");
  CHECK(bot::checks::IsConclusive(nodata.status));
  CHECK(bot::checks::IsConclusive(nx.status));
}

TEST_CASE("resolver: REFUSED, SERVFAIL and timeouts are their own statuses", "[checks][dns]") {
  DnsAnswer refused = Ask("example.org", DnsType::kMx);  // dnsmasq has no upstream for it
  CHECK(refused.status == DnsStatus::kRefused);
  DnsAnswer servfail = Ask("servfail.test", DnsType::kMx);
  CHECK(servfail.status == DnsStatus::kServFail);

  auto started = Clock::now();
  DnsAnswer silent = Ask("silent.test", DnsType::kTxt, 700ms);
  auto took = Clock::now() - started;
  CHECK(silent.status == DnsStatus::kTimeout);
  CHECK(took < 1500ms);  // the deadline holds

  for (DnsStatus s : {refused.status, servfail.status, silent.status}) CHECK_FALSE(bot::checks::IsConclusive(s));
  CHECK(refused.Describe().find("REFUSED") != std::string::npos);
  CHECK(servfail.Describe().find("SERVFAIL") != std::string::npos);
}

TEST_CASE("resolver: a slow answer counts when it arrives in time, not after", "[checks][dns]") {
  DnsAnswer late = Ask("late.test", DnsType::kTxt, 3000ms);  // answers after 0.3 s
  REQUIRE(late.status == DnsStatus::kOk);
  CHECK(late.txt == std::vector<std::string>{"v=spf1 -all"});

  auto started = Clock::now();
  DnsAnswer slow = Ask("slow.test", DnsType::kTxt, 600ms);  // answers after 1.5 s
  CHECK(slow.status == DnsStatus::kTimeout);
  CHECK(Clock::now() - started < 1200ms);
}

TEST_CASE("resolver: many queries at once share one deadline", "[checks][dns]") {
  auto resolver = bot::testing::DnsWorld::Get().resolver();
  std::vector<DnsQuery> queries = {{"good.test", DnsType::kMx}, {"silent.test", DnsType::kMx},
                                   {"missing.test", DnsType::kTxt}, {"late.test", DnsType::kMx},
                                   {"servfail.test", DnsType::kTxt}};
  auto started = Clock::now();
  auto answers = resolver->Resolve(queries, Clock::now() + 1000ms);
  CHECK(Clock::now() - started < 1600ms);
  REQUIRE(answers.size() == 5);
  CHECK(answers[0].status == DnsStatus::kOk);
  CHECK(answers[1].status == DnsStatus::kTimeout);
  CHECK(answers[2].status == DnsStatus::kNxDomain);
  CHECK(answers[3].status == DnsStatus::kOk);
  CHECK(answers[3].mx.at(0).host == "mx.late.test");
  CHECK(answers[4].status == DnsStatus::kServFail);
  for (size_t i = 0; i < queries.size(); ++i) CHECK(answers[i].query.name == queries[i].name);
}

TEST_CASE("resolver: a server nobody listens on is never success", "[checks][dns]") {
  // Port 9 (discard) on loopback: nothing answers DNS there.
  auto resolver = DnsResolver::Create("127.0.0.1:9");
  REQUIRE(resolver.ok());
  DnsAnswer a = (*resolver)->Resolve(DnsQuery{"good.test", DnsType::kMx}, Clock::now() + 800ms);
  CHECK((a.status == DnsStatus::kUnreachable || a.status == DnsStatus::kTimeout));
  CHECK_FALSE(bot::checks::IsConclusive(a.status));
}

TEST_CASE("resolver: the server setting is an IP and a port", "[checks][dns]") {
  CHECK(DnsResolver::Create("127.0.0.1:5353").ok());
  CHECK(DnsResolver::Create("[::1]:53").ok());
  CHECK(DnsResolver::Create("").ok());  // the system's resolver
  auto bad = DnsResolver::Create("dns.example.net:53");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == bot::Status::Code::kInvalidArgument);
  CHECK_FALSE(DnsResolver::Create("127.0.0.1:99999").ok());
  CHECK_FALSE(DnsResolver::Create("127.0.0.1:").ok());
}
