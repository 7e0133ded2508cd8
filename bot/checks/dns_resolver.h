// DNS lookups for the checks, through c-ares: asynchronous, many queries at once, one absolute
// deadline. Every way a lookup can fail is its own status, so a check can tell "the name does
// not exist" (NXDOMAIN: evidence) from "the resolver could not say" (SERVFAIL, REFUSED,
// timeout: no evidence).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bot/status.h"

namespace bot::checks {

enum class DnsType { kA, kAaaa, kMx, kTxt };
const char* DnsTypeName(DnsType type);  // "A", "AAAA", "MX", "TXT"

enum class DnsStatus {
  kOk,           // NOERROR with at least one record of the type asked for
  kNoData,       // NOERROR, the name exists, but has no record of that type
  kNxDomain,     // the name does not exist
  kServFail,     // the resolver failed (SERVFAIL)
  kRefused,      // the resolver refused to answer (REFUSED)
  kTimeout,      // no answer before the deadline
  kUnreachable,  // the resolver could not be reached (connection refused / no route)
  kError,        // anything else: a malformed reply, out of memory ...
};
const char* DnsStatusName(DnsStatus status);  // "NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", ...
// True when the answer is evidence about the name (kOk, kNoData, kNxDomain); false when the
// lookup itself failed and says nothing about what is published.
bool IsConclusive(DnsStatus status);

struct DnsQuery {
  std::string name;
  DnsType type = DnsType::kA;
};

struct MxRecord {
  int preference = 0;
  std::string host;  // lower case, no trailing dot; "" for a null MX ("0 .", RFC 7505)
};

struct DnsAnswer {
  DnsQuery query;
  DnsStatus status = DnsStatus::kTimeout;
  std::string error;                   // c-ares' words for kError / kUnreachable
  std::vector<MxRecord> mx;            // kMx, sorted by preference then host
  std::vector<std::string> txt;        // kTxt: one string per record, its chunks joined
  std::vector<std::string> addresses;  // kA / kAaaa, printable

  // "example.com MX: NXDOMAIN (the name does not exist)" — for a check's detail.
  std::string Describe() const;
};

// Thread-safe: each Resolve() runs its own c-ares channel.
class DnsResolver {
 public:
  // `server`: "host:port" (IP literal) or "" for the system's resolver (/etc/resolv.conf).
  static Result<std::shared_ptr<DnsResolver>> Create(const std::string& server);

  // Sends every query at once and returns one answer per query, in order, by `deadline` at the
  // latest: a query still unanswered then is kTimeout.
  std::vector<DnsAnswer> Resolve(const std::vector<DnsQuery>& queries,
                                 std::chrono::steady_clock::time_point deadline) const;
  DnsAnswer Resolve(const DnsQuery& query, std::chrono::steady_clock::time_point deadline) const;

  // "127.0.0.1:5353", or "the system resolver".
  std::string Describe() const;

 private:
  explicit DnsResolver(std::string server_csv) : server_csv_(std::move(server_csv)) {}
  std::string server_csv_;  // for ares_set_servers_ports_csv; "" = system configuration
};

}  // namespace bot::checks
