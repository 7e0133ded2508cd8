// The provider checks: the admin API calls a ProviderMap names, made in parallel within a
// deadline, and the map's rules applied to the replies, one bot::ProbeResult per mapped probe.
// Token generation is separate and only on request.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bot/checks/in_flight.h"
#include "bot/checks/opensrs_client.h"
#include "bot/checks/provider_map.h"
#include "bot/probe.h"

namespace bot::checks {

class ProviderChecks {
 public:
  // `role`: the role of the configured login (MAILGUIDE_OPENSRS_ROLE). `in_flight` counts the
  // calls still running after Run() returned at its deadline (null: a private counter).
  ProviderChecks(std::shared_ptr<const OpenSrsClient> client, ProviderMap map, std::string role,
                 std::shared_ptr<InFlight> in_flight = nullptr);

  // The probe ids, in the map's order.
  std::vector<std::string> ProbeIds() const;

  // Every mapped probe. Calls that need a mailbox are skipped for a domain-only target (their
  // probes say unknown and why); a call still unanswered at `deadline` counts as failed.
  std::vector<ProbeResult> Run(const ProbeTarget& target, std::chrono::steady_clock::time_point deadline) const;

  // generate_token for `mailbox`, with the agent's `reason` (required by the API). Refused with
  // PermissionDenied, without calling the API, when the map lists no token method or the
  // configured role is not among the roles that may generate tokens.
  Result<MailboxToken> GenerateToken(const std::string& mailbox, const std::string& reason) const;

  // The map's probes, each unknown with `reason` (e.g. "the provider API is not configured").
  static std::vector<ProbeResult> AllUnknown(const ProviderMap& map, const std::string& reason);

  // Applies one probe's rules to replies already fetched (exposed for tests). `replies` has an
  // entry per call the probe's parts name; a missing entry means the call was not made because
  // the target has no mailbox.
  static ProbeResult Evaluate(const MapProbe& probe, const ProviderMap& map,
                              const std::map<std::string, Result<OpenSrsReply>>& replies, const MapVars& vars);

 private:
  std::shared_ptr<const OpenSrsClient> client_;
  ProviderMap map_;
  std::string role_;
  std::shared_ptr<InFlight> in_flight_;
};

}  // namespace bot::checks
