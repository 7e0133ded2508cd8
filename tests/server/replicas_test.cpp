// Several `mailguide serve` replicas on one real redis-server (issue 6): they behave as one bot.
// Each test starts its own redis-server on a free loopback port and real serve processes on
// plain HTTP; Teams outgoing-webhook turns are answered inline (the answer is in the HTTP
// response), Slack turns are acknowledged and answered through a fake Slack Web API over HTTPS
// (trusted by the processes through SSL_CERT_FILE), which counts every call.
#include <catch2/catch.hpp>

#include <future>

#include "adapters/slack/slack_json.h"
#include "adapters/slack/slack_signature.h"
#include "bot/store/redis_session_store.h"
#include "support/fake_slack_api.h"
#include "support/https_server_fixture.h"
#include "support/redis_server.h"
#include "support/serve_process.h"
#include "support/teams_webhook_client.h"

namespace {

using bot::testing::WaitUntil;
using bot::testing::FakeSlackApi;
using bot::testing::MetricValue;
using bot::testing::RedisServer;
using bot::testing::ServeProcess;
using bot::testing::TeamsWebhookChat;
using bot::testing::TempDir;
using bot::testing::TestCertificate;
using nlohmann::json;

// One Redis, a fake Slack API, and as many replicas as a test starts.
class Cluster {
 public:
  std::vector<std::string> Env() const {
    return {"MAILGUIDE_LISTEN=127.0.0.1:0",
            "MAILGUIDE_PLAIN_HTTP=1",
            "MAILGUIDE_DATA_DIR=" + dir_.path() + "/var",
            "MAILGUIDE_FLOWS=" + bot::testing::FlowsDir(),
            "MAILGUIDE_STORE=redis://127.0.0.1:" + std::to_string(redis_.port()),
            std::string("MAILGUIDE_TEAMS_WEBHOOK_SECRET=") + bot::testing::kTeamsWebhookTestSecret,
            std::string("MAILGUIDE_SLACK_SIGNING_SECRET=") + bot::testing::kSlackTestSecret,
            "MAILGUIDE_SLACK_BOT_TOKEN=" + api_.token(),
            "MAILGUIDE_SLACK_API_URL=" + api_.api_url(),
            "SSL_CERT_FILE=" + cert_.cert};
  }

  std::unique_ptr<ServeProcess> Replica() {
    auto p = std::make_unique<ServeProcess>(Env());
    INFO(p->Log());
    REQUIRE(p->WaitListening() > 0);
    return p;
  }

  RedisServer& redis() { return redis_; }
  FakeSlackApi& api() { return api_; }

  // A RedisSessionStore of our own on the replicas' Redis, to read what they stored.
  std::unique_ptr<bot::RedisSessionStore> Store() {
    bot::RedisStoreOptions o;
    o.host = "127.0.0.1";
    o.port = redis_.port();
    auto s = bot::RedisSessionStore::Open(o);
    REQUIRE(s.ok());
    return std::move(s).value();
  }

