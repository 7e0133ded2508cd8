// OpenSrsClient against a loopback server speaking the admin API's JSON: the envelope it
// sends, the error envelope and HTTP failures as Status, and log lines with the audit id and
// without credentials.
#include <catch2/catch.hpp>

#include <memory>
#include <mutex>

#include "bot/checks/opensrs_client.h"
#include "bot/server/httplib_client.h"
#include "support/fake_opensrs.h"

using bot::Status;
using bot::checks::OpenSrsClient;
using bot::checks::OpenSrsSettings;
using bot::testing::FakeOpenSrs;

namespace {

struct LogLines {
  std::mutex mu;
  std::vector<std::string> lines;
  OpenSrsClient::LogSink Sink() {
    return [this](const std::string& l) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(l);
    };
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu);
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

OpenSrsClient Client(const FakeOpenSrs& api, LogLines& log, const std::string& password = "") {
  OpenSrsSettings s{api.url(), api.user(), password.empty() ? api.password() : password, "mailguide-test/1"};
  return OpenSrsClient(std::make_shared<bot::HttplibClient>(), s, log.Sink());
}

}  // namespace

TEST_CASE("opensrs: POSTs the documented envelope and returns the reply with its audit id", "[checks][opensrs]") {
  FakeOpenSrs api;
  api.AddUser("jane@example.test", FakeOpenSrs::MailboxReply());
  LogLines log;
  auto client = Client(api, log);
  auto reply = client.Call("get_user", {{"user", "jane@example.test"}}, "jane@example.test");
  REQUIRE(reply.ok());
  CHECK(reply->body["attributes"]["service_webmail"] == "enabled");
  CHECK(reply->audit.rfind("fake", 0) == 0);

  auto calls = api.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "get_user");
  CHECK(calls[0].body["user"] == "jane@example.test");
  CHECK(calls[0].body["credentials"]["user"] == api.user());
  CHECK(calls[0].body["credentials"]["password"] == api.password());
  CHECK(calls[0].body["credentials"]["client"] == "mailguide-test/1");

  std::string lines = log.All();
  CHECK(lines.find("opensrs get_user jane@example.test: ok audit=" + reply->audit) != std::string::npos);
  CHECK(lines.find(api.password()) == std::string::npos);
}

TEST_CASE("opensrs: the error envelope becomes a Status naming the error and the audit id", "[checks][opensrs]") {
  FakeOpenSrs api;
  LogLines log;
  auto client = Client(api, log);
  auto missing = client.Call("get_user", {{"user", "nobody@example.test"}});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().find("get_user: error 2: The requested object does not exist [audit fake") == 0);
  CHECK(log.All().find("opensrs get_user: error 2 audit=fake") != std::string::npos);

  auto no_domain = client.Call("get_domain", {{"domain", "nowhere.test"}});
  CHECK(no_domain.status().code() == Status::Code::kNotFound);
}

TEST_CASE("opensrs: wrong credentials are Unauthenticated, and the password is in no log or message", "[checks][opensrs]") {
  FakeOpenSrs api;
  api.AddUser("jane@example.test", FakeOpenSrs::MailboxReply());
  LogLines log;
  const std::string wrong = "wrong-Passw0rd-xyz";
  auto client = Client(api, log, wrong);
  auto reply = client.Call("get_user", {{"user", "jane@example.test"}});
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.status().code() == Status::Code::kUnauthenticated);
  CHECK(reply.status().message().find("error 1: Invalid credentials supplied in request") != std::string::npos);
  CHECK(reply.status().message().find(wrong) == std::string::npos);
  CHECK(log.All().find(wrong) == std::string::npos);
  CHECK(log.All().find("audit=fake") != std::string::npos);
}

TEST_CASE("opensrs: HTTP failures and non-envelope replies are errors, never successes", "[checks][opensrs]") {
  FakeOpenSrs api;
  LogLines log;
  auto client = Client(api, log);
  auto unknown = client.Call("no_such_method", nlohmann::json::object());
  CHECK(unknown.status().code() == Status::Code::kInternal);
  CHECK(unknown.status().message().find("HTTP 404") != std::string::npos);

  api.SetHttpFailure(503);
  auto down = client.Call("get_user", {{"user", "jane@example.test"}});
  CHECK(down.status().code() == Status::Code::kUnavailable);
  CHECK(down.status().message().find("HTTP 503") != std::string::npos);

  api.SetHttpFailure(200);  // 200 with an HTML body
  auto html = client.Call("get_user", {{"user", "jane@example.test"}});
  CHECK(html.status().code() == Status::Code::kUnavailable);
  CHECK(html.status().message().find("not the documented JSON envelope") != std::string::npos);

  // Nobody listening: Unavailable, naming no credentials.
  OpenSrsSettings gone{"http://127.0.0.1:9/api", "u", "p4ss-word-zz", "t"};
  OpenSrsClient nowhere(std::make_shared<bot::HttplibClient>(), gone, log.Sink());
  auto r = nowhere.Call("get_user", {{"user", "jane@example.test"}});
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().message().find("p4ss-word-zz") == std::string::npos);
  CHECK(log.All().find("p4ss-word-zz") == std::string::npos);
}
