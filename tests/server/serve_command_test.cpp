// `mailguide serve` as a process: configuration errors exit 2 with every problem on one
// line; a started server answers /healthz over its self-signed TLS and exits 0 on SIGTERM;
// its start-up lines say how it is connected, as info, not as warnings.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/fake_slack_api.h"
#include "support/https_server_fixture.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace {

using bot::testing::FakeSlackApi;
using bot::testing::ServeProcess;
using bot::testing::TestCertificate;
using bot::testing::TempDir;

}  // namespace

TEST_CASE("serve exits 2 naming every configuration problem on one line", "[server]") {
  auto r = bot::testing::RunMailguide({"serve"}, "",
                                      {"MAILGUIDE_LISTEN=nowhere", "MAILGUIDE_SLACK_SIGNING_SECRET=only-the-secret"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("MAILGUIDE_LISTEN") != std::string::npos);
  CHECK(r.err.find("MAILGUIDE_SLACK_BOT_TOKEN") != std::string::npos);
  CHECK(r.err.find("only-the-secret") == std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("serve generates a certificate, answers /healthz and exits 0 on SIGTERM", "[server]") {
  TempDir dir;
  ServeProcess serve({"MAILGUIDE_LISTEN=127.0.0.1:0", "MAILGUIDE_STORE=memory",
                      "MAILGUIDE_DATA_DIR=" + dir.path() + "/var", "MAILGUIDE_FLOWS=" + bot::testing::FlowsDir()},
                     {"serve"}, dir.path());
  const std::string port = serve.WaitForLine(R"(listening on https://127\.0\.0\.1:(\d+))");
  INFO(serve.Log());
  REQUIRE(!port.empty());
  CHECK(serve.Log().find("self-signed certificate") != std::string::npos);
  CHECK(serve.Log().find("slack: off") != std::string::npos);
  httplib::SSLClient client("127.0.0.1", std::stoi(port));
  client.set_ca_cert_path((dir.path() + "/var/tls/self-signed.crt").c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto slack = client.Post("/slack/events", "{}", "application/json");
  REQUIRE(slack);
  CHECK(slack->status == 404);  // Slack is off without its secrets
  CHECK(serve.Terminate() == 0);
}

TEST_CASE("serve says which Slack bot it connected as in an info line", "[server]") {
  TempDir dir;
  TestCertificate cert;
  FakeSlackApi api(cert.cert, cert.key);
  ServeProcess serve({"MAILGUIDE_LISTEN=127.0.0.1:0", "MAILGUIDE_PLAIN_HTTP=1", "MAILGUIDE_STORE=memory",
                      "MAILGUIDE_DATA_DIR=" + dir.path() + "/var", "MAILGUIDE_FLOWS=" + bot::testing::FlowsDir(),
                      std::string("MAILGUIDE_SLACK_SIGNING_SECRET=") + bot::testing::kSlackTestSecret,
                      "MAILGUIDE_SLACK_BOT_TOKEN=" + api.token(), "MAILGUIDE_SLACK_API_URL=" + api.api_url(),
                      "SSL_CERT_FILE=" + cert.cert},
                     {"serve"}, dir.path());
  REQUIRE(!serve.WaitForLine(R"(listening on http://127\.0\.0\.1:(\d+))").empty());
  INFO(serve.Log());
  nlohmann::json connected;
  std::istringstream lines(serve.Log());
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("msg", "").find("connected as") != std::string::npos) connected = j;
  }
  REQUIRE(connected.is_object());
  CHECK(connected["level"] == "info");
  CHECK(connected["msg"] == "slack: connected as user U0BOT (bot B0BOT, team T0001ABCD)");
  CHECK(serve.Terminate() == 0);
}
