// The web chat's pages over a real loopback server: the chat page, assets, flow map and
// outcomes in-process (bot::Server + WebPages + WebAdapter + a real Engine), the token login,
// and `mailguide serve` as a process serving the pages only with MAILGUIDE_WEBCHAT=1.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "adapters/web/web_adapter.h"
#include "adapters/web/web_map.h"
#include "adapters/web/web_outcomes.h"
#include "adapters/web/web_pages.h"
#include "bot/content.h"
#include "bot/engine.h"
#include "bot/flow_graph.h"
#include "bot/memory_session_store.h"
#include "bot/server/server.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

using nlohmann::json;

namespace {

const bot::Content& SharedContent() {
  static const bot::Content content = [] {
    auto c = bot::LoadContent(bot::testing::FlowsDir());
    if (!c.ok()) throw std::runtime_error(c.status().ToString());
    return std::move(c).value();
  }();
  return content;
}

// The web chat as `serve` mounts it, over plain HTTP on an OS-picked loopback port.
class WebServer {
 public:
  explicit WebServer(const std::string& token = "") : engine_(SharedContent(), store_) {
    bot::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.plain_http = true;
    so.workers = 2;
    so.log = [](const std::string&) {};
    server_ = std::make_unique<bot::Server>(so);
    adapter_ = std::make_unique<bot::web::WebAdapter>(bot::web::WebAdapterOptions{bot::web::WebAccess{token}});
    server_->Mount("/web/api/turn", *adapter_, bot::EngineHandler(engine_));
    bot::web::WebPagesOptions po;
    po.access.token = token;
    pages_ = std::make_unique<bot::web::WebPages>(SharedContent(), store_, po);
    for (auto& [path, handler] : pages_->Routes()) server_->MountPage(path, handler);
    bot::Status s = server_->Start();
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  ~WebServer() { server_->Stop(); }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }

