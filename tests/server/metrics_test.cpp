// /metrics: the primitives and their Prometheus text rendering, the Telemetry seams (requests,
// turns and flow outcomes, signature failures, replies, retries) and the engine's report of the
// case a turn closed.
#include <catch2/catch.hpp>

#include <thread>

#include "bot/server/telemetry.h"
#include "support/engine_harness.h"
#include "support/serve_process.h"

namespace {

using bot::testing::MetricValue;

// An adapter whose answers the test sets.
class ScriptedAdapter final : public bot::Adapter {
 public:
  const char* Name() const override { return "scripted"; }
  bot::Status Verify(const bot::HttpRequest&) override { return verify; }
  bot::Result<bot::Inbound> Decode(const bot::HttpRequest&) override { return bot::Inbound{}; }
  bot::HttpResponse RenderInline(const bot::Message&, const bot::TurnResult&) override { return {}; }
  bot::Status Deliver(const bot::Message&, const bot::TurnResult&) override { return deliver; }
  bot::Status verify, deliver;
};

}  // namespace

TEST_CASE("renders counters, gauges and histograms in the Prometheus text format", "[metrics]") {
  bot::CounterFamily c("demo_requests_total", "Requests.\nSecond line", {"endpoint", "status"});
  c.With({"/a", "200"}).Inc();
  c.With({"/a", "200"}).Inc(2);
  c.With({"say \"hi\"\\\n", "500"}).Inc();
  bot::GaugeFamily g("demo_live", "Live.", {});
  g.With({}).Set(2.5);
  bot::HistogramFamily h("demo_seconds", "Latency.", {"endpoint"}, {0.1, 1});
  h.With({"/a"}).Observe(0.05);
  h.With({"/a"}).Observe(0.5);
  h.With({"/a"}).Observe(7);
  std::string out;
  bot::RenderFamily(c, out);
  bot::RenderFamily(g, out);
  bot::RenderFamily(h, out);
  CHECK(out ==
        "# HELP demo_requests_total Requests.\\nSecond line\n"
        "# TYPE demo_requests_total counter\n"
        "demo_requests_total{endpoint=\"/a\",status=\"200\"} 3\n"
        "demo_requests_total{endpoint=\"say \\\"hi\\\"\\\\\\n\",status=\"500\"} 1\n"
        "# HELP demo_live Live.\n"
        "# TYPE demo_live gauge\n"
        "demo_live 2.5\n"
        "# HELP demo_seconds Latency.\n"
        "# TYPE demo_seconds histogram\n"
        "demo_seconds_bucket{endpoint=\"/a\",le=\"0.1\"} 1\n"
        "demo_seconds_bucket{endpoint=\"/a\",le=\"1\"} 2\n"
        "demo_seconds_bucket{endpoint=\"/a\",le=\"+Inf\"} 3\n"
        "demo_seconds_sum{endpoint=\"/a\"} 7.55\n"
        "demo_seconds_count{endpoint=\"/a\"} 3\n");
}

