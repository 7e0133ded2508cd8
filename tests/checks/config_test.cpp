// The checks' configuration from the environment, and the target a check runs on.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>

#include "bot/checks/config.h"
#include "bot/checks/target.h"
#include "support/process.h"

using bot::checks::ChecksConfigFromEnv;
using bot::checks::ParseTarget;

namespace {

bot::checks::GetEnv Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("checks config: defaults are the reference's provider, the API off", "[checks][config]") {
  auto c = ChecksConfigFromEnv("/flows", Env({}));
  REQUIRE(c.ok());
  CHECK(c->dns_server.empty());
  CHECK(c->mx_hosts == std::vector<std::string>{"hostedemail.com"});
  CHECK(c->spf_include == "_spf.hostedemail.com");
  CHECK(c->dkim_selectors.empty());
  CHECK(c->opensrs_url == "https://admin.a.hostedemail.com/api");
  CHECK(c->opensrs_role == "company_ro");
  CHECK_FALSE(c->provider_configured());
  CHECK(c->provider_map == "/flows/checks/opensrs.json");
  CHECK(c->deadline == std::chrono::milliseconds(8000));
}

TEST_CASE("checks config: every variable, and secrets from files", "[checks][config]") {
  bot::testing::TempDir dir;
  const std::string secret = dir.path() + "/password";
  std::ofstream(secret) << "from-a-file\n";
  auto c = ChecksConfigFromEnv("/flows", Env({{"MAILGUIDE_DNS_SERVER", "127.0.0.1:5353"},
                                              {"MAILGUIDE_MX_HOSTS", "mx.example.net, Cust.HostedEmail.com."},
                                              {"MAILGUIDE_SPF_INCLUDE", "_spf.example.net"},
                                              {"MAILGUIDE_DKIM_SELECTORS", "s1 s2,s3"},
                                              {"MAILGUIDE_OPENSRS_URL", "https://admin.test.hostedemail.com/api/"},
                                              {"MAILGUIDE_OPENSRS_USER", "bot@example.net"},
                                              {"MAILGUIDE_OPENSRS_PASSWORD_FILE", secret},
                                              {"MAILGUIDE_OPENSRS_ROLE", "company_mail"},
                                              {"MAILGUIDE_OPENSRS_MAP", "/etc/mailguide/opensrs.json"},
                                              {"MAILGUIDE_CHECK_DEADLINE_MS", "2500"}}));
  REQUIRE(c.ok());
  CHECK(c->dns_server == "127.0.0.1:5353");
  CHECK(c->mx_hosts == std::vector<std::string>{"mx.example.net", "cust.hostedemail.com"});
  CHECK(c->spf_include == "_spf.example.net");
  CHECK(c->dkim_selectors == std::vector<std::string>{"s1", "s2", "s3"});
  CHECK(c->opensrs_url == "https://admin.test.hostedemail.com/api");
  CHECK(c->opensrs_password == "from-a-file");
  CHECK(c->opensrs_role == "company_mail");
  CHECK(c->provider_configured());
  CHECK(c->provider_map == "/etc/mailguide/opensrs.json");
  CHECK(c->deadline == std::chrono::milliseconds(2500));

  // Set but empty: no requirement.
  auto none = ChecksConfigFromEnv("/flows", Env({{"MAILGUIDE_MX_HOSTS", ""}, {"MAILGUIDE_SPF_INCLUDE", ""}}));
  REQUIRE(none.ok());
  CHECK(none->mx_hosts.empty());
  CHECK(none->spf_include.empty());
}

TEST_CASE("checks config: bad values name the variable, never a secret", "[checks][config]") {
  auto bad_dns = ChecksConfigFromEnv("/f", Env({{"MAILGUIDE_DNS_SERVER", "resolver.example:53"}}));
  REQUIRE_FALSE(bad_dns.ok());
  CHECK(bad_dns.status().message().rfind("MAILGUIDE_DNS_SERVER: ", 0) == 0);
  auto half = ChecksConfigFromEnv("/f", Env({{"MAILGUIDE_OPENSRS_PASSWORD", "hunter2-secret"}}));
  REQUIRE_FALSE(half.ok());
  CHECK(half.status().message().find("MAILGUIDE_OPENSRS_USER") != std::string::npos);
  CHECK(half.status().message().find("hunter2-secret") == std::string::npos);
  CHECK_FALSE(ChecksConfigFromEnv("/f", Env({{"MAILGUIDE_OPENSRS_URL", "ftp://x"}})).ok());
  CHECK_FALSE(ChecksConfigFromEnv("/f", Env({{"MAILGUIDE_CHECK_DEADLINE_MS", "soon"}})).ok());
  CHECK_FALSE(ChecksConfigFromEnv("/f", Env({{"MAILGUIDE_OPENSRS_PASSWORD_FILE", "/nonexistent/pw"}})).ok());
}

TEST_CASE("check target: a mailbox or a domain, normalised; anything else says why", "[checks][config]") {
  auto mailbox = ParseTarget("  Jane.Doe@Example.COM. ");
  REQUIRE(mailbox.ok());
  CHECK(mailbox->mailbox == "Jane.Doe@example.com");
  CHECK(mailbox->domain == "example.com");
  auto domain = ParseTarget("mail.example.co.uk");
  REQUIRE(domain.ok());
  CHECK(domain->mailbox.empty());
  CHECK(domain->domain == "mail.example.co.uk");
  CHECK(bot::checks::TargetText(*mailbox) == "Jane.Doe@example.com");

  for (const char* bad : {"", "localhost", "two words.com", "@example.com", "a@", "a@b@", "exa mple.com",
                          "-bad.example.com", "a..b.com", "bücher.de", "x@_dmarc.example.com", "\"q\"@example.com",
                          "a;b@example.com"}) {
    auto r = ParseTarget(bad);
    INFO(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().message().find('\n') == std::string::npos);
  }
  CHECK(ParseTarget("bücher.de").status().message().find("xn--") != std::string::npos);
}
