#include "bot/probe.h"

namespace bot {

const char* OutcomeName(ProbeResult::Outcome outcome) {
  switch (outcome) {
    case ProbeResult::Outcome::kPass: return "pass";
    case ProbeResult::Outcome::kFail: return "fail";
    case ProbeResult::Outcome::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace bot
