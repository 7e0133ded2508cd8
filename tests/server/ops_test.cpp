// What operators rely on: X-Request-Id and one observation per request from the server, /readyz
// with a reason, --config FILE (unknown keys, precedence file < environment < flags), and a
// running `mailguide serve` that logs one JSON line per request and serves /metrics.
#include <catch2/catch.hpp>

#include <algorithm>

#include <fstream>

#include "bot/server/config_file.h"
#include "bot/server/server.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "support/teams_webhook_client.h"

namespace {

using bot::testing::MetricValue;
using bot::testing::ServeProcess;
using bot::testing::TeamsWebhookChat;
using bot::testing::TempDir;

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("every answer carries an X-Request-Id and is observed once, 404s included", "[ops]") {
  std::mutex mu;
  std::vector<bot::RequestInfo> seen;
  bot::Status ready = bot::Status::Ok();
  bot::ServerOptions o;
  o.port = 0;
  o.plain_http = true;
  o.ready = [&] { return ready; };
  o.on_request = [&](const bot::RequestInfo& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(r);
  };
  bot::Server server(o);
  REQUIRE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());

  auto health = client.Get("/healthz");
  REQUIRE(health);
  const std::string id = health->get_header_value("X-Request-Id");
  CHECK(id.size() == 16);
  auto missing = client.Get("/nowhere");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(!missing->get_header_value("X-Request-Id").empty());
  CHECK(missing->get_header_value("X-Request-Id") != id);
  // A proxy's id is kept; anything that is not a plain token is replaced.
  CHECK(client.Get("/healthz", {{"X-Request-Id", "nginx-4f2a.9"}})->get_header_value("X-Request-Id") == "nginx-4f2a.9");
  CHECK(client.Get("/healthz", {{"X-Request-Id", "evil\"} {\"x"}})->get_header_value("X-Request-Id").size() == 16);

  ready = bot::Status::Unavailable("store: the Redis store at 127.0.0.1:1 is unreachable");
  auto not_ready = client.Get("/readyz");
  REQUIRE(not_ready);
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body == "not ready: store: the Redis store at 127.0.0.1:1 is unreachable\n");

  server.Stop();
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(seen.size() == 5);
  // Each request's observation runs after its answer is written, on its connection's thread,
  // so the next request's may come first: look them up rather than rely on the order.
  auto first = std::find_if(seen.begin(), seen.end(), [&](const bot::RequestInfo& r) { return r.id == id; });
  REQUIRE(first != seen.end());
  CHECK(first->path == "/healthz");
  CHECK(first->method == "GET");
  CHECK(first->status == 200);
  CHECK(first->remote_addr == "127.0.0.1");
  CHECK(first->latency_ms >= 0);
  auto with = [&](const std::string& path, int status) {
    return std::count_if(seen.begin(), seen.end(),
                         [&](const bot::RequestInfo& r) { return r.path == path && r.status == status; });
  };
  CHECK(with("/nowhere", 404) == 1);
  CHECK(with("/readyz", 503) == 1);
}

TEST_CASE("config file keys are the MAILGUIDE_* names in lower case; unknown keys are named", "[ops]") {
  auto good = bot::ParseConfigJson(
      R"({"listen": "0.0.0.0:8443", "mailguide_store": "memory", "plain_http": true, "session_ttl": 3600,
          "slack_signing_secret_file": "/run/secrets/slack", "dns_server": null})",
      "test.json");
  REQUIRE(good.ok());
  CHECK(good->at("MAILGUIDE_LISTEN") == "0.0.0.0:8443");
  CHECK(good->at("MAILGUIDE_STORE") == "memory");
  CHECK(good->at("MAILGUIDE_PLAIN_HTTP") == "1");
  CHECK(good->at("MAILGUIDE_SESSION_TTL") == "3600");
  CHECK(good->at("MAILGUIDE_SLACK_SIGNING_SECRET_FILE") == "/run/secrets/slack");
  CHECK(good->count("MAILGUIDE_DNS_SERVER") == 0);

  auto bad = bot::ParseConfigJson(R"({"lisen": "x", "store": "memory", "stor": "y", "workers": [1]})", "test.json");
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().rfind("test.json: unknown keys lisen, stor", 0) == 0);
  CHECK(bad.status().message().find("workers: expected") != std::string::npos);
  CHECK(!bot::ParseConfigJson(R"({"listen": "a", "mailguide_listen": "b"})", "t").ok());
  CHECK(!bot::ParseConfigJson("[1, 2]", "t").ok());
  CHECK(!bot::ParseConfigJson("{", "t").ok());
}

TEST_CASE("configuration precedence: the file, then the environment, then flags", "[ops]") {
  auto file = bot::MapLookup({{"MAILGUIDE_LISTEN", "127.0.0.1:1000"},
                              {"MAILGUIDE_DATA_DIR", "/from/file"},
                              {"MAILGUIDE_SESSION_TTL", "600"}});
  auto env = bot::MapLookup({{"MAILGUIDE_LISTEN", "127.0.0.1:2000"}, {"MAILGUIDE_DATA_DIR", ""}});
  auto flags = bot::MapLookup({{"MAILGUIDE_SESSION_TTL", "900"}});
  auto config = bot::LoadConfig(bot::LayeredLookup({flags, env, file}));
  REQUIRE(config.ok());
  CHECK(config->server.port == 2000);              // environment over file
  CHECK(config->server.data_dir == "/from/file");  // an empty variable counts as unset
  CHECK(config->engine.session_ttl_seconds == 900);  // flag over both
}

