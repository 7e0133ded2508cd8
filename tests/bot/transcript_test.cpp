// Replays the scripted conversations in tests/transcripts/*.json through the engine.
// Each turn says, clicks or runs a command, and may check what the bot answered.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/engine_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* StatusName(bot::TurnStatus s) {
  switch (s) {
    case bot::TurnStatus::kWaiting: return "waiting";
    case bot::TurnStatus::kCompleted: return "completed";
    case bot::TurnStatus::kIgnored: return "ignored";
  }
  return "?";
}

void Replay(const fs::path& file) {
  std::ifstream in(file);
  json script = json::parse(in);
  bot::EngineOptions options;
  if (script.contains("options")) {
    options.anyone_can_answer = script["options"].value("anyone_can_answer", false);
    options.session_ttl_seconds = script["options"].value("session_ttl_seconds", int64_t{86400});
  }
  bot::testing::Conversation c(options);
  int n = 0;
  for (const auto& turn : script.at("turns")) {
    ++n;
    INFO(file.filename().string() << " turn " << n << ": " << turn.dump());
    if (turn.contains("as")) c.As(turn["as"]);
    if (turn.contains("advance")) c.Advance(turn["advance"].get<int64_t>());
    bot::TurnResult result;
    if (turn.contains("click")) {
      result = c.Click(turn["click"]);
    } else if (turn.contains("command")) {
      result = c.Command(turn["command"], turn.value("say", ""));
    } else if (turn.contains("say")) {
      result = c.Say(turn["say"]);
    } else {
      continue;
    }
    if (!turn.contains("expect")) continue;
    const json& expect = turn["expect"];
    std::string text = bot::testing::AllText(result);
    INFO("bot said:\n" << text);
    for (const auto& s : expect.value("contains", json::array())) CHECK(text.find(s.get<std::string>()) != std::string::npos);
    for (const auto& s : expect.value("not_contains", json::array())) CHECK(text.find(s.get<std::string>()) == std::string::npos);
    if (expect.contains("status")) CHECK(StatusName(result.status) == expect["status"].get<std::string>());
    if (expect.contains("choices")) {
      REQUIRE_FALSE(result.replies.empty());
      std::vector<std::string> labels;
      for (const auto& ch : result.replies.back().choices) labels.push_back(ch.label);
      CHECK(labels == expect["choices"].get<std::vector<std::string>>());
    }
    if (expect.contains("progress")) CHECK(result.replies.back().progress == expect["progress"].get<std::string>());
    if (expect.contains("outcome")) CHECK(c.Stored().outcome == expect["outcome"].get<std::string>());
  }
}

}  // namespace

TEST_CASE("replays every transcript in tests/transcripts", "[transcript]") {
  fs::path dir = bot::testing::SourceDir() + "/tests/transcripts";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 3);
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) { Replay(f); }
  }
}
