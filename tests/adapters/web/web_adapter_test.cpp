// WebAdapter and the web chat's access rules: the token (Bearer or cookie) when one is set,
// loopback Host and same-origin checks, and the JSON turn format (bad JSON is a 400).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "adapters/web/web_access.h"
#include "adapters/web/web_adapter.h"
#include "bot/server/server.h"

using bot::HttpRequest;
using bot::Inbound;
using bot::Status;
using bot::web::CheckAccess;
using bot::web::WebAccess;
using bot::web::WebAdapter;
using bot::web::WebAdapterOptions;
using nlohmann::json;

namespace {

HttpRequest Turn(const std::string& body, const std::string& host = "127.0.0.1:8443") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/web/api/turn";
  r.headers.emplace("Host", host);
  r.headers.emplace("Content-Type", "application/json");
  r.body = body;
  r.remote_addr = "127.0.0.1";
  return r;
}

WebAdapter Adapter(const std::string& token = "") { return WebAdapter(WebAdapterOptions{WebAccess{token}}); }

}  // namespace

TEST_CASE("TokenEquals compares whole tokens", "[web]") {
  using bot::web::TokenEquals;
  CHECK(TokenEquals("s3cret-token", "s3cret-token"));
  CHECK_FALSE(TokenEquals("s3cret-tokeN", "s3cret-token"));
  CHECK_FALSE(TokenEquals("s3cret", "s3cret-token"));
  CHECK_FALSE(TokenEquals("s3cret-token-and-more", "s3cret-token"));
  CHECK_FALSE(TokenEquals("", "s3cret-token"));
  CHECK_FALSE(TokenEquals("", ""));  // an unset token never matches
}

TEST_CASE("with a token set, a request needs it as a Bearer header or the login cookie", "[web]") {
  const WebAccess access{"tok-123"};
  HttpRequest r = Turn("{}", "chat.example.net:8443");

  SECTION("none: 401") { CHECK(CheckAccess(r, access).code() == Status::Code::kUnauthenticated); }
  SECTION("a wrong Bearer: 401") {
    r.headers.emplace("Authorization", "Bearer tok-124");
    CHECK(CheckAccess(r, access).code() == Status::Code::kUnauthenticated);
  }
  SECTION("the Bearer token") {
    r.headers.emplace("Authorization", "Bearer tok-123");
    CHECK(CheckAccess(r, access).ok());
  }
  SECTION("the cookie, among others") {
    r.headers.emplace("Cookie", "theme=dark; mailguide_webchat=tok-123; other=1");
    CHECK(CheckAccess(r, access).ok());
  }
  SECTION("a wrong cookie: 401") {
    r.headers.emplace("Cookie", "mailguide_webchat=tok-12");
    CHECK(CheckAccess(r, access).code() == Status::Code::kUnauthenticated);
  }
  SECTION("an Origin other than the Host: 403 even with the token") {
    r.headers.emplace("Authorization", "Bearer tok-123");
    r.headers.emplace("Origin", "https://evil.example");
    CHECK(CheckAccess(r, access).code() == Status::Code::kPermissionDenied);
  }
  SECTION("its own Origin") {
    r.headers.emplace("Authorization", "Bearer tok-123");
    r.headers.emplace("Origin", "https://chat.example.net:8443");
    CHECK(CheckAccess(r, access).ok());
  }
}

TEST_CASE("without a token, only requests addressed to loopback get in", "[web]") {
  const WebAccess open{""};
  CHECK(CheckAccess(Turn("{}", "127.0.0.1:8443"), open).ok());
  CHECK(CheckAccess(Turn("{}", "localhost:8443"), open).ok());
  CHECK(CheckAccess(Turn("{}", "[::1]:8443"), open).ok());
  // DNS rebinding: a foreign name that resolves to 127.0.0.1.
  CHECK(CheckAccess(Turn("{}", "attacker.example:8443"), open).code() == Status::Code::kPermissionDenied);
  HttpRequest cross = Turn("{}");
  cross.headers.emplace("Origin", "http://attacker.example");
  CHECK(CheckAccess(cross, open).code() == Status::Code::kPermissionDenied);
}

TEST_CASE("the adapter's Verify applies the access rules", "[web]") {
  WebAdapter with_token = Adapter("tok-123");
  HttpRequest r = Turn("{}");
  CHECK(bot::HttpStatusFor(with_token.Verify(r)) == 401);
  r.headers.emplace("Authorization", "Bearer tok-123");
  CHECK(with_token.Verify(r).ok());
  WebAdapter open = Adapter();
  CHECK(open.Verify(Turn("{}")).ok());
}

