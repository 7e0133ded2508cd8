// Telemetry: what `mailguide serve` tells its operators — the Prometheus metrics behind
// GET /metrics and the one JSON log line per request — and the seams that feed them, all
// wired from outside so the server stays generic and the adapters platform-only:
//   ServerOptions::on_request   -> ObserveRequest (requests, latency, the request log line)
//   MeteredAdapter              -> signature failures, replies sent and failed
//   Wrap(platform, handler)     -> turns and flow outcomes (TurnResult::closed)
//   CountingSleep(platform)     -> outbound retries (the adapters sleep once per retry)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "bot/adapter.h"
#include "bot/server/logger.h"
#include "bot/server/metrics.h"
#include "bot/server/server.h"

namespace bot {

struct TelemetryOptions {
  Logger* logger = nullptr;  // request lines go here; null: none. Not owned.
  // Open conversations updated within the session TTL, for the live-conversations gauge. Asked
  // at most once per live_cache_seconds, on a scrape; unset: the gauge is not exported.
  std::function<Result<int64_t>()> live_conversations;
  std::chrono::seconds live_cache{10};
  std::string version;       // mailguide_build_info{version}
};

// Thread-safe after the endpoints are registered.
class Telemetry {
 public:
  explicit Telemetry(TelemetryOptions options);
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // Names `path` as an endpoint, served by `platform` ("" for /healthz and the like). Requests
  // to paths never named are counted as endpoint "other", so scanners cannot grow the label set.
  // Call before the server starts.
  void AddEndpoint(const std::string& path, const std::string& platform = "");

  // ServerOptions::on_request: counts the request, observes its latency, writes its log line:
  // {"ts","level":"info","event":"request","request_id","method","endpoint","platform",
  //  "status","latency_ms","remote"} (+ "path" for unnamed paths). Never bodies or text.
  void ObserveRequest(const RequestInfo& request);

  // `handler`, counting its turns (answered, duplicate, failed) and the cases they close.
  TurnHandler Wrap(const std::string& platform, TurnHandler handler);
  void ObserveTurn(const std::string& platform, const Result<TurnResult>& turn);

  // Signature (authentication) failures, replies sent and failed; MeteredAdapter calls these.
  void ObserveVerify(const std::string& platform, const Status& status);
  void ObserveReplies(const std::string& platform, size_t replies, bool sent);

  // A sleep for an adapter's retry loop that counts one outbound retry of `platform` per call,
  // then waits (std::this_thread::sleep_for unless `sleep` is given).
  std::function<void(std::chrono::milliseconds)> CountingSleep(
      const std::string& platform, std::function<void(std::chrono::milliseconds)> sleep = {});

  // Every metric in the Prometheus text format (version 0.0.4).
  std::string Render();
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void RefreshLive();

  TelemetryOptions options_;
  std::map<std::string, std::string> endpoints_;  // path -> platform; read-only once serving

  CounterFamily requests_{"mailguide_http_requests_total", "HTTP requests answered, by endpoint and status code.",
                          {"endpoint", "status"}};
  HistogramFamily latency_{"mailguide_http_request_duration_seconds",
                           "Time from a request's headers read to its answer written, by endpoint.",
                           {"endpoint"},
                           {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  CounterFamily signature_failures_{"mailguide_signature_failures_total",
                                    "Requests refused because their signature or token did not verify, by platform.",
                                    {"platform"}};
  CounterFamily replies_sent_{"mailguide_replies_sent_total",
                              "Bot replies delivered (in the HTTP answer or through the platform's API), by platform.",
                              {"platform"}};
  CounterFamily replies_failed_{"mailguide_replies_failed_total",
                                "Bot replies whose delivery failed after every retry, by platform.", {"platform"}};
  CounterFamily retries_{"mailguide_outbound_retries_total",
                         "Outbound API calls retried (rate limits, 5xx, network errors), by platform.", {"platform"}};
  CounterFamily turns_{"mailguide_turns_total",
                       "Engine turns, by platform and result (answered, duplicate, failed).",
                       {"platform", "result"}};
  CounterFamily outcomes_{"mailguide_flow_outcomes_total",
                          "Cases closed, by flow and outcome (resolved, escalated, abandoned); step: where a "
                          "resolved case was fixed.",
                          {"flow", "outcome", "step"}};
  GaugeFamily live_{"mailguide_live_conversations",
                    "Open cases updated within the session TTL (shared store: the same on every replica).", {}};
  GaugeFamily store_up_{"mailguide_store_up", "1 when the session store answered the last live-conversation count.",
                        {}};
  GaugeFamily build_info_{"mailguide_build_info", "Always 1; the version as a label.", {"version"}};

  std::mutex live_mu_;
  std::chrono::steady_clock::time_point live_at_{};
  bool live_once_ = false;
};

// Adapter decorator feeding Telemetry: mount it in the adapter's place. Counts Verify failures
// (Unauthenticated, PermissionDenied) as signature failures, replies rendered into an inline
// answer or handed to Deliver as sent or failed. Everything else is the inner adapter's.
class MeteredAdapter final : public Adapter {
 public:
  MeteredAdapter(Adapter& inner, Telemetry& telemetry) : inner_(inner), telemetry_(telemetry) {}

  const char* Name() const override { return inner_.Name(); }
  Status Verify(const HttpRequest& request) override;
  Result<Inbound> Decode(const HttpRequest& request) override { return inner_.Decode(request); }
  HttpResponse RenderInline(const Message& message, const TurnResult& turn) override;
  Status Deliver(const Message& message, const TurnResult& turn) override;
  bool ShowProgress(const Message& message, const Reply& interim) override {
    return inner_.ShowProgress(message, interim);
  }

 private:
  Adapter& inner_;
  Telemetry& telemetry_;
};

}  // namespace bot
