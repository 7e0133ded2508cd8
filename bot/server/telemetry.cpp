#include "bot/server/telemetry.h"

#include <charconv>
#include <cmath>
#include <thread>

#include "bot/text.h"

namespace bot {

Telemetry::Telemetry(TelemetryOptions options) : options_(std::move(options)) {
  build_info_.With({options_.version.empty() ? "unknown" : options_.version}).Set(1);
}

void Telemetry::AddEndpoint(const std::string& path, const std::string& platform) { endpoints_[path] = platform; }

void Telemetry::ObserveRequest(const RequestInfo& r) {
  auto it = endpoints_.find(r.path);
  const bool known = it != endpoints_.end();
  const std::string endpoint = known ? r.path : "other";
  requests_.With({endpoint, std::to_string(r.status)}).Inc();
  latency_.With({endpoint}).Observe(r.latency_ms / 1000.0);
  if (!options_.logger) return;
  // Built by hand rather than as a JSON value: it is written for every request.
  std::string line = "\"event\":\"request\",\"request_id\":";
  line.reserve(200);
  AppendJsonQuoted(line, r.id);
  line += ",\"method\":";
  AppendJsonQuoted(line, r.method);
  line += ",\"endpoint\":";
  AppendJsonQuoted(line, endpoint);
  if (!known) {
    line += ",\"path\":";
    AppendJsonQuoted(line, std::string_view(r.path).substr(0, 200));
  }
  if (known && !it->second.empty()) {
    line += ",\"platform\":";
    AppendJsonQuoted(line, it->second);
  }
  line += ",\"status\":" + std::to_string(r.status);
  // One decimal, as "12.0" or "0.3": what a JSON dump of the rounded value writes.
  char latency[32];
  const double rounded = std::round(r.latency_ms * 10) / 10;
  auto [end, ec] = std::to_chars(latency, latency + sizeof latency, rounded, std::chars_format::fixed, 1);
  line += ",\"latency_ms\":";
  line.append(latency, ec == std::errc() ? end : latency);
  line += ",\"remote\":";
  AppendJsonQuoted(line, r.remote_addr);
  options_.logger->WriteMembers(r.status >= 500 ? "warn" : "info", line);
}

TurnHandler Telemetry::Wrap(const std::string& platform, TurnHandler handler) {
  return [this, platform, handler = std::move(handler)](const Message& m, const Progress& progress) {
    Result<TurnResult> turn = handler(m, progress);
    ObserveTurn(platform, turn);
    return turn;
  };
}

void Telemetry::ObserveTurn(const std::string& platform, const Result<TurnResult>& turn) {
  if (!turn.ok()) {
    turns_.With({platform, "failed"}).Inc();
    return;
  }
  const bool duplicate = turn->status == TurnStatus::kIgnored && turn->replies.empty();
  turns_.With({platform, duplicate ? "duplicate" : "answered"}).Inc();
  if (turn->closed) outcomes_.With({turn->closed->flow, turn->closed->outcome, turn->closed->step}).Inc();
}

void Telemetry::ObserveVerify(const std::string& platform, const Status& status) {
  if (status.code() == Status::Code::kUnauthenticated || status.code() == Status::Code::kPermissionDenied) {
    signature_failures_.With({platform}).Inc();
  }
}

void Telemetry::ObserveReplies(const std::string& platform, size_t replies, bool sent) {
  if (replies == 0) return;
  (sent ? replies_sent_ : replies_failed_).With({platform}).Inc(replies);
}

std::function<void(std::chrono::milliseconds)> Telemetry::CountingSleep(
    const std::string& platform, std::function<void(std::chrono::milliseconds)> sleep) {
  Counter& retries = retries_.With({platform});
  return [&retries, sleep = std::move(sleep)](std::chrono::milliseconds d) {
    retries.Inc();
    if (sleep) {
      sleep(d);
    } else {
      std::this_thread::sleep_for(d);
    }
  };
}

void Telemetry::RefreshLive() {
  if (!options_.live_conversations) return;
  std::lock_guard<std::mutex> lock(live_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (live_once_ && now - live_at_ < options_.live_cache) return;
  // Scrapes come every 15-60 s from each Prometheus; the store is asked at most once per
  // live_cache whatever their number. A failure keeps the last count and says so in store_up.
  Result<int64_t> live = options_.live_conversations();
  live_once_ = true;
  live_at_ = now;
  store_up_.With({}).Set(live.ok() ? 1 : 0);
  if (live.ok()) live_.With({}).Set(static_cast<double>(*live));
}

std::string Telemetry::Render() {
  RefreshLive();
  std::string out;
  RenderFamily(requests_, out);
  RenderFamily(latency_, out);
  RenderFamily(signature_failures_, out);
  RenderFamily(replies_sent_, out);
  RenderFamily(replies_failed_, out);
  RenderFamily(retries_, out);
  RenderFamily(turns_, out);
  RenderFamily(outcomes_, out);
  if (options_.live_conversations) {
    RenderFamily(live_, out);
    RenderFamily(store_up_, out);
  }
  RenderFamily(build_info_, out);
  return out;
}

Status MeteredAdapter::Verify(const HttpRequest& request) {
  Status s = inner_.Verify(request);
  telemetry_.ObserveVerify(inner_.Name(), s);
  return s;
}

HttpResponse MeteredAdapter::RenderInline(const Message& message, const TurnResult& turn) {
  HttpResponse r = inner_.RenderInline(message, turn);
  telemetry_.ObserveReplies(inner_.Name(), turn.replies.size(), r.status < 400);
  return r;
}

Status MeteredAdapter::Deliver(const Message& message, const TurnResult& turn) {
  Status s = inner_.Deliver(message, turn);
  telemetry_.ObserveReplies(inner_.Name(), turn.replies.size(), s.ok());
  return s;
}

}  // namespace bot
