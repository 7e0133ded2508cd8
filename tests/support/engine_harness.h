// A conversation against the shipped flows with an in-memory store and a clock the test
// moves: the engine under test is the real one, only time and storage are local.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "bot/content.h"
#include "bot/engine.h"
#include "bot/memory_session_store.h"
#include "support/paths.h"

namespace bot::testing {

// The shipped content, loaded once per test binary.
inline const Content& ShippedContent() {
  static const Content* content = [] {
    auto loaded = LoadContent(FlowsDir());
    if (!loaded.ok()) FAIL("shipped flows do not load: " << loaded.status().ToString());
    return new Content(std::move(loaded).value());
  }();
  return *content;
}

inline std::string AllText(const TurnResult& turn) {
  std::string out;
  for (const auto& r : turn.replies) out += r.PlainText() + "\n";
  return out;
}

class Conversation {
 public:
  explicit Conversation(EngineOptions options = {}, std::string user = "U1", std::string thread = "T1")
      : options_(std::move(options)) {
    options_.clock = [this] { return now_; };
    store_ = std::make_unique<MemorySessionStore>([this] { return now_; });
    engine_ = std::make_unique<Engine>(ShippedContent(), *store_, options_);
    ref_.platform = "test";
    ref_.workspace = "W1";
    ref_.channel = "C1";
    ref_.thread = std::move(thread);
    ref_.user = std::move(user);
  }

  TurnResult Say(const std::string& text) {
    Message m = Base();
    m.text = text;
    return Send(m);
  }
  TurnResult Command(const std::string& command, const std::string& text) {
    Message m = Base();
    m.command = command;
    m.text = text;
    return Send(m);
  }
  // Clicks a button of the latest reply that offered choices (or of an older token if given).
  TurnResult Click(const std::string& value, const std::string& token = "") {
    Message m = Base();
    m.choice = value;
    m.step_token = token.empty() ? last_token_ : token;
    return Send(m);
  }
  TurnResult Send(const Message& m) {
    auto turn = engine_->Handle(m, progress_);
    REQUIRE(turn.ok());
    for (const auto& r : turn->replies) {
      if (!r.step_token.empty()) last_token_ = r.step_token;
    }
    last_ = *turn;
    return *turn;
  }
  Message Base() const {
    Message m;
    m.ref = ref_;
    return m;
  }

  void As(const std::string& user) { ref_.user = user; }
  void OnProgress(Progress progress) { progress_ = std::move(progress); }
  void Advance(int64_t seconds) { now_ += seconds; }
  const std::string& last_token() const { return last_token_; }
  MemorySessionStore& store() { return *store_; }
  Session Stored() {
    auto s = store_->Load(ref_.Key());
    REQUIRE(s.ok());
    REQUIRE(s->has_value());
    return **s;
  }

 private:
  EngineOptions options_;
  int64_t now_ = 1'700'000'000;
  std::unique_ptr<MemorySessionStore> store_;
  std::unique_ptr<Engine> engine_;
  ConversationRef ref_;
  std::string last_token_;
  TurnResult last_;
  Progress progress_;
};

}  // namespace bot::testing
