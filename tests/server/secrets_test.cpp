// Secrets (issue 7, point 4): read from the environment or from the file a …_FILE variable
// names, never echoed in an error — by the configuration, by `mailguide serve`, or by the
// signature checks. (Logs are checked suite-wide by tests/check_test_logs.sh.)
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "adapters/slack/slack_signature.h"
#include "adapters/teams/teams_hmac.h"
#include "bot/server/config.h"
#include "support/process.h"

namespace {

bot::Result<bot::Config> Load(const std::map<std::string, std::string>& env) {
  return bot::LoadConfig([env](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

}  // namespace

TEST_CASE("secrets: configuration errors name the variable, never the value", "[hardening][secrets]") {
  const std::string signing = "hardening-signing-secret-5d1e9b";
  const std::string token = "hardening-not-a-bot-token-0a9f";
  const std::string webhook = "hardening webhook secret, not base64!";
  auto bad = Load({{"MAILGUIDE_SLACK_SIGNING_SECRET", signing},
                   {"MAILGUIDE_SLACK_BOT_TOKEN", token},
                   {"MAILGUIDE_TEAMS_WEBHOOK_SECRET", webhook},
                   {"MAILGUIDE_TEAMS_APP_PASSWORD", "hardening-app-password-31f0"},
                   {"MAILGUIDE_OPENSRS_PASSWORD", "s3cret-Pa55"}});
  REQUIRE_FALSE(bad.ok());
  const std::string m = bad.status().message();
  CHECK(m.find("MAILGUIDE_SLACK_BOT_TOKEN") != std::string::npos);
  CHECK(m.find("MAILGUIDE_TEAMS_WEBHOOK_SECRET") != std::string::npos);
  for (const std::string& secret : {signing, token, webhook, std::string("hardening-app-password-31f0"),
                                    std::string("s3cret-Pa55")}) {
    CHECK(m.find(secret) == std::string::npos);
  }
  auto both = Load({{"MAILGUIDE_SLACK_SIGNING_SECRET", signing}, {"MAILGUIDE_SLACK_SIGNING_SECRET_FILE", "/x"}});
  REQUIRE_FALSE(both.ok());
  CHECK(both.status().message().find(signing) == std::string::npos);
}

TEST_CASE("secrets: …_FILE variables read the secret from a file", "[hardening][secrets]") {
  bot::testing::TempDir dir;
  const std::string path = dir.path() + "/signing";
  std::ofstream(path) << "hardening-signing-secret-5d1e9b\n";
  std::ofstream(dir.path() + "/token") << "xoxb-hardening-token-77c2a0\n";
  auto c = bot::LoadConfig(bot::EnvironmentLookup());  // the process environment has none of ours
  REQUIRE(c.ok());
  auto loaded = Load({{"MAILGUIDE_SLACK_SIGNING_SECRET_FILE", path},
                      {"MAILGUIDE_SLACK_BOT_TOKEN_FILE", dir.path() + "/token"}});
  REQUIRE(loaded.ok());
  CHECK(loaded->slack.signing_secret == "hardening-signing-secret-5d1e9b");
  CHECK(loaded->slack.bot_token == "xoxb-hardening-token-77c2a0");
}

TEST_CASE("secrets: mailguide serve refuses a bad configuration without echoing a secret", "[hardening][secrets]") {
  auto r = bot::testing::RunMailguide({"serve"}, "",
                                      {"MAILGUIDE_LISTEN=127.0.0.1:0",
                                       "MAILGUIDE_SLACK_SIGNING_SECRET=hardening-signing-secret-5d1e9b",
                                       "MAILGUIDE_SLACK_BOT_TOKEN=hardening-not-a-bot-token-0a9f"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("MAILGUIDE_SLACK_BOT_TOKEN") != std::string::npos);
  CHECK(r.err.find("hardening-signing-secret-5d1e9b") == std::string::npos);
  CHECK(r.err.find("hardening-not-a-bot-token-0a9f") == std::string::npos);
}

TEST_CASE("secrets: signature failures never echo the secret or the expected signature", "[hardening][secrets]") {
  const std::string secret = "hardening-signing-secret-5d1e9b";
  const std::string body = R"({"type":"url_verification","challenge":"c"})";
  const std::string expected = bot::slack::ComputeSlackSignature(secret, "1700000000", body);
  for (const std::string& sig : {std::string("v0=00"), std::string("v1=") + expected.substr(3), std::string()}) {
    bot::Status s = bot::slack::VerifySlackSignature(secret, "1700000000", sig, body, 1700000000);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find(secret) == std::string::npos);
    CHECK(s.message().find(expected.substr(3)) == std::string::npos);
  }
  const std::string token = "aGFyZGVuaW5nLXRlYW1zLXdlYmhvb2stc2VjcmV0IQ==";
  const std::string good = *bot::teams::ComputeWebhookAuthorization(token, body);
  bot::Status t = bot::teams::VerifyWebhookHmac(token, "HMAC AAAA", body);
  REQUIRE_FALSE(t.ok());
  CHECK(t.message().find(token) == std::string::npos);
  CHECK(t.message().find(good.substr(5)) == std::string::npos);
}
