#include "bot/server/config.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "bot/store/store_factory.h"

namespace bot {

namespace {

class Loader {
 public:
  Loader(const ConfigLookup& lookup, const SecretFileReader& read_file)
      : lookup_(lookup), read_file_(read_file) {}

  std::optional<std::string> Get(const std::string& key) {
    auto v = lookup_(key);
    if (v && v->empty()) return std::nullopt;
    return v;
  }

  // A secret from KEY or from the file KEY_FILE names; never both.
  std::string Secret(const std::string& key) {
    auto direct = Get(key);
    auto file = Get(key + "_FILE");
    if (direct && file) {
      Problem(key, "set either " + key + " or " + key + "_FILE, not both");
      return *direct;
    }
    if (!file) return direct.value_or("");
    auto read = read_file_(*file);
    if (!read.ok()) {
      Problem(key + "_FILE", read.status().message());
      return "";
    }
    if (read->empty()) Problem(key + "_FILE", "the file " + *file + " is empty");
    return *read;
  }

  void String(const std::string& key, std::string& out) {
    if (auto v = Get(key)) out = *v;
  }

  void Bool(const std::string& key, bool& out) {
    auto v = Get(key);
    if (!v) return;
    if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") {
      out = true;
    } else if (*v == "0" || *v == "false" || *v == "no" || *v == "off") {
      out = false;
    } else {
      Problem(key, "expected 1 or 0, got '" + *v + "'");
    }
  }

  template <typename Int>
  void Integer(const std::string& key, Int& out, Int min, Int max) {
    auto v = Get(key);
    if (!v) return;
    Int n{};
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
      Problem(key, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                       ", got '" + *v + "'");
      return;
    }
    out = n;
  }

  void Milliseconds(const std::string& key, std::chrono::milliseconds& out, int64_t min, int64_t max) {
    int64_t ms = out.count();
    Integer(key, ms, min, max);
    out = std::chrono::milliseconds(ms);
  }

  void Url(const std::string& key, std::string& out) {
    String(key, out);
    if (!out.empty() && out.rfind("https://", 0) != 0 && out.rfind("http://", 0) != 0) {
      Problem(key, "expected an http:// or https:// URL");
    }
  }

  void Problem(const std::string& key, const std::string& what) { problems_.push_back(key + ": " + what); }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const ConfigLookup& lookup_;
  const SecretFileReader& read_file_;
  std::vector<std::string> problems_;
};

bool IsBase64(const std::string& s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return false;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
  }
  return pad <= 2;
}

}  // namespace

Status ParseHostPort(const std::string& text, std::string& host, int& port) {
  std::string h, p;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("expected [IPv6]:port, got '" + text + "'");
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return Status::InvalidArgument("expected host:port, got '" + text + "'");
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string::npos) return Status::InvalidArgument("write IPv6 addresses as [addr]:port");
  }
  int n = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (ec != std::errc() || end != p.data() + p.size() || n < 0 || n > 65535) {
    return Status::InvalidArgument("port must be a number from 0 to 65535, got '" + p + "'");
  }
  host = h.empty() ? "0.0.0.0" : h;
  port = n;
  return Status::Ok();
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

