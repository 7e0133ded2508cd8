// `mailguide serve` as a process: configuration errors exit 2 with every problem on one
// line; a started server answers /healthz over its self-signed TLS and exits 0 on SIGTERM.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <regex>

#include "support/paths.h"
#include "support/process.h"
#include "support/serve_process.h"

namespace {

using bot::testing::ServeProcess;
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
