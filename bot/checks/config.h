// Configuration of the automatic checks: a plain struct, filled from the environment by
// ChecksConfigFromEnv (the variables are listed in bot/checks/README.md).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "bot/status.h"

namespace bot::checks {

struct ChecksConfig {
  // DNS
  std::string dns_server;                  // "host:port" (IP literal, "[v6]:port"); "" = the system's resolver
  std::vector<std::string> mx_hosts;       // MX targets must be one of these names or under one of them
  std::string spf_include;                 // the provider's SPF include; "" = do not require one
  std::vector<std::string> dkim_selectors; // "<selector>._domainkey.<domain>"; empty = dkim is unknown

  // The provider's admin API (OpenSRS OMA). Off unless user and password are set.
  std::string opensrs_url = "https://admin.a.hostedemail.com/api";
  std::string opensrs_user;
  std::string opensrs_password;            // a secret: never logged
  std::string opensrs_role = "company_ro"; // the role of that login; decides whether tokens may be made
  std::string opensrs_ca_file;             // PEM bundle to trust instead of the system store; "" = system
  std::string provider_map;                // the field mapping (JSON); "" = <flows>/checks/opensrs.json

  std::chrono::milliseconds deadline{8000};  // for one whole run of every probe

  bool provider_configured() const { return !opensrs_user.empty() && !opensrs_password.empty(); }
};

// Defaults: the provider in shared/reference/opensrs-email-api.md.
inline constexpr const char* kDefaultMxHosts = "hostedemail.com";
inline constexpr const char* kDefaultSpfInclude = "_spf.hostedemail.com";

using GetEnv = std::function<const char*(const char*)>;

// Reads MAILGUIDE_DNS_SERVER, MAILGUIDE_MX_HOSTS, MAILGUIDE_SPF_INCLUDE, MAILGUIDE_DKIM_SELECTORS,
// MAILGUIDE_OPENSRS_URL, MAILGUIDE_OPENSRS_USER[_FILE], MAILGUIDE_OPENSRS_PASSWORD[_FILE],
// MAILGUIDE_OPENSRS_ROLE, MAILGUIDE_OPENSRS_CA_FILE, MAILGUIDE_OPENSRS_MAP and
// MAILGUIDE_CHECK_DEADLINE_MS. `flows_dir` locates the default mapping file. InvalidArgument
// names the variable and what is wrong with it (never its value when it is a secret).
Result<ChecksConfig> ChecksConfigFromEnv(const std::string& flows_dir, const GetEnv& getenv = nullptr);

// "127.0.0.1:5353" → {"127.0.0.1", 5353}; "[::1]:53"; a bare IP means port 53.
struct HostPort {
  std::string host;
  int port = 53;
};
Result<HostPort> ParseDnsServer(const std::string& text);

// Splits "a, b ,c" into {"a","b","c"} (commas or spaces), lower-cased, trailing dots removed.
std::vector<std::string> SplitNameList(const std::string& text);

}  // namespace bot::checks
