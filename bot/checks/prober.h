// CheckProber: the bot::Prober of mailguide — the DNS checks (mx, spf, dmarc, dkim) and the
// provider checks of flows/checks/opensrs.json, all in parallel within one deadline, one result
// per probe id, always in the same order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bot/checks/config.h"
#include "bot/checks/dns_checks.h"
#include "bot/checks/provider_checks.h"
#include "bot/http.h"
#include "bot/probe.h"

namespace bot::checks {

inline constexpr const char* kProviderNotConfigured =
    "The provider API is not configured (set MAILGUIDE_OPENSRS_USER and MAILGUIDE_OPENSRS_PASSWORD).";

class CheckProber final : public Prober {
 public:
  // `provider` may be null: then every provider probe is unknown with kProviderNotConfigured.
  // `map` supplies the provider probe ids either way.
  CheckProber(std::shared_ptr<const DnsResolver> dns, DnsCheckOptions dns_options,
              std::shared_ptr<const ProviderChecks> provider, ProviderMap map,
              std::shared_ptr<InFlight> in_flight = nullptr);

  // Every probe, in ProbeIds() order. The DNS answer "the domain does not exist" (NXDOMAIN)
  // also fails domain-active, whatever the admin API says: the registration has lapsed or
  // never existed.
  std::vector<ProbeResult> Run(const ProbeTarget& target, std::chrono::milliseconds deadline) override;

  std::vector<std::string> ProbeIds() const;

  // Token generation on request; PermissionDenied when the provider is not configured or the
  // configured role may not make tokens.
  Result<MailboxToken> GenerateToken(const std::string& mailbox, const std::string& reason) override;

  // Waits until no check started by Run() is still running in the background (a lookup or an
  // API call that outlived its deadline), or until `until`. For processes about to exit.
  bool WaitIdle(std::chrono::steady_clock::time_point until) { return in_flight_->WaitIdle(until); }

 private:
  std::shared_ptr<const DnsResolver> dns_;
  DnsCheckOptions dns_options_;
  std::shared_ptr<const ProviderChecks> provider_;
  ProviderMap map_;
  std::shared_ptr<InFlight> in_flight_;
};

// Builds the prober from configuration: the resolver, the mapping file, and (when the provider
// is configured) an OpenSrsClient over `http`. Errors name the variable or file at fault.
Result<std::unique_ptr<CheckProber>> MakeCheckProber(const ChecksConfig& config, std::shared_ptr<HttpClient> http,
                                                     OpenSrsClient::LogSink log = nullptr);

}  // namespace bot::checks
