// The one session encoding every store keeps: round trips, and garbage rejected as a value.
#include <string>

#include <catch2/catch.hpp>

#include "bot/session.h"

using bot::Session;
using bot::Status;

namespace {

Session FullSession() {
  Session s;
  s.key = "slack:T1:C1:1700000000.1";
  s.flow = "receiving";
  s.flow_version = "1.2.0";
  s.panel = "mac";
  s.phase = Session::Phase::kAfterFail;
  s.step = "mx-records";
  s.history = {{"status-page", "yes"}, {"mx-records", "no"}, {"detail:mailbox", "a \"quoted\"\nline é"}};
  s.owner = "slack:T1:U1";
  s.outcome = "resolved";
  s.outcome_step = "mx-records";
  s.version = 7;
  s.turn = 6;
  s.created_at = 1'700'000'000;
  s.updated_at = 1'700'000'100;
  return s;
}

}  // namespace

TEST_CASE("a session survives encoding and decoding unchanged", "[session]") {
  for (Session::Phase phase : {Session::Phase::kChoosingSection, Session::Phase::kChoosingPanel,
                               Session::Phase::kAsking, Session::Phase::kAfterFail,
                               Session::Phase::kEscalating, Session::Phase::kDone}) {
    Session s = FullSession();
    s.phase = phase;
    auto decoded = bot::DecodeSession(bot::EncodeSession(s));
    INFO(decoded.status().ToString());
    REQUIRE(decoded.ok());
    const Session& d = *decoded;
    CHECK(d.key == s.key);
    CHECK(d.flow == s.flow);
    CHECK(d.flow_version == s.flow_version);
    CHECK(d.panel == s.panel);
    CHECK(d.phase == phase);
    CHECK(d.step == s.step);
    REQUIRE(d.history.size() == s.history.size());
    for (size_t i = 0; i < s.history.size(); ++i) {
      CHECK(d.history[i].step == s.history[i].step);
      CHECK(d.history[i].value == s.history[i].value);
    }
    CHECK(d.owner == s.owner);
    CHECK(d.outcome == s.outcome);
    CHECK(d.outcome_step == s.outcome_step);
    CHECK(d.version == s.version);
    CHECK(d.turn == s.turn);
    CHECK(d.created_at == s.created_at);
    CHECK(d.updated_at == s.updated_at);
  }
}

TEST_CASE("the stored encoding keeps its exact bytes", "[session]") {
  // Stores hold these bytes; a change of encoder must not change them.
  CHECK(bot::EncodeSession(FullSession()) ==
        R"({"c":1700000000,"e":1,"f":"receiving","fv":"1.2.0","h":[["status-page","yes"],["mx-records","no"],)"
        R"(["detail:mailbox","a \"quoted\"\nline é"]],"k":"slack:T1:C1:1700000000.1","o":"slack:T1:U1",)"
        R"("os":"mx-records","out":"resolved","p":"mac","ph":"after_fail","s":"mx-records","t":6,"u":1700000100,"v":7})");
}

TEST_CASE("a fresh session round-trips with its defaults", "[session]") {
  Session s;
  s.key = "teams:tenant:chat";
  auto decoded = bot::DecodeSession(bot::EncodeSession(s));
  REQUIRE(decoded.ok());
  CHECK(decoded->phase == Session::Phase::kChoosingSection);
  CHECK(decoded->outcome == "open");
  CHECK(decoded->history.empty());
  CHECK(bot::EncodeSession(*decoded) == bot::EncodeSession(s));
}

TEST_CASE("invalid UTF-8 in an answer is replaced, not thrown", "[session]") {
  Session s = FullSession();
  s.history.push_back({"detail:bounces", std::string("bad \xff\xfe bytes")});
  std::string bytes;
  REQUIRE_NOTHROW(bytes = bot::EncodeSession(s));
  auto decoded = bot::DecodeSession(bytes);
  REQUIRE(decoded.ok());
  CHECK(decoded->history.back().value.rfind("bad ", 0) == 0);
}

TEST_CASE("decoding garbage is an InvalidArgument, never an exception", "[session]") {
  const std::string good = bot::EncodeSession(FullSession());
  auto replace = [&good](const std::string& from, const std::string& to) {
    std::string s = good;
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const std::string cases[] = {
      "",
      "not json",
      "{\"k\":",
      "[]",
      "42",
      "{}",
      replace("\"e\":1", "\"e\":2"),                 // a newer encoding
      replace("\"k\":\"slack", "\"k\":7,\"x\":\"slack"),  // key of the wrong type
      replace("\"k\":\"slack:T1:C1:1700000000.1\"", "\"k\":\"\""),
      replace("\"ph\":\"after_fail\"", "\"ph\":\"flying\""),
      replace("\"v\":7", "\"v\":\"7\""),
      replace("\"v\":7", "\"v\":7.5"),
      replace("[\"status-page\",\"yes\"]", "[\"status-page\"]"),
      replace("[\"status-page\",\"yes\"]", "[\"status-page\",1]"),
      replace("[\"status-page\",\"yes\"]", "\"status-page\""),
      std::string("{\"e\":1,\"k\":\"a\xff\"}"),
  };
  for (const std::string& bytes : cases) {
    INFO(bytes);
    bot::Result<Session> decoded = Session();
    REQUIRE_NOTHROW(decoded = bot::DecodeSession(bytes));
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == Status::Code::kInvalidArgument);
    CHECK_FALSE(decoded.status().message().empty());
  }
}

TEST_CASE("Detail returns the latest answer for an escalation field", "[session]") {
  Session s;
  s.history = {{"detail:mailbox", "old@example.com"}, {"mx-records", "no"}, {"detail:mailbox", "new@example.com"}};
  CHECK(s.Detail("mailbox") == "new@example.com");
  CHECK(s.Detail("domain") == "");
  CHECK(s.Detail("mx-records") == "");
}

TEST_CASE("every phase has its own name", "[session]") {
  CHECK(std::string(bot::PhaseName(Session::Phase::kChoosingSection)) == "choosing_section");
  CHECK(std::string(bot::PhaseName(Session::Phase::kAsking)) == "asking");
  CHECK(std::string(bot::PhaseName(Session::Phase::kDone)) == "done");
}