 private:
  TempDir dir_;
  RedisServer redis_;
  TestCertificate cert_;
  FakeSlackApi api_{cert_.cert, cert_.key};
};

std::string Metrics(const ServeProcess& p) {
  auto res = p.Client().Get("/metrics");
  return res && res->status == 200 ? res->body : "";
}

double Turns(const ServeProcess& p, const std::string& platform) {
  const std::string text = Metrics(p);
  double n = 0;
  for (const char* result : {"answered", "duplicate", "failed"}) {
    n += std::max(0.0, MetricValue(text, "mailguide_turns_total{platform=\"" + platform + "\",result=\"" + result + "\"}"));
  }
  return n;
}

int Readyz(const ServeProcess& p) {
  auto res = p.Client().Get("/readyz");
  return res ? res->status : 0;
}

httplib::Result SlackPost(const ServeProcess& p, const std::string& path, const std::string& body,
                          const std::string& content_type) {
  const std::string ts = std::to_string(bot::UnixNow());
  httplib::Headers h{{"X-Slack-Request-Timestamp", ts},
                     {"X-Slack-Signature", bot::slack::ComputeSlackSignature(bot::testing::kSlackTestSecret, ts, body)}};
  return p.Client().Post(path.c_str(), h, body, content_type.c_str());
}

json SlackFixture(const std::string& name) {
  std::ifstream in(bot::testing::FixturesDir() + "/slack/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

// The button of a posted Block Kit message whose choice value is `choice` (null when absent).
json Button(const json& message, const std::string& choice) {
  for (const auto& b : message["blocks"]) {
    if (b["type"] != "actions") continue;
    for (const auto& e : b["elements"]) {
      if (json::parse(e["value"].get<std::string>()).value("v", "") == choice) return e;
    }
  }
  return nullptr;
}

// A block_actions payload clicking `button` of `message`, answered through response_url `id`.
std::string Click(FakeSlackApi& api, const json& message, const json& button, const std::string& id) {
  json p = SlackFixture("block_actions.json");
  p["trigger_id"] = "trigger." + id;
  p["response_url"] = api.response_url(id);
  p["message"]["blocks"] = message["blocks"];
  p["actions"][0] = button;
  return bot::slack::EncodeForm({{"payload", p.dump()}});
}

size_t Count(FakeSlackApi& api, const std::string& path) { return api.CallsTo(path).size(); }

}  // namespace

TEST_CASE("a conversation continues across two replicas, turn by turn", "[replicas]") {
  Cluster c;
  auto a = c.Replica();
  auto b = c.Replica();
  TeamsWebhookChat chat;
  REQUIRE(chat.Say(a->port(), "customer can't log in to webmail").Says("panel"));
  CHECK(chat.Say(b->port(), "rcp").Says("Step 1 of 5"));
  CHECK(chat.Say(a->port(), "skip").Says("Step 2 of 5"));
  CHECK(chat.Say(b->port(), "skip").Says("Step 3 of 5"));
  CHECK(chat.Say(b->port(), "back").Says("Step 2 of 5"));
  CHECK(chat.Say(a->port(), "skip").Says("Step 3 of 5"));
}

TEST_CASE("a replica killed with -9 mid-conversation: the other continues, and so does its restart", "[replicas]") {
  Cluster c;
  auto a = c.Replica();
  auto b = c.Replica();
  TeamsWebhookChat chat;
  REQUIRE(chat.Say(a->port(), "customer can't log in to webmail").Says("panel"));
  REQUIRE(chat.Say(a->port(), "rcp").Says("Step 1 of 5"));
  a->Kill9();
  CHECK(chat.Say(b->port(), "skip").Says("Step 2 of 5"));
  a = c.Replica();  // restarted: a new process, a new port, the same Redis
  CHECK(chat.Say(a->port(), "skip").Says("Step 3 of 5"));
  CHECK(chat.Say(b->port(), "skip").Says("Step 4 of 5"));
}

TEST_CASE("one event delivered to both replicas is answered once", "[replicas]") {
  Cluster c;
  auto a = c.Replica();
  auto b = c.Replica();

  SECTION("a Slack event (same event_id): one chat.postMessage") {
    json mention = SlackFixture("app_mention.json");
    mention["event"]["text"] = "<@U0BOT> customer can't log in to webmail";
    const std::string body = mention.dump();
    auto to_a = std::async(std::launch::async, [&] { return SlackPost(*a, "/slack/events", body, "application/json"); });
    auto to_b = std::async(std::launch::async, [&] { return SlackPost(*b, "/slack/events", body, "application/json"); });
    auto ra = to_a.get();
    auto rb = to_b.get();
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(ra->status == 200);
    CHECK(rb->status == 200);
    // Both replicas ran the turn (one answered, one found the event claimed) ...
    REQUIRE(WaitUntil([&] { return Turns(*a, "slack") + Turns(*b, "slack") == 2; }));
    CHECK(Turns(*a, "slack") == 1);
    CHECK(Turns(*b, "slack") == 1);
    // ... and exactly one of them posted.
    REQUIRE(c.api().WaitForCalls("/api/chat.postMessage", 1));
    CHECK(Count(c.api(), "/api/chat.postMessage") == 1);
  }

  SECTION("a Teams activity (same id): one non-empty answer") {
    TeamsWebhookChat chat;
    const std::string activity = chat.Activity("customer can't log in to webmail", "same-activity-1");
    auto to_a = std::async(std::launch::async, [&] { return chat.Post(a->port(), activity); });
    auto to_b = std::async(std::launch::async, [&] { return chat.Post(b->port(), activity); });
    auto ra = to_a.get();
    auto rb = to_b.get();
    CHECK(ra.status == 200);
    CHECK(rb.status == 200);
    CHECK(ra.Says("panel") + rb.Says("panel") == 1);
    CHECK(ra.body.empty() + rb.body.empty() == 1);
  }
}

TEST_CASE("two simultaneous clicks on one question: one advances, the other is told it is stale", "[replicas]") {
  Cluster c;
  auto a = c.Replica();
  auto b = c.Replica();
  json mention = SlackFixture("app_mention.json");
  mention["event"]["text"] = "<@U0BOT> customer can't log in to webmail";
  REQUIRE(SlackPost(*a, "/slack/events", mention.dump(), "application/json")->status == 200);
  REQUIRE(c.api().WaitForCalls("/api/chat.postMessage", 1));
  json panel_question = c.api().CallsTo("/api/chat.postMessage").back().body;
  json rcp = Button(panel_question, "panel:rcp");
  REQUIRE(!rcp.is_null());
  REQUIRE(SlackPost(*b, "/slack/interactivity", Click(c.api(), panel_question, rcp, "rcp"),
                    "application/x-www-form-urlencoded")->status == 200);
  REQUIRE(c.api().WaitForCalls("/api/chat.postMessage", 2));
  json question = c.api().CallsTo("/api/chat.postMessage").back().body;
  json yes = Button(question, "yes");
  REQUIRE(!yes.is_null());

  // The same button, clicked twice at once (two browser tabs), each click reaching a replica.
  const std::string click1 = Click(c.api(), question, yes, "one");
  const std::string click2 = Click(c.api(), question, yes, "two");
  auto on_a = std::async(std::launch::async, [&] {
    return SlackPost(*a, "/slack/interactivity", click1, "application/x-www-form-urlencoded");
  });
  auto on_b = std::async(std::launch::async, [&] {
    return SlackPost(*b, "/slack/interactivity", click2, "application/x-www-form-urlencoded");
  });
  REQUIRE(on_a.get()->status == 200);
  REQUIRE(on_b.get()->status == 200);

  // Both clicks are answered through their response_url: one replaces the clicked question
  // (it advanced), the other is a private note that the button is stale.
  REQUIRE(c.api().WaitFor([](const std::vector<bot::testing::ApiCall>& calls) {
    int answered = 0;
    for (const auto& call : calls) answered += call.path == "/response/one" || call.path == "/response/two";
    return answered >= 2;
  }));
  REQUIRE(c.api().WaitForCalls("/api/chat.postMessage", 3));
  int replaced = 0, stale = 0;
  for (const auto& call : c.api().CallsTo("/response/")) {
    if (call.path == "/response/rcp") continue;
    if (call.body.value("replace_original", false)) ++replaced;
    if (call.body.value("response_type", "") == "ephemeral" &&
        call.body.dump().find("earlier question") != std::string::npos) {
      ++stale;
    }
  }
  CHECK(replaced == 1);
  CHECK(stale == 1);
  CHECK(Count(c.api(), "/api/chat.postMessage") == 3);  // mention, after rcp, after one "yes"
  CHECK(c.api().CallsTo("/api/chat.postMessage").back().body.dump().find("Step 2 of 5") != std::string::npos);

  // The store's turn log: the mention, the panel, one "yes" — nothing lost, nothing doubled.
  auto store = c.Store();
  auto outcomes = store->Outcomes(0, bot::UnixNow() + 60);
  REQUIRE(outcomes.ok());
  REQUIRE(outcomes->size() == 1);
  auto turns = store->Turns(outcomes->front().key);
  REQUIRE(turns.ok());
  REQUIRE(turns->size() == 3);
  CHECK(turns->back().input == "choice:yes");
}

TEST_CASE("Redis stopped and started under running replicas: a clear answer meanwhile, then back to normal",
          "[replicas]") {
  Cluster c;
  auto a = c.Replica();
  TeamsWebhookChat chat;
  REQUIRE(chat.Say(a->port(), "customer can't log in to webmail").Says("panel"));
  REQUIRE(Readyz(*a) == 200);

  c.redis().Stop();
  auto down = chat.Say(a->port(), "rcp");
  CHECK(down.status == 200);  // not a 5xx: the person is told what is going on
  CHECK(down.Says("Temporarily unavailable"));
  CHECK(down.Says("try again in a minute"));
  auto ready = a->Client().Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body.find("store") != std::string::npos);
  CHECK(a->Client().Get("/healthz")->status == 200);  // alive: no restart wanted

  c.redis().Start();  // the test Redis keeps no data: what it held is gone, as after a wipe
  REQUIRE(WaitUntil([&] { return Readyz(*a) == 200; }));
  TeamsWebhookChat fresh("1485983199999");
  REQUIRE(fresh.Say(a->port(), "customer can't log in to webmail").Says("panel"));
  CHECK(fresh.Say(a->port(), "rcp").Says("Step 1 of 5"));
  CHECK(MetricValue(Metrics(*a), "mailguide_turns_total{platform=\"teams-webhook\",result=\"failed\"}") >= 1);
}

TEST_CASE("a replica started while Redis is down stays up, not ready, and joins when Redis answers", "[replicas]") {
  Cluster c;
  c.redis().Stop();
  auto a = c.Replica();
  CHECK(a->Log().find("starting anyway") != std::string::npos);
  auto ready = a->Client().Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(a->Client().Get("/healthz")->status == 200);
  TeamsWebhookChat chat;
  CHECK(chat.Say(a->port(), "customer can't log in to webmail").Says("try again in a minute"));

  c.redis().Start();
  REQUIRE(WaitUntil([&] { return Readyz(*a) == 200; }));
  CHECK(chat.Say(a->port(), "customer can't log in to webmail").Says("panel"));
}
