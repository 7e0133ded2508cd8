// Config: every MAILGUIDE_* setting of `mailguide serve` (design.md's table), one section per
// component. LoadConfig reads them through an injected lookup so tests never touch the real
// environment, and reports every problem at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "bot/rate_limiter.h"
#include "bot/server/limits.h"
#include "bot/status.h"

namespace bot {

struct ServerConfig {
  std::string host = "127.0.0.1";       // MAILGUIDE_LISTEN host:port
  int port = 8443;                      //   (0: the OS picks; for tests)
  std::string tls_cert;                 // MAILGUIDE_TLS_CERT (PEM); with tls_key, or neither
  std::string tls_key;                  // MAILGUIDE_TLS_KEY (PEM)
  bool plain_http = false;              // MAILGUIDE_PLAIN_HTTP=1: behind a TLS-terminating proxy
  std::string data_dir = "./var";       // MAILGUIDE_DATA_DIR
  int http_threads = 8;                 // MAILGUIDE_HTTP_THREADS: connections served at once
  // Turns wait on the store's fsync and on deliveries, not on the CPU: 8 carried 10-15% more
  // turns/s than 4 on 2 cores (tests/bench/README.md).
  int workers = 8;                      // MAILGUIDE_WORKERS: turns and deliveries in parallel
  ConnectionLimits limits;              // MAILGUIDE_MAX_CONNECTIONS, _MAX_CONNECTIONS_PER_IP,
                                        // _HANDSHAKE_TIMEOUT_MS, _REQUEST_TIMEOUT_MS,
                                        // _READ_TIMEOUT_MS (limits.h)
};

struct StoreConfig {
  std::string spec;  // MAILGUIDE_STORE as given; "" = sqlite:$MAILGUIDE_DATA_DIR/sessions.db
};

struct EngineConfig {
  std::string flows_dir;                   // MAILGUIDE_FLOWS; "" = the installed flows/
  int64_t session_ttl_seconds = 86400;     // MAILGUIDE_SESSION_TTL
  RateLimits rate_limits = RateLimits::Serving();  // MAILGUIDE_RATE_USER_PER_MIN, _WORKSPACE_PER_MIN
};

struct SlackConfig {
  std::string signing_secret;              // MAILGUIDE_SLACK_SIGNING_SECRET (or …_FILE)
  std::string bot_token;                   // MAILGUIDE_SLACK_BOT_TOKEN (or …_FILE)
  std::string api_url = "https://slack.com/api";  // MAILGUIDE_SLACK_API_URL
  bool anyone_can_answer = false;          // MAILGUIDE_SLACK_ANYONE_CAN_ANSWER=1: any member of a
                                           // channel may answer a case's buttons, not only its starter
  bool enabled() const { return !signing_secret.empty(); }
};

struct TeamsConfig {
  std::string webhook_secret;              // MAILGUIDE_TEAMS_WEBHOOK_SECRET (base64; or …_FILE)
  std::string app_id;                      // MAILGUIDE_TEAMS_APP_ID
  std::string app_password;                // MAILGUIDE_TEAMS_APP_PASSWORD (or …_FILE)
  std::string tenant_id;                   // MAILGUIDE_TEAMS_TENANT_ID; "" = multi-tenant
  std::string openid_url = "https://login.botframework.com/v1/.well-known/openidconfiguration";
  std::string token_url;                   // MAILGUIDE_TEAMS_TOKEN_URL; default derived from tenant
  bool anyone_can_answer = false;          // MAILGUIDE_TEAMS_ANYONE_CAN_ANSWER
  bool webhook_enabled() const { return !webhook_secret.empty(); }
  bool bot_enabled() const { return !app_id.empty(); }
};

struct WebChatConfig {
  bool enabled = false;                    // MAILGUIDE_WEBCHAT=1
  std::string token;                       // MAILGUIDE_WEBCHAT_TOKEN (or …_FILE); needed off loopback
};

struct DnsConfig {
  std::string server;                      // MAILGUIDE_DNS_SERVER host:port; "" = the system's
};

struct OpenSrsConfig {
  std::string url;                         // MAILGUIDE_OPENSRS_URL
  std::string user;                        // MAILGUIDE_OPENSRS_USER
  std::string password;                    // MAILGUIDE_OPENSRS_PASSWORD (or …_FILE)
  bool enabled() const { return !url.empty(); }
};

struct Config {
  ServerConfig server;
  StoreConfig store;
  EngineConfig engine;
  SlackConfig slack;
  TeamsConfig teams;
  WebChatConfig webchat;
  DnsConfig dns;
  OpenSrsConfig opensrs;
};

// Returns the value of a MAILGUIDE_* key, or nullopt when unset. An empty value counts as unset.
using ConfigLookup = std::function<std::optional<std::string>(const std::string& key)>;
// Reads a secret file (for the …_FILE variants); trailing newlines are dropped.
using SecretFileReader = std::function<Result<std::string>(const std::string& path)>;

// The process environment.
ConfigLookup EnvironmentLookup();
Result<std::string> ReadSecretFile(const std::string& path);

// The configuration, or InvalidArgument listing every problem ("KEY: reason; KEY: reason").
// Messages never contain a secret's value.
Result<Config> LoadConfig(const ConfigLookup& lookup, const SecretFileReader& read_file = ReadSecretFile);

// "host:port" (IPv6 as "[::1]:port") into its parts; InvalidArgument with the reason.
Status ParseHostPort(const std::string& text, std::string& host, int& port);

bool IsLoopbackHost(const std::string& host);

}  // namespace bot
