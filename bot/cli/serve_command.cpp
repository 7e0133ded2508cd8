// `mailguide serve`: loads the configuration, the flows and the store, mounts every platform
// whose secrets are set, serves HTTPS until SIGTERM/SIGINT, then shuts down gracefully.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/slack/slack_adapter.h"
#include "adapters/teams/teams_adapter.h"
#include "bot/cli/commands.h"
#include "bot/content.h"
#include "bot/engine.h"
#include "bot/server/config.h"
#include "bot/server/httplib_client.h"
#include "bot/server/server.h"
#include "bot/server/tls.h"
#include "bot/store/store_factory.h"

namespace bot::cli {
namespace {

void Say(const std::string& line) { std::cerr << line << "\n"; }

int RunServe(const GlobalOptions& global) {
  // Signals are taken by sigwait below, never by a handler interrupting some thread: block
  // them before any thread exists so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = LoadConfig(EnvironmentLookup());
  if (!config.ok()) return UsageError(config.status().message());
  const Config& cfg = *config;

  auto content = LoadContent(global.flows_dir);
  if (!content.ok()) return UsageError(content.status().message());

  StoreOptions store_options;
  store_options.session_ttl_seconds = cfg.engine.session_ttl_seconds;
  auto store = OpenStore(cfg.store.spec, cfg.server.data_dir, UnixNow, store_options);
  if (!store.ok()) {
    return store.status().code() == Status::Code::kInvalidArgument ? UsageError(store.status().message())
                                                                    : Failure(store.status().message());
  }
  SessionStore& sessions = **store;

  ServerOptions options;
  options.host = cfg.server.host;
  options.port = cfg.server.port;
  options.plain_http = cfg.server.plain_http;
  options.http_threads = cfg.server.http_threads;
  options.workers = cfg.server.workers;
  options.ready = [&sessions] { return sessions.Ping(); };
  if (!cfg.server.plain_http) {
    if (!cfg.server.tls_cert.empty()) {
      options.tls_cert = cfg.server.tls_cert;
      options.tls_key = cfg.server.tls_key;
    } else {
      auto tls = EnsureSelfSignedCertificate(cfg.server.data_dir, cfg.server.host);
      if (!tls.ok()) return Failure("tls: " + tls.status().message());
      options.tls_cert = tls->cert_path;
      options.tls_key = tls->key_path;
      Say("tls: MAILGUIDE_TLS_CERT/MAILGUIDE_TLS_KEY unset; " +
          std::string(tls->generated ? "generated" : "reusing") + " a self-signed certificate " + tls->cert_path +
          " (clients must trust it explicitly; use a real certificate or a TLS proxy for Slack)");
    }
  }

  HttplibClient http;
  Server server(options);

  // Slack: one engine per platform so the ownership rule can differ between platforms.
  std::unique_ptr<slack::SlackAdapter> slack_adapter;
  std::unique_ptr<Engine> slack_engine;
  if (cfg.slack.enabled()) {
    slack::SlackAdapterOptions so;
    so.signing_secret = cfg.slack.signing_secret;
    so.bot_token = cfg.slack.bot_token;
    so.api_url = cfg.slack.api_url;
    so.defer = [&server](const std::string& key, std::function<void()> task) { server.Defer(key, std::move(task)); };
    slack_adapter = std::make_unique<slack::SlackAdapter>(std::move(so), http);
    Status started = slack_adapter->Start();
    if (started.code() == Status::Code::kUnauthenticated) {
      return Failure("slack: auth.test refused the bot token (" + started.message() +
                     "); check MAILGUIDE_SLACK_BOT_TOKEN");
    }
    if (!started.ok()) {
      Say("slack: auth.test failed (" + started.ToString() +
          "); continuing, ignoring bot messages by bot_id only until Slack is reachable");
    }
    EngineOptions eo;
    eo.session_ttl_seconds = cfg.engine.session_ttl_seconds;
    eo.anyone_can_answer = cfg.slack.anyone_can_answer;
    slack_engine = std::make_unique<Engine>(*content, sessions, eo);
    TurnHandler handler = [engine = slack_engine.get()](const Message& m) { return engine->Handle(m); };
    for (const char* path : {"/slack/events", "/slack/commands", "/slack/interactivity"}) {
      server.Mount(path, *slack_adapter, handler);
    }
    Say(std::string("slack: on at /slack/events (also /slack/commands, /slack/interactivity); ") +
        (cfg.slack.anyone_can_answer ? "anyone in a channel may answer a case"
                                     : "only a case's starter answers its buttons"));
  } else {
    Say("slack: off (MAILGUIDE_SLACK_SIGNING_SECRET and MAILGUIDE_SLACK_BOT_TOKEN unset); /slack/events answers 404");
  }

  // Teams: the outgoing webhook and the Bot Framework bot share one engine.
  std::unique_ptr<teams::TeamsWebhookAdapter> teams_webhook;
  std::unique_ptr<teams::TeamsBotAdapter> teams_bot;
  std::unique_ptr<Engine> teams_engine;
  if (!cfg.teams.webhook_enabled() && !cfg.teams.bot_enabled()) {
    Say("teams: off (MAILGUIDE_TEAMS_WEBHOOK_SECRET and MAILGUIDE_TEAMS_APP_ID unset); /teams/webhook and /api/messages answer 404");
  } else {
    teams::TeamsSettings ts;
    ts.webhook_secret = cfg.teams.webhook_secret;
    ts.app_id = cfg.teams.app_id;
    ts.app_password = cfg.teams.app_password;
    ts.tenant_id = cfg.teams.tenant_id;
    ts.openid_url = cfg.teams.openid_url;
    if (!cfg.teams.token_url.empty()) ts.token_url = cfg.teams.token_url;
    if (Status s = teams::ValidateTeamsSettings(ts); !s.ok()) return UsageError("teams: " + s.message());
    EngineOptions eo;
    eo.session_ttl_seconds = cfg.engine.session_ttl_seconds;
    eo.anyone_can_answer = cfg.teams.anyone_can_answer;
    teams_engine = std::make_unique<Engine>(*content, sessions, eo);
    TurnHandler handler = [engine = teams_engine.get()](const Message& m) { return engine->Handle(m); };
    if (ts.webhook_enabled()) {
      teams_webhook = std::make_unique<teams::TeamsWebhookAdapter>(ts);
      server.Mount("/teams/webhook", *teams_webhook, handler);
      Say("teams: outgoing webhook on at /teams/webhook");
    } else {
      Say("teams: outgoing webhook off (MAILGUIDE_TEAMS_WEBHOOK_SECRET unset); /teams/webhook answers 404");
    }
    if (ts.bot_enabled()) {
      teams_bot = std::make_unique<teams::TeamsBotAdapter>(ts, http);
      server.Mount("/api/messages", *teams_bot, handler);
      Say("teams: bot on at /api/messages (" +
          (ts.tenant_id.empty() ? std::string("multi-tenant") : "single-tenant " + ts.tenant_id) + ")");
    } else {
      Say("teams: bot off (MAILGUIDE_TEAMS_APP_ID unset); /api/messages answers 404");
    }
  }

  if (Status s = server.Start(); !s.ok()) {
    return s.code() == Status::Code::kInvalidArgument ? UsageError(s.message()) : Failure(s.message());
  }
  Say(std::string("serve: listening on ") + (cfg.server.plain_http ? "http" : "https") + "://" + cfg.server.host +
      ":" + std::to_string(server.port()) + (cfg.server.plain_http ? " (plain HTTP: put a TLS proxy in front)" : " (TLS 1.2+)") +
      "; store " + (cfg.store.spec.empty() ? "sqlite:" + cfg.server.data_dir + "/sessions.db" : cfg.store.spec));

  int received = 0;
  sigwait(&signals, &received);
  Say(std::string("serve: ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
      ": no new connections; finishing requests in flight and queued deliveries");
  server.Stop();
  Say("serve: stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTPS webhook server (Slack, Teams)");
  cmd->footer(
      "Configured through MAILGUIDE_* environment variables (listen address, TLS, store, Slack and\n"
      "Teams secrets); see README.md. Stops gracefully on SIGTERM or SIGINT.");
  cmd->callback([&global, &run] { run = [&global] { return RunServe(global); }; });
}

}  // namespace bot::cli