TEST_CASE("a JSON turn decodes into a web Message answered inline", "[web]") {
  WebAdapter adapter = Adapter();

  SECTION("typed text") {
    auto in = adapter.Decode(Turn(R"({"conversation":"c-1","user":"u-1","id":"m-1","text":"cannot log in"})"));
    REQUIRE(in.ok());
    CHECK(in->kind == Inbound::Kind::kMessage);
    CHECK(in->reply_inline);
    CHECK(in->message.ref.platform == "web");
    CHECK(in->message.ref.channel == "c-1");
    CHECK(in->message.ref.user == "u-1");
    CHECK(in->message.ref.Key() == "web:local:c-1");
    CHECK(in->message.text == "cannot log in");
    CHECK(in->message.event_id == "web:c-1:m-1");
  }
  SECTION("a command") {
    auto in = adapter.Decode(Turn(R"({"conversation":"c-1","command":"smtp-code","text":"550 5.7.26"})"));
    REQUIRE(in.ok());
    CHECK(in->message.command == "smtp-code");
    CHECK(in->message.text == "550 5.7.26");
    CHECK(in->message.ref.user == "c-1");  // the user defaults to the conversation
    CHECK(in->message.event_id.empty());
  }
  SECTION("a clicked choice") {
    auto in = adapter.Decode(Turn(R"({"conversation":"c-1","choice":"yes","step_token":"webmail.1.t2"})"));
    REQUIRE(in.ok());
    CHECK(in->message.choice == "yes");
    CHECK(in->message.step_token == "webmail.1.t2");
  }
}

TEST_CASE("malformed turns are refused with a 400 and a reason", "[web]") {
  WebAdapter adapter = Adapter();
  auto status = [&](const HttpRequest& r) { return bot::HttpStatusFor(adapter.Decode(r).status()); };
  CHECK(status(Turn("not json")) == 400);
  CHECK(status(Turn("[1,2]")) == 400);
  CHECK(status(Turn(R"({"text":"no conversation"})")) == 400);
  CHECK(status(Turn(R"({"conversation":"has space","text":"x"})")) == 400);
  CHECK(status(Turn(R"({"conversation":")" + std::string(65, 'a') + R"(","text":"x"})")) == 400);
  CHECK(status(Turn(R"({"conversation":"c","text":5})")) == 400);
  CHECK(status(Turn(R"({"conversation":"c","command":"rm -rf"})")) == 400);
  CHECK(status(Turn(R"({"conversation":"c","text":")" + std::string(20001, 'x') + R"("})")) == 400);
  HttpRequest form = Turn(R"({"conversation":"c","text":"x"})");
  form.headers.erase("Content-Type");
  form.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
  CHECK(status(form) == 400);
  CHECK_THAT(adapter.Decode(Turn("not json")).status().message(), Catch::Contains("JSON"));
}

TEST_CASE("replies come back as rendered HTML with their step tokens", "[web]") {
  WebAdapter adapter = Adapter();
  auto in = adapter.Decode(Turn(R"({"conversation":"c-1","text":"hi"})"));
  REQUIRE(in.ok());
  bot::Reply r;
  r.title = "Q <1>";
  r.choices = {{"Yes", "yes", bot::Choice::Style::kPrimary}};
  r.step_token = "t-1";
  bot::HttpResponse res = adapter.RenderInline(in->message, bot::TurnResult{{r}, bot::TurnStatus::kWaiting});
  CHECK(res.status == 200);
  CHECK(res.content_type == "application/json");
  json body = json::parse(res.body);
  CHECK(body["status"] == "waiting");
  REQUIRE(body["replies"].size() == 1);
  CHECK(body["replies"][0]["step_token"] == "t-1");
  CHECK(body["replies"][0]["asks"] == true);
  CHECK_THAT(body["replies"][0]["html"].get<std::string>(), Catch::Contains("Q &lt;1&gt;"));
}

TEST_CASE("late replies are kept for the page's poll, once", "[web]") {
  WebAdapter adapter = Adapter();
  auto in = adapter.Decode(Turn(R"({"conversation":"c-9","text":"slow"})"));
  REQUIRE(in.ok());
  bot::Reply r;
  r.title = "Late";
  REQUIRE(adapter.Deliver(in->message, bot::TurnResult{{r}, bot::TurnStatus::kCompleted}).ok());

  auto other = adapter.Decode(Turn(R"({"conversation":"c-8","poll":true})"));
  REQUIRE(other.ok());
  CHECK(json::parse(other->response.body)["replies"].empty());

  auto poll = adapter.Decode(Turn(R"({"conversation":"c-9","poll":true})"));
  REQUIRE(poll.ok());
  CHECK(poll->kind == Inbound::Kind::kRespond);
  json body = json::parse(poll->response.body);
  REQUIRE(body["replies"].size() == 1);
  CHECK_THAT(body["replies"][0]["html"].get<std::string>(), Catch::Contains("Late"));
  auto again = adapter.Decode(Turn(R"({"conversation":"c-9","poll":true})"));
  CHECK(json::parse(again->response.body)["replies"].empty());
}
