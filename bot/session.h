// The state of one conversation, and its single encoding shared by every store, so SQLite
// and Redis hold identical bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bot/status.h"

namespace bot {

// One answer, kept so that "back" can undo it and the escalation summary can list it.
struct Answer {
  std::string step;   // step id, or "detail:<field>" for an escalation detail
  std::string value;  // "yes", "no", "skip", "fixed", or the detail's text
};

struct Session {
  enum class Phase {
    kChoosingSection,  // asked which symptom
    kChoosingPanel,    // asked RCP or MAC
    kAskingTarget,     // asked which mailbox or domain, so automatic checks can run
    kAsking,           // asked `step`
    kAfterFail,        // gave the fix for `step`, asked whether it fixed it
    kEscalating,       // asking for escalation detail `step`
    kDone,             // resolved, escalated or cancelled
  };

  std::string key;           // ConversationRef::Key()
  std::string flow;          // section id; empty until chosen
  std::string flow_version;  // pinned when the flow starts
  std::string panel;         // "rcp" / "mac"; empty until chosen
  Phase phase = Phase::kChoosingSection;
  std::string step;
  std::vector<Answer> history;
  std::string owner;         // user who started the case
  std::string outcome = "open";  // "open", "resolved", "escalated", "abandoned"
  std::string outcome_step;      // where it was resolved
  int64_t version = 0;       // bumped by every save; guards concurrent writers
  int64_t turn = 0;          // answered turns; part of every step token
  int64_t created_at = 0;    // unix seconds
  int64_t updated_at = 0;

  // The value of escalation detail `field`, or "" when not given.
  std::string Detail(const std::string& field) const;
};

const char* PhaseName(Session::Phase phase);

std::string EncodeSession(const Session& session);
Result<Session> DecodeSession(std::string_view bytes);

}  // namespace bot