TEST_CASE("counts every increment from many threads at once", "[metrics]") {
  bot::CounterFamily c("demo_total", "Demo.", {"thread"});
  bot::HistogramFamily h("demo_seconds", "Demo.", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.With({std::to_string(t % 2)}).Inc();
        h.With({}).Observe(i % 2 ? 1.0 : 0.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c.With({"0"}).Value() + c.With({"1"}).Value() == 80000);
  CHECK(h.With({}).Count() == 80000);
  CHECK(h.With({}).BucketCount(0) == 40000);
  CHECK(h.With({}).Sum() == 40000.0);
}

TEST_CASE("telemetry counts requests by named endpoint and files unknown paths under 'other'", "[metrics]") {
  std::vector<std::string> lines;
  bot::Logger logger([&](const std::string& line) { lines.push_back(line); });
  bot::TelemetryOptions o;
  o.logger = &logger;
  bot::Telemetry t(o);
  t.AddEndpoint("/slack/events", "slack");
  t.ObserveRequest({"id1", "POST", "/slack/events", "10.0.0.1", 200, 12.34});
  t.ObserveRequest({"id2", "GET", "/wp-login.php", "10.0.0.2", 404, 0.2});
  const std::string text = t.Render();
  CHECK(MetricValue(text, "mailguide_http_requests_total{endpoint=\"/slack/events\",status=\"200\"}") == 1);
  CHECK(MetricValue(text, "mailguide_http_requests_total{endpoint=\"other\",status=\"404\"}") == 1);
  CHECK(MetricValue(text, "mailguide_http_request_duration_seconds_bucket{endpoint=\"/slack/events\",le=\"0.025\"}") == 1);
  CHECK(MetricValue(text, "mailguide_http_request_duration_seconds_bucket{endpoint=\"/slack/events\",le=\"0.01\"}") == 0);
  CHECK(text.find("wp-login") == std::string::npos);

  REQUIRE(lines.size() == 2);
  auto first = nlohmann::json::parse(lines[0]);
  CHECK(first["level"] == "info");
  CHECK(first["event"] == "request");
  CHECK(first["request_id"] == "id1");
  CHECK(first["endpoint"] == "/slack/events");
  CHECK(first["platform"] == "slack");
  CHECK(first["status"] == 200);
  CHECK(first["latency_ms"] == 12.3);
  CHECK(!first.contains("path"));
  auto second = nlohmann::json::parse(lines[1]);
  CHECK(second["endpoint"] == "other");
  CHECK(second["path"] == "/wp-login.php");
  CHECK(!second.contains("platform"));
}

TEST_CASE("telemetry counts turns, closed cases, signature failures, replies and retries", "[metrics]") {
  bot::Telemetry t({});
  ScriptedAdapter scripted;
  bot::MeteredAdapter metered(scripted, t);
  CHECK(std::string(metered.Name()) == "scripted");

  scripted.verify = bot::Status::Unauthenticated("bad signature");
  CHECK(metered.Verify({}).code() == bot::Status::Code::kUnauthenticated);
  scripted.verify = bot::Status::Ok();
  CHECK(metered.Verify({}).ok());

  bot::TurnResult two{{bot::Reply{}, bot::Reply{}}, bot::TurnStatus::kWaiting};
  CHECK(metered.Deliver({}, two).ok());
  scripted.deliver = bot::Status::Unavailable("down");
  CHECK(!metered.Deliver({}, two).ok());
  metered.RenderInline({}, two);

  auto sleep = t.CountingSleep("scripted", [](std::chrono::milliseconds) {});
  sleep(std::chrono::milliseconds(500));
  sleep(std::chrono::milliseconds(1000));

  bot::TurnResult resolved{{bot::Reply{}}, bot::TurnStatus::kCompleted};
  resolved.closed = bot::TurnResult::ClosedCase{"webmail", "resolved", "password"};
  auto handler = t.Wrap("scripted", [&](const bot::Message& m, const bot::Progress&) -> bot::Result<bot::TurnResult> {
    if (m.text == "dup") return bot::TurnResult{{}, bot::TurnStatus::kIgnored};
    if (m.text == "fail") return bot::Status::Unavailable("store down");
    return resolved;
  });
  bot::Message m;
  m.text = "ok";
  CHECK(handler(m, {}).ok());
  m.text = "dup";
  CHECK(handler(m, {}).ok());
  m.text = "fail";
  CHECK(!handler(m, {}).ok());

  const std::string text = t.Render();
  CHECK(MetricValue(text, "mailguide_signature_failures_total{platform=\"scripted\"}") == 1);
  CHECK(MetricValue(text, "mailguide_replies_sent_total{platform=\"scripted\"}") == 4);
  CHECK(MetricValue(text, "mailguide_replies_failed_total{platform=\"scripted\"}") == 2);
  CHECK(MetricValue(text, "mailguide_outbound_retries_total{platform=\"scripted\"}") == 2);
  CHECK(MetricValue(text, "mailguide_turns_total{platform=\"scripted\",result=\"answered\"}") == 1);
  CHECK(MetricValue(text, "mailguide_turns_total{platform=\"scripted\",result=\"duplicate\"}") == 1);
  CHECK(MetricValue(text, "mailguide_turns_total{platform=\"scripted\",result=\"failed\"}") == 1);
  CHECK(MetricValue(text, "mailguide_flow_outcomes_total{flow=\"webmail\",outcome=\"resolved\",step=\"password\"}") == 1);
}

TEST_CASE("the live-conversation gauge asks the store at most once per cache period", "[metrics]") {
  int asked = 0;
  bool up = true;
  bot::TelemetryOptions o;
  o.live_cache = std::chrono::seconds(3600);
  o.live_conversations = [&]() -> bot::Result<int64_t> {
    ++asked;
    if (!up) return bot::Status::Unavailable("down");
    return int64_t{7};
  };
  bot::Telemetry t(o);
  CHECK(MetricValue(t.Render(), "mailguide_live_conversations") == 7);
  CHECK(MetricValue(t.Render(), "mailguide_store_up") == 1);
  CHECK(asked == 1);

  bot::TelemetryOptions failing = o;
  failing.live_cache = std::chrono::seconds(0);
  bot::Telemetry u(failing);
  CHECK(MetricValue(u.Render(), "mailguide_live_conversations") == 7);
  up = false;
  const std::string text = u.Render();
  CHECK(MetricValue(text, "mailguide_store_up") == 0);
  CHECK(MetricValue(text, "mailguide_live_conversations") == 7);  // the last known count
}

TEST_CASE("the engine reports the case a turn closed: resolved at a step, escalated, abandoned", "[metrics]") {
  using bot::testing::Conversation;
  SECTION("resolved where the fix worked") {
    Conversation c;
    c.Say("customer can't log in to webmail");
    CHECK(!c.Say("rcp").closed);
    auto fail = c.Say("no");
    CHECK(!fail.closed);
    auto fixed = c.Say("fixed");
    REQUIRE(fixed.closed);
    CHECK(fixed.closed->flow == "webmail");
    CHECK(fixed.closed->outcome == "resolved");
    CHECK(fixed.closed->step == "mailbox-exists");
  }
  SECTION("abandoned by cancel") {
    Conversation c;
    c.Say("customer can't log in to webmail");
    c.Say("rcp");
    auto cancelled = c.Say("cancel");
    REQUIRE(cancelled.closed);
    CHECK(cancelled.closed->outcome == "abandoned");
    CHECK(cancelled.closed->step.empty());
    CHECK(!c.Say("cancel").closed);  // nothing open any more
  }
  SECTION("abandoned by starting over in another section") {
    Conversation c;
    c.Say("customer can't log in to webmail");
    c.Say("rcp");
    auto other = c.Command("mailguide", "sending");
    REQUIRE(other.closed);
    CHECK(other.closed->flow == "webmail");
    CHECK(other.closed->outcome == "abandoned");
  }
  SECTION("escalated when the checks run out") {
    Conversation c;
    c.Say("customer can't log in to webmail");
    c.Say("rcp");
    std::optional<bot::TurnResult::ClosedCase> closed;
    for (int i = 0; i < 30 && !closed; ++i) {
      auto t = c.Say("skip");
      closed = t.closed;
    }
    REQUIRE(closed);
    CHECK(closed->outcome == "escalated");
  }
}
