// The outcomes page and its JSON: from SessionStore::Outcomes, per flow and panel how many
// cases were resolved (and at which step), escalated, abandoned or are still open, over a
// period chosen by dates or a preset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/flow.h"
#include "bot/session_store.h"
#include "bot/status.h"

namespace bot::web {

struct Period {
  int64_t since = 0;   // unix seconds, inclusive
  int64_t until = 0;   // inclusive
  std::string from;    // YYYY-MM-DD (UTC) as shown in the form; "" for all time
  std::string to;
  std::string preset;  // "today", "7d", "30d", "all", or "" for explicit dates
};

// From the query of `target`: preset=today|7d|30d|all, or from=/to= (YYYY-MM-DD, UTC, both
// inclusive; either may be left out). Nothing given: the last 30 days. InvalidArgument with
// the reason for a bad date or from after to.
Result<Period> ParsePeriod(std::string_view target, int64_t now);

struct StepOutcome {
  std::string step;      // step id
  int number = 0;        // 1-based position in its panel
  std::string question;
  int64_t resolved = 0;  // cases resolved by this step's fix
};

struct FlowOutcome {
  std::string flow;   // "" when the case never got to a section
  std::string panel;  // "" when no panel was chosen
  std::string title;
  int64_t resolved = 0, escalated = 0, abandoned = 0, open = 0;
  std::vector<StepOutcome> steps;  // every step of the panel, in order
  int64_t total() const { return resolved + escalated + abandoned + open; }
};

// One entry per flow and panel of `flows` (in the guide's order, zero counts included), then
// one for cases that never chose a section or panel, when there are any.
std::vector<FlowOutcome> SummarizeOutcomes(const FlowSet& flows, const std::vector<OutcomeRecord>& records);

nlohmann::json OutcomesJson(const Period& period, const std::vector<FlowOutcome>& summary);

// The <main> content of /outcomes: the period form, totals and one bar chart per flow.
std::string RenderOutcomesBody(const Period& period, const std::vector<FlowOutcome>& summary,
                               const std::string& error);

}  // namespace bot::web
