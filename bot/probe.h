// Automatic checks: a Prober looks at outside evidence (DNS, the provider's admin API) and
// decides guide steps by their `probe` id, so a conversation can start from "here is what is
// wrong" instead of ten questions. The engine works without one.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bot/status.h"

namespace bot {

// What the probes look at: a mailbox ("alice@example.com") and/or its domain.
struct ProbeTarget {
  std::string mailbox;  // may be empty
  std::string domain;   // never empty when probing
};

struct ProbeResult {
  enum class Outcome { kPass, kFail, kUnknown };
  std::string id;       // the probe id flows name in a step's "probe", e.g. "mx", "webmail-enabled"
  Outcome outcome = Outcome::kUnknown;
  std::string detail;   // the evidence, one or two plain sentences ("MX 10 mx1.example.net")
};

const char* OutcomeName(ProbeResult::Outcome outcome);  // "pass", "fail", "unknown"

// A one-time sign-in token for a mailbox, made by the provider at an agent's request.
struct MailboxToken {
  std::string token;       // a secret: shown to the agent who asked, logged nowhere
  std::string audit;       // the provider's audit id for the call
  int duration_hours = 0;  // 0: not stated
};

// Thread-safe. Implementations run their probes in parallel and return within the deadline;
// a probe that could not decide (timeout, SERVFAIL, API error, not configured) says
// kUnknown with the reason — never a pass.
class Prober {
 public:
  Prober() = default;
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;
  virtual ~Prober() = default;

  virtual std::vector<ProbeResult> Run(const ProbeTarget& target, std::chrono::milliseconds deadline) = 0;

  // Asks the provider for an email token for `mailbox`, recording the agent's `reason`.
  // PermissionDenied when this prober cannot (no provider configured, a read-only role).
  virtual Result<MailboxToken> GenerateToken(const std::string& mailbox, const std::string& reason) {
    (void)mailbox;
    (void)reason;
    return Status::PermissionDenied("these automatic checks cannot make email tokens");
  }
};

}  // namespace bot
