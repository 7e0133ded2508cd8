#include "bot/checks/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bot::checks {

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsIp(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// NAME, else the contents of the file NAME_FILE (one trailing newline removed), else "".
Result<std::string> Secret(const GetEnv& env, const std::string& name) {
  const char* v = env(name.c_str());
  if (v && *v) return std::string(v);
  const std::string file_var = name + "_FILE";
  const char* f = env(file_var.c_str());
  if (!f || !*f) return std::string();
  std::ifstream in(f, std::ios::binary);
  if (!in) return Status::InvalidArgument(file_var + ": cannot read " + f);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

std::vector<std::string> SplitNameList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string t = Lower(Trim(cur));
    while (!t.empty() && t.back() == '.') t.pop_back();
    if (!t.empty()) out.push_back(t);
    cur.clear();
  };
  for (char c : text) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  return out;
}

Result<HostPort> ParseDnsServer(const std::string& raw) {
  const std::string text = Trim(raw);
  HostPort hp;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("'" + text + "' lacks the closing ']'");
    hp.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return Status::InvalidArgument("'" + text + "': expected ':' after ']'");
      port = text.substr(close + 2);
      if (port.empty()) return Status::InvalidArgument("'" + text + "' has no port after ':'");
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    hp.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return Status::InvalidArgument("'" + text + "' has no port after ':'");
  } else {
    hp.host = text;  // a bare IPv4 or IPv6 address
  }
  if (!IsIp(hp.host)) {
    return Status::InvalidArgument("'" + text + "' is not IP:PORT (an IP address, not a host name: e.g. 127.0.0.1:53)");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("'" + text + "' has a bad port");
    }
    hp.port = std::stoi(port);
    if (hp.port < 1 || hp.port > 65535) return Status::InvalidArgument("'" + text + "' has a port outside 1-65535");
  }
  return hp;
}

Result<ChecksConfig> ChecksConfigFromEnv(const std::string& flows_dir, const GetEnv& getenv_fn) {
  GetEnv env = getenv_fn ? getenv_fn : GetEnv([](const char* n) { return std::getenv(n); });
  auto get = [&](const char* n) -> std::string {
    const char* v = env(n);
    return v ? Trim(v) : std::string();
  };
  auto is_set = [&](const char* n) { return env(n) != nullptr; };

  ChecksConfig c;
  c.dns_server = get("MAILGUIDE_DNS_SERVER");
  if (!c.dns_server.empty()) {
    auto hp = ParseDnsServer(c.dns_server);
    if (!hp.ok()) return Status::InvalidArgument("MAILGUIDE_DNS_SERVER: " + hp.status().message());
  }
  // Set but empty means "none": no MX host requirement, no SPF include requirement.
  c.mx_hosts = SplitNameList(is_set("MAILGUIDE_MX_HOSTS") ? get("MAILGUIDE_MX_HOSTS") : kDefaultMxHosts);
  {
    auto inc = SplitNameList(is_set("MAILGUIDE_SPF_INCLUDE") ? get("MAILGUIDE_SPF_INCLUDE") : kDefaultSpfInclude);
    if (inc.size() > 1) return Status::InvalidArgument("MAILGUIDE_SPF_INCLUDE: one domain, e.g. _spf.hostedemail.com");
    c.spf_include = inc.empty() ? "" : inc[0];
  }
  c.dkim_selectors = SplitNameList(get("MAILGUIDE_DKIM_SELECTORS"));

  if (std::string url = get("MAILGUIDE_OPENSRS_URL"); !url.empty()) {
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      return Status::InvalidArgument("MAILGUIDE_OPENSRS_URL: expected https://host/api, got '" + url + "'");
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    c.opensrs_url = url;
  }
  auto user = Secret(env, "MAILGUIDE_OPENSRS_USER");
  if (!user.ok()) return user.status();
  c.opensrs_user = Trim(*user);
  auto password = Secret(env, "MAILGUIDE_OPENSRS_PASSWORD");
  if (!password.ok()) return password.status();
  c.opensrs_password = *password;
  if (c.opensrs_user.empty() != c.opensrs_password.empty()) {
    return Status::InvalidArgument(std::string("MAILGUIDE_OPENSRS_") + (c.opensrs_user.empty() ? "USER" : "PASSWORD") +
                                   " is unset: the admin API needs both a user and a password");
  }
  if (std::string role = Lower(get("MAILGUIDE_OPENSRS_ROLE")); !role.empty()) c.opensrs_role = role;
  c.opensrs_ca_file = get("MAILGUIDE_OPENSRS_CA_FILE");
  c.provider_map = get("MAILGUIDE_OPENSRS_MAP");
  if (c.provider_map.empty()) c.provider_map = flows_dir + "/checks/opensrs.json";

  if (std::string ms = get("MAILGUIDE_CHECK_DEADLINE_MS"); !ms.empty()) {
    if (ms.size() > 7 || ms.find_first_not_of("0123456789") != std::string::npos || std::stol(ms) < 100) {
      return Status::InvalidArgument("MAILGUIDE_CHECK_DEADLINE_MS: milliseconds, at least 100, got '" + ms + "'");
    }
    c.deadline = std::chrono::milliseconds(std::stol(ms));
  }
  return c;
}

}  // namespace bot::checks
