// `mailguide serve`: loads the configuration, the flows and the store, mounts every platform
// whose secrets are set, serves HTTPS until SIGTERM/SIGINT, then shuts down gracefully.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/slack/slack_adapter.h"
#include "adapters/teams/teams_adapter.h"
#include "adapters/web/web_adapter.h"
#include "adapters/web/web_pages.h"
#include "bot/cli/checks_setup.h"
#include "bot/cli/commands.h"
#include "bot/content.h"
#include "bot/engine.h"
#include "bot/server/config.h"
#include "bot/server/config_file.h"
#include "bot/server/httplib_client.h"
#include "bot/server/lazy_store.h"
#include "bot/server/logger.h"
#include "bot/server/server.h"
#include "bot/server/telemetry.h"
#include "bot/server/tls.h"
#include "bot/store/store_factory.h"

#ifndef MAILGUIDE_VERSION
#define MAILGUIDE_VERSION "unknown"
#endif

namespace bot::cli {
namespace {

// serve's own flags; they override the environment, which overrides --config FILE.
struct ServeFlags {
  std::string config_file;
  std::string listen;
  std::string store;
  std::string data_dir;
  CLI::Option* flows = nullptr;  // the global --flows, to tell whether it was given
};

// Every line serve writes goes through one JSON logger (see deploy/README.md).
Logger& Log() {
  static Logger logger;
  return logger;
}

void Say(const std::string& line) { Log().Info("serve", line); }

int RunServe(const GlobalOptions& global, const ServeFlags& flags) {
  // Signals are taken by sigwait below, never by a handler interrupting some thread: block
  // them before any thread exists so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Precedence, lowest first: --config FILE, the environment, serve's flags.
  std::map<std::string, std::string> from_flags, from_file;
  if (!flags.listen.empty()) from_flags["MAILGUIDE_LISTEN"] = flags.listen;
  if (!flags.store.empty()) from_flags["MAILGUIDE_STORE"] = flags.store;
  if (!flags.data_dir.empty()) from_flags["MAILGUIDE_DATA_DIR"] = flags.data_dir;
  if (!flags.config_file.empty()) {
    auto file = ReadConfigFile(flags.config_file);
    if (!file.ok()) return UsageError(file.status().message());
    from_file = std::move(file).value();
  }
  auto config = LoadConfig(LayeredLookup({MapLookup(from_flags), EnvironmentLookup(), MapLookup(from_file)}));
  if (!config.ok()) return UsageError(config.status().message());
  const Config& cfg = *config;

  // --flows beats MAILGUIDE_FLOWS (environment or file), which beats the installed flows/.
  const bool flows_flag = flags.flows && flags.flows->count() > 0;
  const std::string flows_dir = flows_flag || cfg.engine.flows_dir.empty() ? global.flows_dir : cfg.engine.flows_dir;
  auto content = LoadContent(flows_dir);
  if (!content.ok()) return UsageError(content.status().message());

  // Automatic checks (DNS, the provider's admin API), shared by every platform's engine.
  auto checks = SetUpChecks(flows_dir, /*for_conversations=*/true, [](const std::string& line) { Say(line); });
  if (!checks.ok()) return UsageError(checks.status().message());
  Say(checks->summary);

  StoreOptions store_options;
  store_options.session_ttl_seconds = cfg.engine.session_ttl_seconds;
  auto open_store = [spec = cfg.store.spec, dir = cfg.server.data_dir, store_options] {
    return OpenStore(spec, dir, UnixNow, store_options);
  };
  auto store = open_store();
  if (!store.ok() && store.status().code() == Status::Code::kInvalidArgument) {
    return UsageError(store.status().message());
  }
  const bool shared_store = cfg.store.spec.rfind("redis://", 0) == 0;
  if (!store.ok() && !shared_store) return Failure(store.status().message());
  // A shared store that is down at start-up is waited for, not given up on: behind a load
  // balancer the replica stays out of rotation (/readyz 503) and joins once Redis answers,
  // instead of crash-looping. A local SQLite file that cannot be opened will not fix itself.
  if (!store.ok()) {
    Log().Warn("serve", "store: " + store.status().message() +
                            "; starting anyway: /readyz answers 503 and users are asked to try again until it answers");
  }
  LazyStore sessions(open_store, std::chrono::seconds(1),
                     store.ok() ? std::move(store).value() : std::unique_ptr<SessionStore>());

  TelemetryOptions telemetry_options;
  telemetry_options.logger = &Log();
  telemetry_options.version = MAILGUIDE_VERSION;
  telemetry_options.live_conversations = [&sessions, ttl = cfg.engine.session_ttl_seconds]() -> Result<int64_t> {
    const int64_t now = UnixNow();
    auto outcomes = sessions.Outcomes(now - ttl, now);
    if (!outcomes.ok()) return outcomes.status();
    int64_t open = 0;
    for (const auto& o : *outcomes) open += o.outcome == "open";
    return open;
  };
  Telemetry telemetry(telemetry_options);
  for (const char* path : {"/healthz", "/readyz", "/metrics"}) telemetry.AddEndpoint(path);

  ServerOptions options;
  options.host = cfg.server.host;
  options.port = cfg.server.port;
  options.plain_http = cfg.server.plain_http;
  options.http_threads = cfg.server.http_threads;
  options.limits = cfg.server.limits;
  options.workers = cfg.server.workers;
  options.ready = [&content, &sessions] {
    if (content->flows.flows.empty()) return Status::Unavailable("flows: none loaded");
    if (Status s = sessions.Ping(); !s.ok()) return Status::Unavailable("store: " + s.message());
    return Status::Ok();
  };
  options.log = Log().For("server");
  options.on_request = [&telemetry](const RequestInfo& r) { telemetry.ObserveRequest(r); };
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
  server.MountPage("/metrics", [&telemetry](const HttpRequest&) {
    HttpResponse r;
    r.content_type = Telemetry::kContentType;
    r.body = telemetry.Render();
    return r;
  });
  std::vector<std::unique_ptr<MeteredAdapter>> metered;  // what is mounted: each platform, counted
  auto meter = [&](Adapter& adapter) -> Adapter& {
    metered.push_back(std::make_unique<MeteredAdapter>(adapter, telemetry));
    return *metered.back();
  };

  // Slack: one engine per platform so the ownership rule can differ between platforms.
  std::unique_ptr<slack::SlackAdapter> slack_adapter;
  std::unique_ptr<Engine> slack_engine;
  if (cfg.slack.enabled()) {
    slack::SlackAdapterOptions so;
    so.signing_secret = cfg.slack.signing_secret;
    so.bot_token = cfg.slack.bot_token;
    so.api_url = cfg.slack.api_url;
    so.defer = [&server](const std::string& key, std::function<void()> task) { server.Defer(key, std::move(task)); };
    so.log = Log().For("slack");
    so.sleep = telemetry.CountingSleep("slack");
    slack_adapter = std::make_unique<slack::SlackAdapter>(std::move(so), http);
    Status started = slack_adapter->Start();
    if (started.code() == Status::Code::kUnauthenticated) {
      return Failure("slack: auth.test refused the bot token (" + started.message() +
                     "); check MAILGUIDE_SLACK_BOT_TOKEN");
    }
    if (started.ok()) {
      const slack::BotIdentity id = slack_adapter->identity();
      Say("slack: connected as user " + id.user_id + " (bot " + id.bot_id + ", team " + id.team_id + ")");
    } else {
      Say("slack: auth.test failed (" + started.ToString() +
          "); continuing, ignoring bot messages by bot_id only until Slack is reachable");
    }
    EngineOptions eo;
    eo.session_ttl_seconds = cfg.engine.session_ttl_seconds;
    eo.prober = checks->prober.get();
    eo.rate_limits = cfg.engine.rate_limits;
    eo.anyone_can_answer = cfg.slack.anyone_can_answer;
    slack_engine = std::make_unique<Engine>(*content, sessions, eo);
    TurnHandler handler =
        telemetry.Wrap("slack", EngineHandler(*slack_engine));
    Adapter& slack_mounted = meter(*slack_adapter);
    for (const char* path : {"/slack/events", "/slack/commands", "/slack/interactivity"}) {
      server.Mount(path, slack_mounted, handler);
      telemetry.AddEndpoint(path, "slack");
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
    eo.prober = checks->prober.get();
    eo.rate_limits = cfg.engine.rate_limits;
    eo.anyone_can_answer = cfg.teams.anyone_can_answer;
    teams_engine = std::make_unique<Engine>(*content, sessions, eo);
    TurnHandler handler = EngineHandler(*teams_engine);
    if (ts.webhook_enabled()) {
      teams_webhook = std::make_unique<teams::TeamsWebhookAdapter>(ts);
      server.Mount("/teams/webhook", meter(*teams_webhook), telemetry.Wrap(teams_webhook->Name(), handler));
      telemetry.AddEndpoint("/teams/webhook", teams_webhook->Name());
      Say("teams: outgoing webhook on at /teams/webhook");
    } else {
      Say("teams: outgoing webhook off (MAILGUIDE_TEAMS_WEBHOOK_SECRET unset); /teams/webhook answers 404");
    }
    if (ts.bot_enabled()) {
      teams::BotAdapterOptions bo;
      bo.sleep = telemetry.CountingSleep("teams");
      bo.log = Log().For("teams");
      teams_bot = std::make_unique<teams::TeamsBotAdapter>(ts, http, bo);
      server.Mount("/api/messages", meter(*teams_bot), telemetry.Wrap(teams_bot->Name(), handler));
      telemetry.AddEndpoint("/api/messages", teams_bot->Name());
      Say("teams: bot on at /api/messages (" +
          (ts.tenant_id.empty() ? std::string("multi-tenant") : "single-tenant " + ts.tenant_id) + ")");
    } else {
      Say("teams: bot off (MAILGUIDE_TEAMS_APP_ID unset); /api/messages answers 404");
    }
  }

  // Web chat: the built-in chat page, flow map and outcomes, through an engine of its own.
  std::unique_ptr<web::WebAdapter> web_adapter;
  std::unique_ptr<web::WebPages> web_pages;
  std::unique_ptr<Engine> web_engine;
  if (cfg.webchat.enabled) {
    const web::WebAccess access{cfg.webchat.token};
    web_adapter = std::make_unique<web::WebAdapter>(web::WebAdapterOptions{access});
    EngineOptions eo;
    eo.session_ttl_seconds = cfg.engine.session_ttl_seconds;
    eo.prober = checks->prober.get();
    eo.rate_limits = cfg.engine.rate_limits;
    web_engine = std::make_unique<Engine>(*content, sessions, eo);
    server.Mount("/web/api/turn", meter(*web_adapter),
                 telemetry.Wrap("web", EngineHandler(*web_engine)));
    telemetry.AddEndpoint("/web/api/turn", "web");
    web::WebPagesOptions po;
    po.access = access;
    po.secure_cookie = !cfg.server.plain_http;
    web_pages = std::make_unique<web::WebPages>(*content, sessions, po);
    for (auto& [path, handler] : web_pages->Routes()) {
      telemetry.AddEndpoint(path, "web");
      server.MountPage(path, std::move(handler));
    }
  } else {
    Say("web: off (MAILGUIDE_WEBCHAT unset); / answers 404");
  }

  if (Status s = server.Start(); !s.ok()) {
    return s.code() == Status::Code::kInvalidArgument ? UsageError(s.message()) : Failure(s.message());
  }
  Say(std::string("serve: listening on ") + (cfg.server.plain_http ? "http" : "https") + "://" + cfg.server.host +
      ":" + std::to_string(server.port()) + (cfg.server.plain_http ? " (plain HTTP: put a TLS proxy in front)" : " (TLS 1.2+)") +
      "; store " + (cfg.store.spec.empty() ? "sqlite:" + cfg.server.data_dir + "/sessions.db" : cfg.store.spec) +
      "; GET /healthz /readyz /metrics");

  if (cfg.webchat.enabled) {
    const std::string host = cfg.server.host.find(':') != std::string::npos ? "[" + cfg.server.host + "]" : cfg.server.host;
    Say("web: chat page on " + std::string(cfg.server.plain_http ? "http" : "https") + "://" + host + ":" +
        std::to_string(server.port()) + "/ (also /map and /outcomes)" +
        (cfg.webchat.token.empty() ? std::string("; loopback only, no token")
                                   : std::string("; needs MAILGUIDE_WEBCHAT_TOKEN: open the page with ?token=… once")));
  }

  // While waiting for a signal, hand memory freed after a burst back to the system every
  // 10 s: glibc keeps it in per-thread arenas otherwise, and RSS would stay at the peak of
  // the busiest minute (tests/bench/README.md).
  int received = 0;
  const timespec tick{10, 0};
  while ((received = sigtimedwait(&signals, nullptr, &tick)) < 0) malloc_trim(0);
  Say(std::string("serve: ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
      ": no new connections; finishing requests in flight and queued deliveries");
  server.Stop();
  Say("serve: stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTPS webhook server (Slack, Teams)");
  auto flags = std::make_shared<ServeFlags>();
  flags->flows = app.get_option_no_throw("--flows");
  cmd->add_option("--config", flags->config_file,
                  "JSON file of settings: the MAILGUIDE_* names in lower case without the prefix");
  cmd->add_option("--listen", flags->listen, "HOST:PORT (overrides MAILGUIDE_LISTEN)");
  cmd->add_option("--store", flags->store, "memory, sqlite:PATH or redis://HOST:PORT[/DB] (overrides MAILGUIDE_STORE)");
  cmd->add_option("--data-dir", flags->data_dir, "overrides MAILGUIDE_DATA_DIR");
  cmd->footer(
      "Configured through MAILGUIDE_* environment variables (listen address, TLS, store, Slack and\n"
      "Teams secrets), a --config FILE, and flags: flags override the environment, which overrides\n"
      "the file. See deploy/README.md. Logs one JSON object per line on stderr. Stops gracefully on\n"
      "SIGTERM or SIGINT.");
  cmd->callback([&global, &run, flags] { run = [&global, flags] { return RunServe(global, *flags); }; });
}

}  // namespace bot::cli
