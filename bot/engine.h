// The conversation engine: a state machine over the flows. An adapter hands it a Message;
// it loads the conversation, takes one step, commits the new state and the turn to the
// store, and returns the replies. It knows no platform.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bot/clock.h"
#include "bot/content.h"
#include "bot/message.h"
#include "bot/probe.h"
#include "bot/rate_limiter.h"
#include "bot/session.h"
#include "bot/session_store.h"
#include "bot/status.h"

namespace bot {

struct EngineOptions {
  int64_t session_ttl_seconds = 86400;  // idle time before a conversation expires
  bool anyone_can_answer = false;       // false: only the person who started a case answers it
  int64_t event_ttl_seconds = 3600;     // how long a platform event id is remembered
  Clock clock = UnixNow;
  // Automatic checks; null: every check is asked. Not owned; must outlive the engine.
  Prober* prober = nullptr;
  std::chrono::milliseconds probe_deadline{2000};
  // Case starts and lookups per user and workspace (rate_limiter.h); default: no limits.
  RateLimits rate_limits;
};

enum class TurnStatus {
  kWaiting,    // a question is open
  kCompleted,  // the case ended (resolved, escalated, cancelled) or a one-off answer was given
  kIgnored,    // a repeated delivery: nothing to send
};

struct TurnResult {
  std::vector<Reply> replies;
  TurnStatus status = TurnStatus::kCompleted;
  // Set when this turn closed a case, for /metrics: the case's flow, how it ended
  // ("resolved", "escalated" or "abandoned") and, when resolved, the step that fixed it.
  struct ClosedCase {
    std::string flow, outcome, step;
  };
  std::optional<ClosedCase> closed = std::nullopt;
  // The replies depend on nothing but the message's command and text (an SMTP code lookup),
  // so a renderer may reuse what it rendered for the same command, text and conversation.
  bool cacheable = false;
};

// False for a turn that neither reads nor changes a conversation (an SMTP code lookup): it
// need not wait behind the conversation's other turns.
bool NeedsConversationOrder(const Message& message);

// What one step of the state machine produced; pure data, no I/O (see ApplyTurn()).
struct StepOutput {
  Session session;                 // the conversation after the turn
  std::vector<Reply> replies;
  TurnStatus status = TurnStatus::kWaiting;
  std::string remember_panel;      // non-empty: store as the user's panel preference
  bool persist = true;             // false for turns that leave no state (a code lookup, help)
  std::string input;               // the normalised input, for the turn log
  ProbeTarget probe_target;        // domain set: run the probes, then ApplyProbeResults()
  bool started_case = false;       // a new case replaced whatever `session` held before
};

// The pure heart of the engine: one turn applied to a session. `existing` is false when
// the conversation had no stored session (or it expired); `panel_preference` is the
// user's remembered panel or "".
StepOutput ApplyTurn(const Content& content, const EngineOptions& options, const Session& session,
                bool existing, bool expired, const std::string& panel_preference,
                const Message& message);

// The pure second half of a turn that started the checks with a known mailbox or domain:
// records what the probes decided, leads with a failed check as the likely cause, and asks
// only what they could not decide. Replaces `out.replies`.
void ApplyProbeResults(const Content& content, const EngineOptions& options, const Message& message,
                       const std::vector<ProbeResult>& results, StepOutput& out);

// Called at most once per turn, from the turn's own thread, with an interim reply ("Checking
// example.com…") just before the automatic checks run, so a platform can show it while
// they do; the turn's replies follow when they are done.
using Progress = std::function<void(const Reply& interim)>;

// Thread-safe. Concurrent turns of one conversation are serialised by the store's version
// check: a turn that loses the race is re-applied to the newer state.
class Engine {
 public:
  Engine(const Content& content, SessionStore& store, EngineOptions options = {});

  // Unavailable when the store cannot be reached (the caller tells the user to retry).
  Result<TurnResult> Handle(const Message& message, const Progress& progress = {});

  const Content& content() const { return content_; }
  SessionStore& store() { return store_; }

 private:
  Reply CheckCommand(const std::string& arg, const Progress& progress);
  Reply TokenCommand(const Message& message, const std::string& arg);

  const Content& content_;
  SessionStore& store_;
  EngineOptions options_;
  // Answers to short code lookups by their text: "/smtp-code 550 5.7.26" is half of the daily
  // use, and its answer depends on nothing else. Bounded; starts over when full.
  std::mutex lookups_mu_;
  std::unordered_map<std::string, std::vector<Reply>> lookups_;
};

}  // namespace bot