ConfigLookup EnvironmentLookup() {
  return [](const std::string& key) -> std::optional<std::string> {
    const char* v = std::getenv(key.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string s = buffer.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

Result<Config> LoadConfig(const ConfigLookup& lookup, const SecretFileReader& read_file) {
  Loader l(lookup, read_file);
  Config c;

  if (auto listen = l.Get("MAILGUIDE_LISTEN")) {
    Status s = ParseHostPort(*listen, c.server.host, c.server.port);
    if (!s.ok()) l.Problem("MAILGUIDE_LISTEN", s.message());
  }
  l.String("MAILGUIDE_TLS_CERT", c.server.tls_cert);
  l.String("MAILGUIDE_TLS_KEY", c.server.tls_key);
  l.Bool("MAILGUIDE_PLAIN_HTTP", c.server.plain_http);
  if (c.server.tls_cert.empty() != c.server.tls_key.empty()) {
    l.Problem(c.server.tls_cert.empty() ? "MAILGUIDE_TLS_CERT" : "MAILGUIDE_TLS_KEY",
              "set both MAILGUIDE_TLS_CERT and MAILGUIDE_TLS_KEY, or neither for a self-signed pair");
  }
  l.String("MAILGUIDE_DATA_DIR", c.server.data_dir);
  l.Integer("MAILGUIDE_HTTP_THREADS", c.server.http_threads, 1, 256);
  l.Integer("MAILGUIDE_WORKERS", c.server.workers, 1, 256);
  l.Integer("MAILGUIDE_MAX_CONNECTIONS", c.server.limits.max_connections, 1, 4096);
  l.Integer("MAILGUIDE_MAX_CONNECTIONS_PER_IP", c.server.limits.max_connections_per_ip, 0, 4096);
  l.Milliseconds("MAILGUIDE_HANDSHAKE_TIMEOUT_MS", c.server.limits.handshake_timeout, 100, 60000);
  l.Milliseconds("MAILGUIDE_REQUEST_TIMEOUT_MS", c.server.limits.request_timeout, 1000, 300000);
  l.Milliseconds("MAILGUIDE_READ_TIMEOUT_MS", c.server.limits.read_timeout, 100, 60000);

  l.String("MAILGUIDE_STORE", c.store.spec);
  if (auto spec = ParseStoreSpec(c.store.spec, c.server.data_dir); !spec.ok()) {
    l.Problem("MAILGUIDE_STORE", spec.status().message());
  }

  l.String("MAILGUIDE_FLOWS", c.engine.flows_dir);
  l.Integer<int64_t>("MAILGUIDE_SESSION_TTL", c.engine.session_ttl_seconds, 60, int64_t{365} * 86400);
  l.Integer<int64_t>("MAILGUIDE_RATE_USER_PER_MIN", c.engine.rate_limits.user_per_minute, 0, 1000000);
  l.Integer<int64_t>("MAILGUIDE_RATE_WORKSPACE_PER_MIN", c.engine.rate_limits.workspace_per_minute, 0, 1000000);

  c.slack.signing_secret = l.Secret("MAILGUIDE_SLACK_SIGNING_SECRET");
  c.slack.bot_token = l.Secret("MAILGUIDE_SLACK_BOT_TOKEN");
  l.Url("MAILGUIDE_SLACK_API_URL", c.slack.api_url);
  l.Bool("MAILGUIDE_SLACK_ANYONE_CAN_ANSWER", c.slack.anyone_can_answer);
  if (c.slack.signing_secret.empty() != c.slack.bot_token.empty()) {
    l.Problem(c.slack.signing_secret.empty() ? "MAILGUIDE_SLACK_SIGNING_SECRET" : "MAILGUIDE_SLACK_BOT_TOKEN",
              "Slack needs both the signing secret and the bot token (or neither to switch Slack off)");
  }
  if (!c.slack.bot_token.empty() && c.slack.bot_token.rfind("xoxb-", 0) != 0) {
    l.Problem("MAILGUIDE_SLACK_BOT_TOKEN", "expected a bot token starting with xoxb-");
  }

  c.teams.webhook_secret = l.Secret("MAILGUIDE_TEAMS_WEBHOOK_SECRET");
  if (!c.teams.webhook_secret.empty() && !IsBase64(c.teams.webhook_secret)) {
    l.Problem("MAILGUIDE_TEAMS_WEBHOOK_SECRET", "expected the base64 security token Teams showed");
  }
  l.String("MAILGUIDE_TEAMS_APP_ID", c.teams.app_id);
  c.teams.app_password = l.Secret("MAILGUIDE_TEAMS_APP_PASSWORD");
  l.String("MAILGUIDE_TEAMS_TENANT_ID", c.teams.tenant_id);
  l.Url("MAILGUIDE_TEAMS_OPENID_URL", c.teams.openid_url);
  l.Url("MAILGUIDE_TEAMS_TOKEN_URL", c.teams.token_url);
  l.Bool("MAILGUIDE_TEAMS_ANYONE_CAN_ANSWER", c.teams.anyone_can_answer);
  if (c.teams.app_id.empty() != c.teams.app_password.empty()) {
    l.Problem(c.teams.app_id.empty() ? "MAILGUIDE_TEAMS_APP_ID" : "MAILGUIDE_TEAMS_APP_PASSWORD",
              "the Bot Framework needs both the app id and the app password (or neither)");
  }
  if (c.teams.token_url.empty()) {
    c.teams.token_url = "https://login.microsoftonline.com/" +
                        (c.teams.tenant_id.empty() ? std::string("botframework.com") : c.teams.tenant_id) +
                        "/oauth2/v2.0/token";
  }

  l.Bool("MAILGUIDE_WEBCHAT", c.webchat.enabled);
  c.webchat.token = l.Secret("MAILGUIDE_WEBCHAT_TOKEN");
  if (c.webchat.enabled && c.webchat.token.empty() && !IsLoopbackHost(c.server.host)) {
    l.Problem("MAILGUIDE_WEBCHAT_TOKEN", "the web chat listens off loopback (" + c.server.host +
                                             "), so it needs a token");
  }

  l.String("MAILGUIDE_DNS_SERVER", c.dns.server);
  if (!c.dns.server.empty()) {
    std::string h;
    int p = 0;
    if (Status s = ParseHostPort(c.dns.server, h, p); !s.ok()) l.Problem("MAILGUIDE_DNS_SERVER", s.message());
  }

  l.Url("MAILGUIDE_OPENSRS_URL", c.opensrs.url);
  l.String("MAILGUIDE_OPENSRS_USER", c.opensrs.user);
  c.opensrs.password = l.Secret("MAILGUIDE_OPENSRS_PASSWORD");
  const int opensrs_set = !c.opensrs.url.empty() + !c.opensrs.user.empty() + !c.opensrs.password.empty();
  if (opensrs_set != 0 && opensrs_set != 3) {
    l.Problem("MAILGUIDE_OPENSRS_URL", "set MAILGUIDE_OPENSRS_URL, _USER and _PASSWORD together, or none");
  }

  if (!l.problems().empty()) {
    std::string m = "configuration has " + std::to_string(l.problems().size()) +
                    (l.problems().size() == 1 ? " problem: " : " problems: ");
    for (size_t i = 0; i < l.problems().size(); ++i) m += (i ? "; " : "") + l.problems()[i];
    return Status::InvalidArgument(m);
  }
  return c;
}

}  // namespace bot
