// Builds the automatic checks (DNS and the provider's admin API) from the environment, the
// same way for `serve`, `chat` and `check`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "bot/checks/config.h"
#include "bot/checks/prober.h"
#include "bot/status.h"

namespace bot::cli {

struct ChecksSetup {
  checks::ChecksConfig config;
  std::unique_ptr<checks::CheckProber> prober;  // null when conversations run no checks
  std::string summary;                          // one start-up line saying on or off, and why
};

// `for_conversations`: honour MAILGUIDE_CHECKS — "1" on, "0" off, unset: on when
// MAILGUIDE_DNS_SERVER or the provider API is configured (a deployment that asked for
// checks), off otherwise, so a bot on a closed network never waits on DNS it cannot reach.
// `mailguide check` passes false and always gets a prober. InvalidArgument names the
// variable at fault.
Result<ChecksSetup> SetUpChecks(const std::string& flows_dir, bool for_conversations,
                                const std::function<void(const std::string&)>& log);

}  // namespace bot::cli