TEST_CASE("serve --config with unknown keys exits 2 naming them", "[ops]") {
  TempDir dir;
  WriteFile(dir.path() + "/mailguide.json", R"({"listen": "127.0.0.1:0", "stroe": "memory", "tls_crt": "x"})");
  auto r = bot::testing::RunMailguide({"serve", "--config", dir.path() + "/mailguide.json"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown keys stroe, tls_crt") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("serve from --config: flags beat the environment, which beats the file; JSON logs; /metrics",
          "[ops]") {
  TempDir dir;
  WriteFile(dir.path() + "/webhook.secret", std::string(bot::testing::kTeamsWebhookTestSecret) + "\n");
  WriteFile(dir.path() + "/mailguide.json",
            "{\"listen\": \"127.0.0.1:1\", \"plain_http\": true, \"store\": \"redis://127.0.0.1:1\",\n"
            " \"data_dir\": \"" + dir.path() + "/var\", \"flows\": \"" + bot::testing::FlowsDir() + "\",\n"
            " \"teams_webhook_secret_file\": \"" + dir.path() + "/webhook.secret\"}");
  // The environment moves the port off the file's; the --store flag replaces both stores.
  ServeProcess serve({"MAILGUIDE_LISTEN=127.0.0.1:0", "MAILGUIDE_STORE=redis://127.0.0.1:2"},
                     {"serve", "--config", dir.path() + "/mailguide.json", "--store", "memory"});
  const int port = serve.WaitListening();
  INFO(serve.Log());
  REQUIRE(port > 1);
  auto ready = serve.Client().Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);  // memory, not the unreachable Redis of the file or environment

  TeamsWebhookChat chat;
  auto answer = chat.Say(port, "customer can't log in to webmail");
  REQUIRE(answer.status == 200);
  CHECK(answer.Says("panel"));
  auto forged = serve.Client().Post("/teams/webhook", {{"Authorization", "HMAC bm90IHRoZSByaWdodCBzaWduYXR1cmU="}},
                                    chat.Activity("hello"), "application/json");
  REQUIRE(forged);
  CHECK(forged->status == 401);

  // A request is observed just after its answer is written: wait for the last one to count.
  std::string text, content_type;
  REQUIRE(bot::testing::WaitUntil([&] {
    auto metrics = serve.Client().Get("/metrics");
    if (!metrics) return false;
    text = metrics->body;
    content_type = metrics->get_header_value("Content-Type");
    return MetricValue(text, "mailguide_http_request_duration_seconds_count{endpoint=\"/teams/webhook\"}") == 2;
  }));
  CHECK(content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(MetricValue(text, "mailguide_http_requests_total{endpoint=\"/teams/webhook\",status=\"200\"}") == 1);
  CHECK(MetricValue(text, "mailguide_http_requests_total{endpoint=\"/teams/webhook\",status=\"401\"}") == 1);
  CHECK(MetricValue(text, "mailguide_http_requests_total{endpoint=\"/readyz\",status=\"200\"}") == 1);
  CHECK(MetricValue(text, "mailguide_signature_failures_total{platform=\"teams-webhook\"}") == 1);
  CHECK(MetricValue(text, "mailguide_turns_total{platform=\"teams-webhook\",result=\"answered\"}") == 1);
  CHECK(MetricValue(text, "mailguide_replies_sent_total{platform=\"teams-webhook\"}") >= 1);
  CHECK(MetricValue(text, "mailguide_live_conversations") == 1);
  CHECK(MetricValue(text, "mailguide_http_request_duration_seconds_count{endpoint=\"/teams/webhook\"}") == 2);
  CHECK(text.find("mailguide_build_info{version=") != std::string::npos);

  // Every stderr line is JSON; the turn's request has one info line with the id we got back,
  // and no line carries what the person typed or the secret.
  REQUIRE(bot::testing::WaitUntil([&] { return serve.Log().find(answer.request_id) != std::string::npos; }));
  CHECK(serve.Terminate() == 0);
  const std::string log = serve.Log();
  size_t lines = std::count(log.begin(), log.end(), '\n');
  auto json_lines = serve.JsonLines();
  CHECK(json_lines.size() == lines);
  int matched = 0;
  for (const auto& l : json_lines) {
    if (l.value("request_id", "") != answer.request_id) continue;
    ++matched;
    CHECK(l["level"] == "info");
    CHECK(l["event"] == "request");
    CHECK(l["method"] == "POST");
    CHECK(l["endpoint"] == "/teams/webhook");
    CHECK(l["platform"] == "teams-webhook");
    CHECK(l["status"] == 200);
    CHECK(l["latency_ms"].is_number());
    CHECK(l["ts"].get<std::string>().size() == 24);
  }
  CHECK(matched == 1);
  CHECK(log.find("log in to webmail") == std::string::npos);
  CHECK(log.find(bot::testing::kTeamsWebhookTestSecret) == std::string::npos);
}

TEST_CASE("deploy/mailguide.env.example documents every configuration key", "[ops]") {
  const std::string example = bot::testing::ReadFile(bot::testing::SourceDir() + "/deploy/mailguide.env.example");
  REQUIRE(!example.empty());
  for (const auto& key : bot::KnownConfigKeys()) {
    INFO(key << " is read by LoadConfig but missing from deploy/mailguide.env.example");
    CHECK(example.find("#" + key + "=") != std::string::npos);
  }
}
