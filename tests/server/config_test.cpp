// LoadConfig over an injected lookup: defaults, every key of design.md's table, the _FILE
// variants, and every problem reported at once without leaking a secret.
#include <catch2/catch.hpp>

#include <map>

#include "bot/server/config.h"

namespace {

using bot::Config;
using bot::ConfigLookup;

ConfigLookup From(std::map<std::string, std::string> env) {
  return [env](const std::string& key) -> std::optional<std::string> {
    auto it = env.find(key);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

bot::SecretFileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> bot::Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return bot::Status::InvalidArgument("cannot read " + path);
    return it->second;
  };
}

}  // namespace

TEST_CASE("uses design.md's defaults when nothing is set", "[server]") {
  auto c = bot::LoadConfig(From({}));
  REQUIRE(c.ok());
  CHECK(c->server.host == "127.0.0.1");
  CHECK(c->server.port == 8443);
  CHECK(!c->server.plain_http);
  CHECK(c->server.data_dir == "./var");
  CHECK(c->store.spec.empty());
  CHECK(c->engine.session_ttl_seconds == 86400);
  CHECK(c->slack.api_url == "https://slack.com/api");
  CHECK(!c->slack.enabled());
  CHECK(!c->slack.anyone_can_answer);
  CHECK(!c->teams.webhook_enabled());
  CHECK(!c->teams.bot_enabled());
  CHECK(c->teams.token_url == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token");
  CHECK(!c->webchat.enabled);
  CHECK(!c->opensrs.enabled());
}

TEST_CASE("reads every key of the configuration table", "[server]") {
  auto c = bot::LoadConfig(From({
      {"MAILGUIDE_LISTEN", "[::1]:9443"},
      {"MAILGUIDE_TLS_CERT", "/etc/mg/cert.pem"},
      {"MAILGUIDE_TLS_KEY", "/etc/mg/key.pem"},
      {"MAILGUIDE_PLAIN_HTTP", "1"},
      {"MAILGUIDE_DATA_DIR", "/srv/mg"},
      {"MAILGUIDE_STORE", "memory"},
      {"MAILGUIDE_FLOWS", "/srv/flows"},
      {"MAILGUIDE_SESSION_TTL", "3600"},
      {"MAILGUIDE_SLACK_SIGNING_SECRET", "s3cret"},
      {"MAILGUIDE_SLACK_BOT_TOKEN", "xoxb-1"},
      {"MAILGUIDE_SLACK_API_URL", "http://127.0.0.1:9000/api"},
      {"MAILGUIDE_SLACK_ANYONE_CAN_ANSWER", "1"},
      {"MAILGUIDE_TEAMS_WEBHOOK_SECRET", "c2VjcmV0"},
      {"MAILGUIDE_TEAMS_APP_ID", "app"},
      {"MAILGUIDE_TEAMS_APP_PASSWORD", "pw"},
      {"MAILGUIDE_TEAMS_TENANT_ID", "tenant-guid"},
      {"MAILGUIDE_TEAMS_OPENID_URL", "https://openid.test/"},
      {"MAILGUIDE_DNS_SERVER", "127.0.0.1:5353"},
      {"MAILGUIDE_OPENSRS_URL", "https://admin.test/api"},
      {"MAILGUIDE_OPENSRS_USER", "u"},
      {"MAILGUIDE_OPENSRS_PASSWORD", "p"},
      {"MAILGUIDE_WEBCHAT", "1"},
      {"MAILGUIDE_WEBCHAT_TOKEN", "t"},
      {"MAILGUIDE_HTTP_THREADS", "16"},
      {"MAILGUIDE_WORKERS", "3"},
      {"MAILGUIDE_MAX_CONNECTIONS", "512"},
      {"MAILGUIDE_MAX_CONNECTIONS_PER_IP", "0"},
      {"MAILGUIDE_HANDSHAKE_TIMEOUT_MS", "5000"},
      {"MAILGUIDE_REQUEST_TIMEOUT_MS", "20000"},
      {"MAILGUIDE_READ_TIMEOUT_MS", "7500"},
  }));
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(c->server.host == "::1");
  CHECK(c->server.port == 9443);
  CHECK(c->server.tls_cert == "/etc/mg/cert.pem");
  CHECK(c->server.plain_http);
  CHECK(c->server.data_dir == "/srv/mg");
  CHECK(c->server.http_threads == 16);
  CHECK(c->server.workers == 3);
  CHECK(c->server.limits.max_connections == 512);
  CHECK(c->server.limits.max_connections_per_ip == 0);
  CHECK(c->server.limits.handshake_timeout == std::chrono::milliseconds(5000));
  CHECK(c->server.limits.request_timeout == std::chrono::milliseconds(20000));
  CHECK(c->server.limits.read_timeout == std::chrono::milliseconds(7500));
  CHECK(c->store.spec == "memory");
  CHECK(c->engine.flows_dir == "/srv/flows");
  CHECK(c->engine.session_ttl_seconds == 3600);
  CHECK(c->slack.enabled());
  CHECK(c->slack.bot_token == "xoxb-1");
  CHECK(c->slack.api_url == "http://127.0.0.1:9000/api");
  CHECK(c->slack.anyone_can_answer);
  CHECK(c->teams.webhook_secret == "c2VjcmV0");
  CHECK(c->teams.app_password == "pw");
  CHECK(c->teams.openid_url == "https://openid.test/");
  CHECK(c->teams.token_url == "https://login.microsoftonline.com/tenant-guid/oauth2/v2.0/token");
  CHECK(c->dns.server == "127.0.0.1:5353");
  CHECK(c->opensrs.enabled());
  CHECK(c->webchat.enabled);
  CHECK(c->webchat.token == "t");
}

TEST_CASE("reads secrets from _FILE variants", "[server]") {
  auto c = bot::LoadConfig(From({{"MAILGUIDE_SLACK_SIGNING_SECRET_FILE", "/run/secrets/sign"},
                                 {"MAILGUIDE_SLACK_BOT_TOKEN_FILE", "/run/secrets/token"}}),
                           Files({{"/run/secrets/sign", "abc"}, {"/run/secrets/token", "xoxb-2"}}));
  REQUIRE(c.ok());
  CHECK(c->slack.signing_secret == "abc");
  CHECK(c->slack.bot_token == "xoxb-2");
}

TEST_CASE("reports every problem at once and never echoes a secret", "[server]") {
  auto c = bot::LoadConfig(From({
                               {"MAILGUIDE_LISTEN", "localhost"},
                               {"MAILGUIDE_TLS_CERT", "/only/cert.pem"},
                               {"MAILGUIDE_PLAIN_HTTP", "maybe"},
                               {"MAILGUIDE_STORE", "postgres://x"},
                               {"MAILGUIDE_SESSION_TTL", "-5"},
                               {"MAILGUIDE_SLACK_SIGNING_SECRET", "topsecretvalue"},
                               {"MAILGUIDE_SLACK_API_URL", "ftp://slack"},
                               {"MAILGUIDE_TEAMS_WEBHOOK_SECRET", "not base64!"},
                               {"MAILGUIDE_TEAMS_APP_PASSWORD_FILE", "/missing"},
                               {"MAILGUIDE_OPENSRS_USER", "u"},
                               {"MAILGUIDE_DNS_SERVER", "dns"},
                               {"MAILGUIDE_READ_TIMEOUT_MS", "0"},
                           }),
                           Files({}));
  REQUIRE(!c.ok());
  const std::string m = c.status().message();
  INFO(m);
  for (const char* key : {"MAILGUIDE_LISTEN", "MAILGUIDE_TLS_KEY", "MAILGUIDE_PLAIN_HTTP", "MAILGUIDE_STORE",
                          "MAILGUIDE_SESSION_TTL", "MAILGUIDE_SLACK_BOT_TOKEN", "MAILGUIDE_SLACK_API_URL",
                          "MAILGUIDE_TEAMS_WEBHOOK_SECRET", "MAILGUIDE_TEAMS_APP_PASSWORD_FILE",
                          "MAILGUIDE_OPENSRS_URL", "MAILGUIDE_DNS_SERVER", "MAILGUIDE_READ_TIMEOUT_MS"}) {
    CHECK(m.find(key) != std::string::npos);
  }
  CHECK(m.find("topsecretvalue") == std::string::npos);
  CHECK(m.find("not base64!") == std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
}

TEST_CASE("refuses a web chat open beyond loopback without a token", "[server]") {
  CHECK(!bot::LoadConfig(From({{"MAILGUIDE_LISTEN", "0.0.0.0:8443"}, {"MAILGUIDE_WEBCHAT", "1"}})).ok());
  CHECK(bot::LoadConfig(From({{"MAILGUIDE_LISTEN", "127.0.0.1:8443"}, {"MAILGUIDE_WEBCHAT", "1"}})).ok());
}
