#include "bot/rate_limiter.h"

#include <string>

namespace bot {

namespace {

Reply Polite(const std::string& lead, int64_t window_seconds) {
  Reply r;
  r.title = "One moment, please";
  const std::string when = window_seconds == 60 ? "in a minute" : "in " + std::to_string(window_seconds) + " seconds";
  r.paragraphs = {lead, "Nothing was lost: please try again " + when + "."};
  r.ephemeral = true;
  return r;
}

}  // namespace

Result<std::optional<Reply>> RateLimiter::Admit(const ConversationRef& ref, RateKind kind) {
  if (!limits_.enabled()) return std::optional<Reply>();
  const std::string what = kind == RateKind::kStart ? "checks and lookups" : "lookups and checks";
  const std::string workspace = ref.platform + ":" + ref.workspace;
  if (limits_.user_per_minute > 0) {
    auto hits = store_.CountHit("rate:user:" + workspace + ":" + ref.user, limits_.window_seconds);
    if (!hits.ok()) return hits.status();
    if (*hits > limits_.user_per_minute) {
      return std::optional<Reply>(Polite("You have asked for " + std::to_string(limits_.user_per_minute) + " " + what +
                                             " within a minute, which is as many as mailguide takes from one person.",
                                         limits_.window_seconds));
    }
  }
  if (limits_.workspace_per_minute > 0) {
    auto hits = store_.CountHit("rate:workspace:" + workspace, limits_.window_seconds);
    if (!hits.ok()) return hits.status();
    if (*hits > limits_.workspace_per_minute) {
      return std::optional<Reply>(Polite("This workspace has asked for " + std::to_string(limits_.workspace_per_minute) +
                                             " " + what + " within a minute, which is as many as mailguide takes "
                                             "from one workspace.",
                                         limits_.window_seconds));
    }
  }
  return std::optional<Reply>();
}

}  // namespace bot
