// Crash safety of the embedded default (issue 6): `mailguide serve` with its SQLite store is
// killed with SIGKILL right after it answered a turn, a new process starts on the same data
// directory, and the conversation continues from exactly the next step — no answered turn is
// lost or repeated. Teams outgoing-webhook turns are answered inline, so "answered" means the
// HTTP answer carrying the next question was received before the kill.
#include <catch2/catch.hpp>

#include "bot/store/store_factory.h"
#include "support/process.h"
#include "support/serve_process.h"
#include "support/teams_webhook_client.h"

namespace {

using bot::testing::ServeProcess;
using bot::testing::TeamsWebhookChat;
using bot::testing::TempDir;

std::vector<std::string> SqliteServeEnv(const std::string& data_dir) {
  return {"MAILGUIDE_LISTEN=127.0.0.1:0",
          "MAILGUIDE_PLAIN_HTTP=1",
          "MAILGUIDE_DATA_DIR=" + data_dir,
          "MAILGUIDE_FLOWS=" + bot::testing::FlowsDir(),
          std::string("MAILGUIDE_TEAMS_WEBHOOK_SECRET=") + bot::testing::kTeamsWebhookTestSecret};
}

}  // namespace

TEST_CASE("an answered turn survives kill -9: a new process continues at the next step", "[ops]") {
  TempDir dir;
  const std::string data_dir = dir.path() + "/var";
  const auto env = SqliteServeEnv(data_dir);
  TeamsWebhookChat chat;

  auto first = std::make_unique<ServeProcess>(env);
  int port = first->WaitListening();
  INFO(first->Log());
  REQUIRE(port > 0);
  auto opened = chat.Say(port, "customer can't log in to webmail");
  REQUIRE(opened.status == 200);
  REQUIRE(opened.Says("panel"));
  REQUIRE(chat.Say(port, "rcp").Says("Step 1 of 5"));
  REQUIRE(chat.Say(port, "skip").Says("Step 2 of 5"));

  // Twice: kill -9 right after an answered turn, then continue on a new process.
  std::unique_ptr<ServeProcess> current = std::move(first);
  for (int step = 3; step <= 4; ++step) {
    current->Kill9();
    current = std::make_unique<ServeProcess>(env);
    port = current->WaitListening();
    INFO(current->Log());
    REQUIRE(port > 0);
    auto next = chat.Say(port, "skip");
    REQUIRE(next.status == 200);
    CHECK(next.Says("Step " + std::to_string(step) + " of 5"));
  }
  current->Kill9();

  // The turn log holds each answered turn exactly once, in order.
  auto store = bot::OpenStore("", data_dir);
  REQUIRE(store.ok());
  auto outcomes = (*store)->Outcomes(0, bot::UnixNow() + 60);
  REQUIRE(outcomes.ok());
  REQUIRE(outcomes->size() == 1);
  auto turns = (*store)->Turns(outcomes->front().key);
  REQUIRE(turns.ok());
  std::vector<std::string> inputs;
  for (const auto& t : *turns) inputs.push_back(t.input);
  REQUIRE(inputs.size() == 5);
  CHECK(inputs[1] == "text:rcp");
  CHECK(inputs[2] == "skip");
  CHECK(inputs[3] == "skip");
  CHECK(inputs[4] == "skip");
}