  // One turn through POST /web/api/turn; the parsed answer.
  json Turn(const json& body) const {
    auto res = Client().Post("/web/api/turn", body.dump(), "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
  }

 private:
  bot::MemorySessionStore store_;
  bot::Engine engine_;
  std::unique_ptr<bot::Server> server_;
  std::unique_ptr<bot::web::WebAdapter> adapter_;
  std::unique_ptr<bot::web::WebPages> pages_;
};

std::vector<std::string> Choices(const json& reply) {
  std::vector<std::string> out;
  const std::string html = reply["html"];
  static const std::regex re("data-choice=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("the chat page, its script and stylesheet are served from the binary", "[web]") {
  WebServer web;
  auto client = web.Client();
  auto page = client.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK_THAT(page->get_header_value("Content-Security-Policy"), Catch::Contains("script-src 'self'"));
  CHECK_THAT(page->body, Catch::Contains("<textarea id=\"box\""));
  CHECK_THAT(page->body, Catch::Contains("<label for=\"box\">"));
  CHECK_THAT(page->body, Catch::Contains("role=\"log\" aria-live=\"polite\""));
  CHECK_THAT(page->body, Catch::Contains("<script src=\"/web/app.js\"></script>"));
  CHECK(page->body.find("http://") == std::string::npos);  // nothing from elsewhere
  CHECK(page->body.find("https://") == std::string::npos);

  auto js = client.Get("/web/app.js");
  REQUIRE(js);
  CHECK(js->status == 200);
  CHECK(js->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK_THAT(js->body, Catch::Contains("/web/api/turn"));
  auto css = client.Get("/web/app.css");
  REQUIRE(css);
  CHECK(css->get_header_value("Content-Type") == "text/css; charset=utf-8");
  CHECK(client.Get("/web/other.js")->status == 404);
}

TEST_CASE("a bad turn body is a 400 over the wire, and a good one runs the engine", "[web]") {
  WebServer web;
  auto bad = web.Client().Post("/web/api/turn", "{not json", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  json first = web.Turn({{"conversation", "c-1"}, {"command", "mailguide"}, {"text", "help"}});
  REQUIRE(first["replies"].size() >= 1);
  CHECK(Choices(first["replies"][0]) == std::vector<std::string>{"start:webmail", "start:receiving", "start:sending"});
}

TEST_CASE("the flow map draws every step of every flow, each linked to its text", "[web]") {
  WebServer web;
  auto map = web.Client().Get("/map");
  REQUIRE(map);
  REQUIRE(map->status == 200);
  const std::string& html = map->body;
  CHECK_THAT(html, Catch::Contains("<svg class=\"flowmap\""));
  for (const auto& flow : SharedContent().flows.flows) {
    for (const auto& [panel_id, panel] : flow.panels) {
      for (const auto& step : panel.steps) {
        const std::string id = bot::GraphNodeId(flow.id, panel_id, step.id);
        INFO(id);
        CHECK_THAT(html, Catch::Contains("href=\"#d-" + id + "\""));
        CHECK_THAT(html, Catch::Contains("<li id=\"d-" + id + "\""));
      }
    }
  }
  CHECK_THAT(html, Catch::Contains("id=\"escalation\""));
}

TEST_CASE("the map is parsed back from exactly what `flows graph` draws", "[web]") {
  const std::string mermaid = bot::DrawFlows(SharedContent().flows, bot::GraphFormat::kMermaid);
  const auto graphs = bot::web::ParseMermaidGraphs(mermaid);
  size_t panels = 0, edges = 0, arrows = 0;
  for (const auto& flow : SharedContent().flows.flows) panels += flow.panels.size();
  CHECK(graphs.size() == panels);
  for (const auto& g : graphs) edges += g.edges.size();
  for (size_t at = mermaid.find(" -->|"); at != std::string::npos; at = mermaid.find(" -->|", at + 1)) ++arrows;
  CHECK(edges == arrows);
  CHECK(graphs.front().nodes.back().terminal);
}

TEST_CASE("the outcomes page and JSON count the cases that ended in the period", "[web]") {
  WebServer web;
  // One resolved case at step 1 of webmail/RCP; one left open in sending.
  web.Turn({{"conversation", "c-1"}, {"command", "mailguide"}, {"text", "webmail rcp"}});
  json fix = web.Turn({{"conversation", "c-1"}, {"text", "no"}});
  REQUIRE(Choices(fix["replies"].back()).front() == "fixed");
  json done = web.Turn({{"conversation", "c-1"}, {"choice", "fixed"}, {"step_token", fix["replies"].back()["step_token"]}});
  CHECK(done["status"] == "completed");
  web.Turn({{"conversation", "c-2"}, {"command", "mailguide"}, {"text", "sending rcp"}});

  auto res = web.Client().Get("/outcomes.json?preset=today");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  json j = json::parse(res->body);
  CHECK(j["totals"]["cases"] == 2);
  CHECK(j["totals"]["resolved"] == 1);
  CHECK(j["totals"]["open"] == 1);
  bool found = false;
  for (const auto& f : j["flows"]) {
    if (f["flow"] == "webmail" && f["panel"] == "rcp") {
      found = true;
      CHECK(f["resolved"] == 1);
      CHECK(f["steps"][0]["resolved"] == 1);
      CHECK(f["steps"][1]["resolved"] == 0);
    }
  }
  CHECK(found);

  auto page = web.Client().Get("/outcomes?preset=all");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK_THAT(page->body, Catch::Contains("<span class=\"n\" data-outcome=\"resolved\">1</span>"));
  CHECK_THAT(page->body, Catch::Contains("<svg class=\"bar\""));
  auto bad = web.Client().Get("/outcomes?from=2026-02-30");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK_THAT(bad->body, Catch::Contains("not a date"));
}

TEST_CASE("outcome periods come from presets or dates, in UTC days", "[web]") {
  using bot::web::ParsePeriod;
  const int64_t now = 1'764'288'000 + 3600;  // 2025-11-28 01:00 UTC
  auto d = ParsePeriod("/outcomes", now);
  REQUIRE(d.ok());
  CHECK(d->preset == "30d");
  CHECK(d->from == "2025-10-30");
  CHECK(d->to == "2025-11-28");
  auto today = ParsePeriod("/outcomes?preset=today", now);
  REQUIRE(today.ok());
  CHECK(today->since == 1'764'288'000);
  CHECK(today->until == 1'764'288'000 + 86399);
  auto dates = ParsePeriod("/outcomes?from=2025-11-01&to=2025-11-02", now);
  REQUIRE(dates.ok());
  CHECK(dates->since == 1'761'955'200);
  CHECK(dates->until == 1'761'955'200 + 2 * 86400 - 1);
  CHECK(ParsePeriod("/outcomes?preset=all", now)->since == 0);
  CHECK_FALSE(ParsePeriod("/outcomes?from=2025-11-03&to=2025-11-02", now).ok());
  CHECK_FALSE(ParsePeriod("/outcomes?from=yesterday", now).ok());
  CHECK_FALSE(ParsePeriod("/outcomes?preset=forever", now).ok());
}

TEST_CASE("with a token, pages ask for it, ?token= sets a cookie, and the API wants it too", "[web]") {
  WebServer web("tok-abc");
  auto client = web.Client();
  auto login = client.Get("/");
  REQUIRE(login);
  CHECK(login->status == 401);
  CHECK_THAT(login->body, Catch::Contains("name=\"token\" type=\"password\""));
  CHECK(client.Get("/map")->status == 401);
  CHECK(client.Get("/outcomes.json")->status == 401);
  CHECK(client.Get("/?token=wrong")->status == 401);

  auto in = client.Get("/?token=tok-abc");
  REQUIRE(in);
  CHECK(in->status == 303);
  CHECK(in->get_header_value("Location") == "/");
  const std::string cookie = in->get_header_value("Set-Cookie");
  CHECK_THAT(cookie, Catch::StartsWith("mailguide_webchat=tok-abc;"));
  CHECK_THAT(cookie, Catch::Contains("HttpOnly"));
  CHECK_THAT(cookie, Catch::Contains("SameSite=Strict"));

  httplib::Headers with_cookie = {{"Cookie", "mailguide_webchat=tok-abc"}};
  CHECK(client.Get("/", with_cookie)->status == 200);
  CHECK(client.Get("/map", with_cookie)->status == 200);
  CHECK(client.Get("/web/app.css")->status == 200);  // assets need no token

  const std::string body = R"({"conversation":"c-1","command":"mailguide","text":"help"})";
  CHECK(client.Post("/web/api/turn", body, "application/json")->status == 401);
  CHECK(client.Post("/web/api/turn", httplib::Headers{{"Authorization", "Bearer tok-abc"}}, body, "application/json")
            ->status == 200);
  CHECK(client.Post("/web/api/turn", with_cookie, body, "application/json")->status == 200);
}

namespace {

// `mailguide serve` on an OS-picked loopback port, plain HTTP, memory store.
std::vector<std::string> ServeEnv(const bot::testing::TempDir& dir, std::vector<std::string> env) {
  env.push_back("MAILGUIDE_LISTEN=127.0.0.1:0");
  env.push_back("MAILGUIDE_PLAIN_HTTP=1");
  env.push_back("MAILGUIDE_STORE=memory");
  env.push_back("MAILGUIDE_DATA_DIR=" + dir.path());
  env.push_back("MAILGUIDE_FLOWS=" + bot::testing::FlowsDir());
  return env;
}

}  // namespace

TEST_CASE("mailguide serve serves the web chat only with MAILGUIDE_WEBCHAT=1", "[web]") {
  SECTION("on") {
    bot::testing::TempDir dir;
    bot::testing::ServeProcess serve(ServeEnv(dir, {"MAILGUIDE_WEBCHAT=1"}));
    const std::string port = serve.WaitForLine(R"(web: chat page on http://127\.0\.0\.1:(\d+)/)");
    INFO(serve.Log());
    REQUIRE(!port.empty());
    httplib::Client c("127.0.0.1", std::stoi(port));
    for (const char* path : {"/", "/map", "/outcomes", "/outcomes.json", "/web/app.js"}) {
      auto res = c.Get(path);
      INFO(path);
      REQUIRE(res);
      CHECK(res->status == 200);
    }
    auto turn = c.Post("/web/api/turn", R"({"conversation":"c-1","command":"smtp-code","text":"550 5.7.26"})",
                       "application/json");
    REQUIRE(turn);
    CHECK(turn->status == 200);
    CHECK_THAT(turn->body, Catch::Contains("5.7.26"));
    // The pages are counted under their own paths in /metrics, not as "other". A request is
    // observed just after its answer is written, so the scrape may come first: ask again.
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto metrics = c.Get("/metrics");
      REQUIRE(metrics);
      text = metrics->body;
      if (text.find("endpoint=\"/web/app.js\",status=\"200\"} 1") != std::string::npos &&
          text.find("endpoint=\"/map\",status=\"200\"} 1") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK_THAT(text, Catch::Contains("endpoint=\"/map\",status=\"200\"} 1"));
    CHECK_THAT(text, Catch::Contains("endpoint=\"/web/app.js\",status=\"200\"} 1"));
  }
  SECTION("off") {
    bot::testing::TempDir dir;
    bot::testing::ServeProcess serve(ServeEnv(dir, {}));
    CHECK(!serve.WaitForLine("web: off").empty());
    const int port = serve.WaitListening();
    INFO(serve.Log());
    REQUIRE(port > 0);
    httplib::Client c("127.0.0.1", port);
    for (const char* path : {"/", "/map", "/outcomes", "/outcomes.json", "/web/app.js"}) {
      auto res = c.Get(path);
      INFO(path);
      REQUIRE(res);
      CHECK(res->status == 404);
    }
    auto turn = c.Post("/web/api/turn", R"({"conversation":"c-1","text":"hi"})", "application/json");
    REQUIRE(turn);
    CHECK(turn->status == 404);
  }
}
