// The real server over HTTPS on loopback with the real Slack adapter and a fake Slack Web
// API: signed requests of every kind, forged/stale/unsigned ones, retries, ordering, the
// ack budget, 429 handling, body limits and graceful shutdown. Turns come from a stub
// handler here; slack_flow_test.cpp runs the real engine.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <fstream>
#include <sstream>

#include "support/block_kit_checker.h"
#include "support/https_server_fixture.h"
#include "support/paths.h"

namespace {

using namespace bot;
using bot::testing::ApiCall;
using bot::testing::SlackServerFixture;
using bot::testing::SlackServerOptions;
using nlohmann::json;
using Clock_ = std::chrono::steady_clock;

std::string Fixture(const std::string& name) {
  std::ifstream in(bot::testing::FixturesDir() + "/slack/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lets a test hold turns inside the handler and release them when it chooses.
class Latch {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitForWaiters(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

TurnResult Question(const std::string& text) {
  Reply r;
  r.title = "Webmail login";
  r.paragraphs = {"You said: " + text};
  r.step_token = "tok-1";
  r.choices = {{"Yes", "yes"}, {"No", "no"}};
  return TurnResult{{r}, TurnStatus::kWaiting};
}

json DmEvent(const std::string& event_id, const std::string& text, const std::string& user = "U04AGENT1") {
  json e = json::parse(Fixture("message_im.json"));
  e["event_id"] = event_id;
  e["event"]["text"] = text;
  e["event"]["user"] = user;
  return e;
}

void CheckLimits(const json& message) {
  for (const auto& p : bot::testing::CheckSlackMessage(message)) FAIL_CHECK(p << "\n" << message.dump());
}

void CheckNoSecretsLogged(SlackServerFixture& f) {
  for (const auto& line : f.logs()) {
    CHECK(line.find(bot::testing::kSlackTestSecret) == std::string::npos);
    CHECK(line.find(f.api().token()) == std::string::npos);
    CHECK(line.find("/response/") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("serves /healthz over TLS 1.2+ only, with the certificate verified", "[server]") {
  SlackServerFixture f;
  REQUIRE(f.start_status().ok());
  auto res = f.Client()->Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "ok\n");
  auto old = f.Client();
  SSL_CTX_set_security_level(old->ssl_context(), 0);
  SSL_CTX_set_max_proto_version(old->ssl_context(), TLS1_1_VERSION);
  CHECK(!old->Get("/healthz"));
  auto tls12 = f.Client();
  SSL_CTX_set_max_proto_version(tls12->ssl_context(), TLS1_2_VERSION);
  CHECK(tls12->Get("/healthz"));
}

TEST_CASE("passes the Slack signing test vectors over the wire", "[server][slack]") {
  SlackServerOptions o;
  o.slack_clock = [] { return int64_t{1700000000}; };
  SlackServerFixture f(o);
  httplib::Headers h{{"X-Slack-Request-Timestamp", "1700000000"},
                     {"X-Slack-Signature", "v0=19e8e4b9e0a8b3ef8f6b7589e88906005926d9825027ceada8761d7b7da7cc88"}};
  auto res = f.Client()->Post("/slack/events", h, Fixture("url_verification.json"), "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(json::parse(res->body) == json{{"challenge", "c7a9f0e2b4d6"}});
  httplib::Headers v{{"X-Slack-Request-Timestamp", "1700000000"},
                     {"X-Slack-Signature", "v0=bd0616326d5e49702e2e64132e2d4687400ae0bab8d46fd4e8ff20b7021d9d6a"}};
  auto cmd = f.Client()->Post("/slack/commands", v, Fixture("slash_vector.form"), "application/x-www-form-urlencoded");
  REQUIRE(cmd);
  CHECK(cmd->status == 200);  // /deploy is not ours: a polite ephemeral answer, no turn
  CHECK(json::parse(cmd->body)["response_type"] == "ephemeral");
  CHECK(f.messages().empty());
}

TEST_CASE("refuses forged, stale, unsigned and duplicated-header requests with 401", "[server][slack]") {
  SlackServerFixture f;
  const std::string body = DmEvent("Ev0FORGED", "hello").dump();
  const std::string now = std::to_string(UnixNow());
  auto post = [&](httplib::Headers h, const std::string& b) {
    auto res = f.Client()->Post("/slack/events", h, b, "application/json");
    REQUIRE(res);
    return res->status;
  };
  CHECK(post({{"X-Slack-Request-Timestamp", now},
              {"X-Slack-Signature", slack::ComputeSlackSignature("wrong-secret", now, body)}},
             body) == 401);
  const std::string stale = std::to_string(UnixNow() - 301);
  CHECK(post({{"X-Slack-Request-Timestamp", stale},
              {"X-Slack-Signature", slack::ComputeSlackSignature(bot::testing::kSlackTestSecret, stale, body)}},
             body) == 401);
  CHECK(post({}, body) == 401);
  const std::string sig = slack::ComputeSlackSignature(bot::testing::kSlackTestSecret, now, body);
  CHECK(post({{"X-Slack-Request-Timestamp", now}, {"X-Slack-Signature", sig}, {"X-Slack-Signature", sig}}, body) == 401);
  // A body that would not even parse is refused for its signature first.
  CHECK(post({{"X-Slack-Request-Timestamp", now}, {"X-Slack-Signature", "v0=00"}}, "{garbage") == 401);
  // Signed garbage gets a 400 and Slack is asked not to retry it.
  auto bad = f.PostJson("{garbage");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->get_header_value("X-Slack-No-Retry") == "1");
  CHECK(f.messages().empty());
  CHECK(f.api().CallsTo("/api/chat").empty());
  CheckNoSecretsLogged(f);
}

TEST_CASE("acknowledges an event at once and delivers the answer from a worker", "[server][slack]") {
  Latch latch;
  SlackServerOptions o;
  o.handler = [&](const Message& m, const Progress&) -> Result<TurnResult> {
    latch.Wait();
    return Question(m.text);
  };
  SlackServerFixture f(o);
  const auto start = Clock_::now();
  auto res = f.PostJson(Fixture("app_mention.json"));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(Clock_::now() - start < std::chrono::seconds(1));  // while the turn is still blocked
  REQUIRE(latch.WaitForWaiters(1));
  latch.Open();
  REQUIRE(f.api().WaitForCalls("/api/chat.postMessage", 1));
  ApiCall call = f.api().CallsTo("/api/chat.postMessage").at(0);
  CHECK(call.authorization == "Bearer " + f.api().token());
  CHECK(call.body["channel"] == "C0123456789");
  CHECK(call.body["thread_ts"] == "1700000100.000300");
  CheckLimits(call.body);
  REQUIRE(f.messages().size() == 1);
  CHECK(f.messages()[0].text == "customer can't log in to webmail & sees <error> on example.com");
}

TEST_CASE("answers a retried event once", "[server][slack]") {
  SlackServerFixture f;
  const std::string body = DmEvent("Ev0RETRY", "first").dump();
  REQUIRE(f.PostJson(body)->status == 200);
  REQUIRE(f.PostJson(body, {{"X-Slack-Retry-Num", "1"}, {"X-Slack-Retry-Reason", "http_timeout"}})->status == 200);
  REQUIRE(f.api().WaitForCalls("/api/chat.postMessage", 1));
  REQUIRE(f.PostJson(body, {{"X-Slack-Retry-Num", "2"}, {"X-Slack-Retry-Reason", "http_error"}})->status == 200);
  // A later event of the same conversation runs after anything queued before it: when its
  // answer is out, a duplicate would have been too.
  REQUIRE(f.PostJson(DmEvent("Ev0SENTINEL", "second").dump())->status == 200);
  REQUIRE(f.api().WaitForCalls("/api/chat.postMessage", 2));
  CHECK(f.api().CallsTo("/api/chat.postMessage").size() == 2);
  REQUIRE(f.messages().size() == 2);
  CHECK(f.messages()[0].text == "first");
  CHECK(f.messages()[1].text == "second");
}

TEST_CASE("keeps the turns of one conversation in order", "[server][slack]") {
  SlackServerOptions o;
  o.workers = 3;
  o.handler = [](const Message& m, const Progress&) -> Result<TurnResult> {
    // Early turns are slower: without per-conversation ordering they would finish last.
    std::this_thread::sleep_for(std::chrono::milliseconds(m.text == "0" ? 150 : 5));
    return Question(m.text);
  };
  SlackServerFixture f(o);
  for (int i = 0; i < 8; ++i) REQUIRE(f.PostJson(DmEvent("Ev0ORDER" + std::to_string(i), std::to_string(i)).dump())->status == 200);
  REQUIRE(f.api().WaitForCalls("/api/chat.postMessage", 8));
  auto calls = f.api().CallsTo("/api/chat.postMessage");
  for (int i = 0; i < 8; ++i) {
    CHECK(calls[i].body["text"].get<std::string>().find("You said: " + std::to_string(i)) != std::string::npos);
  }
}

TEST_CASE("answers a slash command inline, ephemeral, and shares it on request", "[server][slack]") {
  SlackServerOptions o;
  o.handler = [](const Message& m, const Progress&) -> Result<TurnResult> {
    Reply r;
    r.title = "Answer";
    r.paragraphs = {"You asked: " + m.text};
    return TurnResult{{r}, TurnStatus::kCompleted};  // a finished answer, so it may be shared
  };
  SlackServerFixture f(o);
  const std::string form = slack::EncodeForm({{"team_id", "T0001ABCD"},
                                              {"channel_id", "C0123456789"},
                                              {"user_id", "U0987654321"},
                                              {"command", "/smtp-code"},
                                              {"text", "550 5.7.26"},
                                              {"response_url", f.api().response_url("cmd1")},
                                              {"trigger_id", "1.2.3"}});
  const auto start = Clock_::now();
  auto res = f.PostSigned("/slack/commands", form, "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(Clock_::now() - start < std::chrono::seconds(3));
  CHECK(res->status == 200);
  json answer = json::parse(res->body);
  CHECK(answer["response_type"] == "ephemeral");
  CheckLimits(answer);
  REQUIRE(f.messages().size() == 1);
  CHECK(f.messages()[0].command == "smtp-code");
  CHECK(f.messages()[0].ref.thread == "u:U0987654321");

  json click = json::parse(Fixture("block_actions_ephemeral_share.json"));
  click["response_url"] = f.api().response_url("share1");
  click["actions"][0]["value"] = answer["blocks"].back()["elements"][0]["value"];
  REQUIRE(f.PostSigned("/slack/interactivity", slack::EncodeForm({{"payload", click.dump()}}),
                       "application/x-www-form-urlencoded")->status == 200);
  REQUIRE(f.api().WaitForCalls("/response/share1", 2));
  auto calls = f.api().CallsTo("/response/share1");
  CHECK(calls[0].body["response_type"] == "in_channel");
  CheckLimits(calls[0].body);
  CHECK(calls[1].body["delete_original"] == true);
  CHECK(f.messages().size() == 1);  // sharing took no engine turn
  CheckNoSecretsLogged(f);
}

TEST_CASE("answers a slow slash command later through its response_url", "[server][slack]") {
  Latch latch;
  SlackServerOptions o;
  o.inline_budget = std::chrono::milliseconds(100);
  o.handler = [&](const Message& m, const Progress&) -> Result<TurnResult> {
    latch.Wait();
    return Question(m.text);
  };
  SlackServerFixture f(o);
  const std::string form = slack::EncodeForm({{"team_id", "T0001ABCD"}, {"channel_id", "C0123456789"},
                                              {"user_id", "U0987654321"}, {"command", "/mailguide"},
                                              {"text", "webmail"}, {"response_url", f.api().response_url("slow")}});
  auto res = f.PostSigned("/slack/events", form, "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.empty());
  latch.Open();
  REQUIRE(f.api().WaitForCalls("/response/slow", 1));
  json late = f.api().CallsTo("/response/slow").at(0).body;
  CHECK(late["response_type"] == "ephemeral");
  CheckLimits(late);
}

TEST_CASE("answers a click by updating the clicked message", "[server][slack]") {
  SlackServerFixture f;
  json click = json::parse(Fixture("block_actions.json"));
  click["response_url"] = f.api().response_url("click1");
  auto res = f.PostSigned("/slack/interactivity", slack::EncodeForm({{"payload", click.dump()}}),
                          "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.empty());
  REQUIRE(f.api().WaitForCalls("/api/chat.postMessage", 1));
  auto updates = f.api().CallsTo("/response/click1");
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].body["replace_original"] == true);
  CheckLimits(updates[0].body);
  REQUIRE(f.messages().size() == 1);
  CHECK(f.messages()[0].choice == "yes");
  CHECK(f.messages()[0].step_token == "tok-3");
}

TEST_CASE("honours a 429 Retry-After from the Web API", "[server][slack]") {
  SlackServerFixture f;
  f.api().RateLimit("chat.postMessage", 1, 1);
  REQUIRE(f.PostJson(DmEvent("Ev0LIMITED", "hi").dump())->status == 200);
  REQUIRE(f.api().WaitForCalls("/api/chat.postMessage", 1));
  auto calls = f.api().CallsTo("/api/chat.postMessage");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].status == 429);
  CHECK(calls[1].status == 200);
  CHECK(calls[1].at - calls[0].at >= std::chrono::milliseconds(1000));
}

TEST_CASE("tells the user when a turn fails instead of staying silent", "[server][slack]") {
  SlackServerOptions o;
  o.handler = [](const Message&, const Progress&) -> Result<TurnResult> { return Status::Unavailable("store down"); };
  SlackServerFixture f(o);
  REQUIRE(f.PostJson(Fixture("app_mention.json"))->status == 200);
  REQUIRE(f.api().WaitForCalls("/api/chat.postEphemeral", 1));
  auto call = f.api().CallsTo("/api/chat.postEphemeral").at(0);
  CHECK(call.body["user"] == "U04AGENT1");
  CHECK(call.body.dump().find("try again") != std::string::npos);
}

TEST_CASE("refuses chunked and oversized bodies, and unmounted platforms", "[server]") {
  SlackServerOptions o;
  o.max_body_bytes = 1024;
  SlackServerFixture f(o);
  auto chunked = f.Client()->Post(
      "/slack/events",
      [](size_t offset, httplib::DataSink& sink) {
        if (offset == 0) sink.write("{}", 2);
        sink.done();
        return true;
      },
      "application/json");
  // httplib's client may fail to read the answer of a server that refused its body without
  // reading it; either way the body never reaches the adapter.
  if (chunked) CHECK(chunked->status == 411);
  INFO(httplib::to_string(chunked.error()));
  auto big = f.PostJson(std::string(2000, ' '));
  REQUIRE(big);
  CHECK(big->status == 413);
  auto teams = f.Client()->Post("/teams/webhook", "{}", "application/json");
  REQUIRE(teams);
  CHECK(teams->status == 404);
  CHECK(f.messages().empty());
}

TEST_CASE("stops gracefully: queued deliveries finish before Stop returns", "[server][slack]") {
  Latch latch;
  SlackServerOptions o;
  o.workers = 1;
  o.handler = [&](const Message& m, const Progress&) -> Result<TurnResult> {
    latch.Wait();
    return Question(m.text);
  };
  SlackServerFixture f(o);
  for (int i = 0; i < 3; ++i) REQUIRE(f.PostJson(DmEvent("Ev0STOP" + std::to_string(i), "x", "U" + std::to_string(i)).dump())->status == 200);
  REQUIRE(latch.WaitForWaiters(1));
  std::thread stopper([&] { f.server().Stop(); });
  latch.Open();
  stopper.join();
  CHECK(f.api().CallsTo("/api/chat.postMessage").size() == 3);
  CHECK(!f.Client()->Get("/healthz"));  // no longer accepting
}
