// The conversation engine: a state machine over the flows. An adapter hands it a Message;
// it loads the conversation, takes one step, commits the new state and the turn to the
// store, and returns the replies. It knows no platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bot/clock.h"
#include "bot/content.h"
#include "bot/message.h"
#include "bot/session.h"
#include "bot/session_store.h"
#include "bot/status.h"

namespace bot {

struct EngineOptions {
  int64_t session_ttl_seconds = 86400;  // idle time before a conversation expires
  bool anyone_can_answer = false;       // false: only the person who started a case answers it
  int64_t event_ttl_seconds = 3600;     // how long a platform event id is remembered
  Clock clock = UnixNow;
};

enum class TurnStatus {
  kWaiting,    // a question is open
  kCompleted,  // the case ended (resolved, escalated, cancelled) or a one-off answer was given
  kIgnored,    // a repeated delivery: nothing to send
};

struct TurnResult {
  std::vector<Reply> replies;
  TurnStatus status = TurnStatus::kCompleted;
};

// What one step of the state machine produced; pure data, no I/O (see ApplyTurn()).
struct StepOutput {
  Session session;                 // the conversation after the turn
  std::vector<Reply> replies;
  TurnStatus status = TurnStatus::kWaiting;
  std::string remember_panel;      // non-empty: store as the user's panel preference
  bool persist = true;             // false for turns that leave no state (a code lookup, help)
  std::string input;               // the normalised input, for the turn log
};

// The pure heart of the engine: one turn applied to a session. `existing` is false when
// the conversation had no stored session (or it expired); `panel_preference` is the
// user's remembered panel or "".
StepOutput ApplyTurn(const Content& content, const EngineOptions& options, const Session& session,
                bool existing, bool expired, const std::string& panel_preference,
                const Message& message);

// Thread-safe. Concurrent turns of one conversation are serialised by the store's version
// check: a turn that loses the race is re-applied to the newer state.
class Engine {
 public:
  Engine(const Content& content, SessionStore& store, EngineOptions options = {});

  // Unavailable when the store cannot be reached (the caller tells the user to retry).
  Result<TurnResult> Handle(const Message& message);

  const Content& content() const { return content_; }
  SessionStore& store() { return store_; }

 private:
  const Content& content_;
  SessionStore& store_;
  EngineOptions options_;
};

}  // namespace bot
