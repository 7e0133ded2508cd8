// The DNS checks: mx, spf, dmarc and dkim. Each reads public DNS through a DnsResolver and
// returns a bot::ProbeResult: pass or fail only on conclusive answers (records, NODATA,
// NXDOMAIN); unknown, with the resolver's reason, when a lookup failed or timed out.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bot/checks/dns_resolver.h"
#include "bot/probe.h"

namespace bot::checks {

struct DnsCheckOptions {
  std::vector<std::string> mx_hosts;        // accepted MX targets: a name or anything under it; empty = any
  std::string spf_include;                  // must be reachable through include:/redirect=; "" = not required
  std::vector<std::string> dkim_selectors;  // empty: dkim is unknown
};

using Deadline = std::chrono::steady_clock::time_point;

// mx: an MX record is published, each target resolves (A or AAAA), and every target is one of
// the provider's hosts. `domain_lookup`, when given, receives the status of the MX lookup
// itself (kNxDomain: the domain is not in public DNS at all).
ProbeResult CheckMx(const DnsResolver& dns, const std::string& domain, const DnsCheckOptions& options,
                    Deadline deadline, DnsStatus* domain_lookup = nullptr);
// spf: exactly one "v=spf1" TXT record, which reaches the provider's include, within the
// 10-DNS-lookup limit of RFC 7208 §4.6.4 (include, a, mx, ptr, exists, redirect, counted
// through includes and redirects, at most 10 levels deep).
ProbeResult CheckSpf(const DnsResolver& dns, const std::string& domain, const DnsCheckOptions& options,
                     Deadline deadline);
// dmarc: exactly one "v=DMARC1" record at _dmarc.<domain> with a valid p= policy.
ProbeResult CheckDmarc(const DnsResolver& dns, const std::string& domain, Deadline deadline);
// dkim: a public key (non-empty p=) at <selector>._domainkey.<domain> for a configured selector.
ProbeResult CheckDkim(const DnsResolver& dns, const std::string& domain, const DnsCheckOptions& options,
                      Deadline deadline);

// Exposed for tests.
struct SpfRecordInfo {
  int lookups = 0;                    // lookup terms in this record alone
  std::vector<std::string> includes;  // include: targets, then the redirect= target (if it applies)
  bool has_all = false;
};
SpfRecordInfo ParseSpf(const std::string& record);
bool IsSpfRecord(const std::string& txt);
// "v=DMARC1; p=reject; rua=..." → {"v":"DMARC1","p":"reject",...}; keys lower-cased.
std::vector<std::pair<std::string, std::string>> ParseTags(const std::string& record);

}  // namespace bot::checks
