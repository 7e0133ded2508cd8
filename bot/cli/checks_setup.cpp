#include "bot/cli/checks_setup.h"

#include <algorithm>
#include <cstdlib>

#include "bot/server/httplib_client.h"

namespace bot::cli {

Result<ChecksSetup> SetUpChecks(const std::string& flows_dir, bool for_conversations,
                                const std::function<void(const std::string&)>& log) {
  auto config = checks::ChecksConfigFromEnv(flows_dir);
  if (!config.ok()) return config.status();
  ChecksSetup setup;
  setup.config = *config;

  if (for_conversations) {
    const char* env = std::getenv("MAILGUIDE_CHECKS");
    std::string mode = env ? env : "";
    if (!mode.empty() && mode != "0" && mode != "1") {
      return Status::InvalidArgument("MAILGUIDE_CHECKS must be 1 (on) or 0 (off), not '" + mode + "'");
    }
    bool asked_for = !setup.config.dns_server.empty() || setup.config.provider_configured();
    bool on = mode == "1" || (mode.empty() && asked_for);
    if (!on) {
      setup.summary = mode == "0" ? "checks: off (MAILGUIDE_CHECKS=0)"
                                  : "checks: off in conversations (set MAILGUIDE_CHECKS=1, MAILGUIDE_DNS_SERVER or "
                                    "the MAILGUIDE_OPENSRS_* credentials to run DNS and provider checks)";
      return setup;
    }
  }

  // Outbound calls of the checks get at most the checks' own deadline.
  HttplibClientOptions http_options;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(setup.config.deadline + std::chrono::milliseconds(999));
  http_options.connect_timeout = std::max<std::chrono::seconds>(seconds, std::chrono::seconds(1));
  http_options.read_timeout = http_options.connect_timeout;
  http_options.write_timeout = http_options.connect_timeout;
  http_options.ca_cert_file = setup.config.opensrs_ca_file;
  auto prober = checks::MakeCheckProber(setup.config, std::make_shared<HttplibClient>(http_options), log);
  if (!prober.ok()) return prober.status();
  setup.prober = std::move(prober).value();
  setup.summary = std::string("checks: on (DNS via ") +
                  (setup.config.dns_server.empty() ? "the system resolver" : setup.config.dns_server) + "; provider API " +
                  (setup.config.provider_configured() ? "on as " + setup.config.opensrs_role : "off") + ")";
  return setup;
}

}  // namespace bot::cli
