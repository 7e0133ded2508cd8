#include "adapters/teams/teams_adapter.h"

#include <cctype>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/teams/teams_card.h"
#include "adapters/teams/teams_codec.h"
#include "adapters/teams/teams_hmac.h"
#include "adapters/teams/teams_json.h"
#include "adapters/teams/teams_jwt.h"

namespace bot::teams {
namespace {

using nlohmann::json;

// Teams posts activities as application/json (with a charset parameter or without).
Status RequireJson(const HttpRequest& request) {
  std::string type = request.Header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type != "application/json") return Status::InvalidArgument("Content-Type must be application/json");
  return Status::Ok();
}

constexpr size_t kMaxTrustedServiceUrls = 256;

// The from / conversation / recipient fields of every activity the bot `app_id` sends in reply.
json Envelope(const std::string& app_id, const Message& message, const ReplyAddress& address) {
  return {{"from", {{"id", "28:" + app_id}}},
          {"conversation", {{"id", address.conversation_id}}},
          {"recipient", {{"id", message.ref.user}}}};
}

// Where the cards of a reply to `message` are shown.
CardContext CardContextFor(const Message& message, bool buttons) {
  CardContext ctx;
  ctx.buttons = buttons;
  ctx.channel = message.ref.channel;
  ctx.thread = message.ref.thread;
  return ctx;
}

// "Checking…" cards waiting for their answer; past this many, one is forgotten (its turn failed).
constexpr size_t kMaxInterims = 2000;

bool IsHttpsUrl(const std::string& url) { return url.rfind("https://", 0) == 0; }

// Only one Authorization header may speak for a request.
Status SingleAuthorization(const HttpRequest& request) {
  if (request.HeaderCount("Authorization") > 1) {
    return Status::Unauthenticated("more than one Authorization header");
  }
  return Status::Ok();
}

std::string ActivitiesUrl(std::string service_url, const std::string& conversation_id,
                          const std::string& activity_id) {
  if (service_url.empty() || service_url.back() != '/') service_url += '/';
  std::string url = service_url + "v3/conversations/" + PercentEncode(conversation_id) + "/activities";
  if (!activity_id.empty()) url += "/" + PercentEncode(activity_id);
  return url;
}

// "Throttled: <message>" from a connector ErrorResponse, or the bare HTTP status.
std::string ConnectorError(const HttpResponse& resp) {
  std::string what = "HTTP " + std::to_string(resp.status);
  json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    if (e.contains("code") && e["code"].is_string()) what += " " + e["code"].get<std::string>();
  }
  auto op = resp.headers.find("X-Correlating-OperationId");
  if (op != resp.headers.end()) what += " (operation " + op->second + ")";
  return what;
}

}  // namespace

Status ValidateTeamsSettings(const TeamsSettings& s) {
  if (!s.webhook_secret.empty()) {
    auto key = Base64Decode(s.webhook_secret);
    if (!key.ok() || key->empty()) {
      return Status::InvalidArgument(
          "MAILGUIDE_TEAMS_WEBHOOK_SECRET is not a base64 security token (copy it from the "
          "outgoing webhook's creation dialog)");
    }
  }
  if (!s.app_id.empty() && s.app_password.empty()) {
    return Status::InvalidArgument("MAILGUIDE_TEAMS_APP_ID is set but MAILGUIDE_TEAMS_APP_PASSWORD is not");
  }
  if (s.app_id.empty() && !s.app_password.empty()) {
    return Status::InvalidArgument("MAILGUIDE_TEAMS_APP_PASSWORD is set but MAILGUIDE_TEAMS_APP_ID is not");
  }
  if (s.bot_enabled()) {
    if (!IsHttpsUrl(s.openid_url)) return Status::InvalidArgument("MAILGUIDE_TEAMS_OPENID_URL must be https");
    if (!IsHttpsUrl(s.token_url)) return Status::InvalidArgument("MAILGUIDE_TEAMS_TOKEN_URL must be https");
  }
  return Status::Ok();
}

// --- outgoing webhook ---------------------------------------------------------------

TeamsWebhookAdapter::TeamsWebhookAdapter(const TeamsSettings& settings)
    : secret_(settings.webhook_secret) {}

Status TeamsWebhookAdapter::Verify(const HttpRequest& request) {
  if (secret_.empty()) return Status::Unauthenticated("Teams outgoing webhook is not configured");
  if (Status s = SingleAuthorization(request); !s.ok()) return s;
  Status s = VerifyWebhookHmac(secret_, request.Header("Authorization"), request.body);
  // A broken secret is our configuration, not the caller's fault, but the caller still
  // isn't authenticated; ValidateTeamsSettings stops serve from starting with one.
  if (s.code() == Status::Code::kInternal) return Status::Unauthenticated(s.message());
  return s;
}

Result<Inbound> TeamsWebhookAdapter::Decode(const HttpRequest& request) {
  if (Status s = RequireJson(request); !s.ok()) return s;
  return DecodeActivity(request.body, Endpoint::kWebhook);
}

HttpResponse TeamsWebhookAdapter::RenderInline(const Message& message, const TurnResult& turn) {
  HttpResponse resp;
  resp.status = 200;
  if (turn.replies.empty()) {
    // A repeated delivery: Teams shows nothing for an empty answer.
    resp.body = "";
    return resp;
  }
  CardContext ctx = CardContextFor(message, /*buttons=*/false);
  auto address = DecodeEventId(message.event_id);
  if (address.ok() && !address->mention_name.empty()) ctx.mention_name = address->mention_name;
  resp.body = RenderMessageActivity(turn.replies, ctx);
  return resp;
}

Status TeamsWebhookAdapter::Deliver(const Message&, const TurnResult&) {
  return Status::InvalidArgument("Teams outgoing webhooks can only answer in the HTTP response");
}

// --- Bot Framework bot --------------------------------------------------------------

TeamsBotAdapter::TeamsBotAdapter(const TeamsSettings& settings, HttpClient& http,
                                 BotAdapterOptions options)
    : settings_(settings),
      http_(http),
      options_(std::move(options)),
      keys_(http, [&] {
        KeySourceOptions k = options_.keys;
        k.openid_url = settings.openid_url;
        if (!k.log) k.log = options_.log;
        return k;
      }(), options_.clock),
      tokens_(http,
              TokenOptions{settings.token_url, settings.app_id, settings.app_password,
                           settings.tenant_id},
              options_.clock) {
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
}

void TeamsBotAdapter::TrustServiceUrlForTesting(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  trusted_service_urls_.insert(url);
}

void TeamsBotAdapter::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "teams: " << line << "\n";
  }
}

bool TeamsBotAdapter::Trusted(const std::string& service_url) {
  std::lock_guard<std::mutex> lock(mu_);
  return trusted_service_urls_.count(service_url) > 0;
}

Status TeamsBotAdapter::Verify(const HttpRequest& request) {
  if (!settings_.bot_enabled()) return Status::Unauthenticated("Teams bot is not configured");
  if (Status s = SingleAuthorization(request); !s.ok()) return s;
  auto token = BearerToken(request.Header("Authorization"));
  if (!token.ok()) return token.status();
  auto header = ParseJwtHeader(*token);
  if (!header.ok()) return header.status();
  auto keys = keys_.KeysFor(header->kid);
  if (!keys.ok()) return keys.status();
  JwtExpectations expect;
  expect.audience = settings_.app_id;
  auto jwt = VerifyBotFrameworkJwt(*token, **keys, expect, options_.clock());
  if (!jwt.ok()) return jwt.status();
  // Only an authentic token gets the body read, and only for the two fields it must vouch for.
  auto routing = PeekRouting(request.body);
  if (!routing.ok()) return Status::Unauthenticated("body is not an activity; token cannot vouch for it");
  if (Status s = CheckActivityBinding(*jwt, routing->service_url, routing->channel_id); !s.ok()) return s;
  if (IsHttpsUrl(routing->service_url)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (trusted_service_urls_.size() < kMaxTrustedServiceUrls) trusted_service_urls_.insert(routing->service_url);
  }
  return Status::Ok();
}

Result<Inbound> TeamsBotAdapter::Decode(const HttpRequest& request) {
  if (Status s = RequireJson(request); !s.ok()) return s;
  return DecodeActivity(request.body, Endpoint::kBot);
}

HttpResponse TeamsBotAdapter::RenderInline(const Message&, const TurnResult&) {
  HttpResponse resp;
  resp.status = 200;
  resp.body = "";
  return resp;
}

Result<std::string> TeamsBotAdapter::Send(const std::string& method, const std::string& url,
                                          const std::string& body) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  bool refreshed_token = false;
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    auto token = tokens_.Get();
    if (!token.ok()) return token.status();
    auto resp = http_.Send(method, url,
                           {{"Authorization", "Bearer " + *token},
                            {"Content-Type", "application/json; charset=utf-8"}},
                           body);
    int64_t wait_ms = -1;  // < 0: do not retry
    // Microsoft's example policy: exponential from 2 s, ±20 % jitter, at most 20 s.
    int64_t backoff = std::min<int64_t>(20000, 2000LL << attempt);
    backoff = static_cast<int64_t>(backoff * std::uniform_real_distribution<double>(0.8, 1.2)(rng));
    if (!resp.ok()) {
      last = Status::Unavailable("Bot Connector unreachable: " + resp.status().message());
      wait_ms = backoff;
    } else if (resp->status >= 200 && resp->status < 300) {
      return std::move(resp->body);
    } else if (resp->status == 401 && !refreshed_token) {
      // The token may have been revoked or rotated early: one retry with a fresh one.
      tokens_.Invalidate();
      refreshed_token = true;
      last = Status::Unauthenticated("Bot Connector refused the token: " + ConnectorError(*resp));
      wait_ms = 0;
    } else if (resp->status == 429) {
      last = Status::ResourceExhausted("Bot Connector throttled: " + ConnectorError(*resp));
      wait_ms = backoff;
      auto ra = resp->headers.find("Retry-After");
      if (ra != resp->headers.end()) {
        char* end = nullptr;
        long long seconds = std::strtoll(ra->second.c_str(), &end, 10);
        if (end != ra->second.c_str() && seconds >= 0) {
          wait_ms = std::min<int64_t>(seconds, options_.max_retry_after_seconds) * 1000;
        }
      }
    } else if (resp->status == 412 || resp->status == 502 || resp->status == 503 || resp->status == 504) {
      last = Status::Unavailable("Bot Connector busy: " + ConnectorError(*resp));
      wait_ms = backoff;
    } else {
      std::string what = "Bot Connector refused " + method + ": " + ConnectorError(*resp);
      switch (resp->status) {
        case 400: return Status::InvalidArgument(what);
        case 401: return Status::Unauthenticated(what);
        case 403: return Status::PermissionDenied(what);
        case 404: return Status::NotFound(what);
        case 413: return Status::ResourceExhausted(what);
        default: return Status::Unavailable(what);
      }
    }
    if (wait_ms < 0 || attempt + 1 >= options_.max_attempts) break;
    if (wait_ms > 0) options_.sleep(std::chrono::milliseconds(wait_ms));
  }
  return last;
}

bool TeamsBotAdapter::ShowProgress(const Message& message, const Reply& interim) {
  auto address = DecodeEventId(message.event_id);
  if (!address.ok() || !Trusted(message.ref.reply_url)) return false;
  json extra = Envelope(settings_.app_id, message, *address);
  if (!address->activity_id.empty()) extra["replyToId"] = address->activity_id;
  auto sent = Send("POST", ActivitiesUrl(message.ref.reply_url, address->conversation_id, address->activity_id),
                   RenderMessageActivity({interim}, CardContextFor(message, /*buttons=*/false), extra));
  if (!sent.ok()) return false;
  // ResourceResponse {"id": "<new activity id>"}: without it there is nothing to update.
  json resource = json::parse(*sent, nullptr, false);
  if (!resource.is_object() || !resource["id"].is_string() || resource["id"].get<std::string>().empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (interims_.size() >= kMaxInterims) interims_.erase(interims_.begin());
  interims_[message.event_id] = resource["id"].get<std::string>();
  return true;
}

Status TeamsBotAdapter::Deliver(const Message& message, const TurnResult& turn) {
  std::string interim;  // the id of this turn's "Checking…" card, if one was posted
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = interims_.find(message.event_id); it != interims_.end()) {
      interim = std::move(it->second);
      interims_.erase(it);
    }
  }
  if (turn.replies.empty()) return Status::Ok();
  auto address = DecodeEventId(message.event_id);
  if (!address.ok()) return Status::InvalidArgument("message was not decoded by the Teams bot adapter");
  const std::string& service_url = message.ref.reply_url;
  // Our token only ever goes to serviceUrls a verified Bot Framework token named.
  if (!Trusted(service_url)) {
    return Status::PermissionDenied("serviceUrl was not vouched for by a verified token");
  }

  const CardContext ctx = CardContextFor(message, /*buttons=*/true);
  const json common = Envelope(settings_.app_id, message, *address);

  // A click the engine refused (a stale button, someone else's case) comes back ignored or
  // as notices meant for the clicker alone: the card stays as it is for its owner.
  bool accepted = turn.status != TurnStatus::kIgnored;
  if (accepted) {
    accepted = false;
    for (const auto& r : turn.replies) accepted = accepted || !r.ephemeral;
  }
  const bool click = !address->reply_to_id.empty() && accepted;
  bool replaced = false;
  Status first_error;
  auto note = [this, &first_error](const Status& s) {
    if (!s.ok()) {
      Log("delivery failed: " + s.ToString());
      if (first_error.ok()) first_error = s;
    }
  };
  const std::string update_url = click ? ActivitiesUrl(service_url, address->conversation_id, address->reply_to_id) : "";

  // Without a reply meant to take the clicked card's place, retire it before anything new
  // appears: its title and the answer given, no buttons.
  bool any_replaces = false;
  for (const auto& r : turn.replies) any_replaces = any_replaces || r.replaces_previous;
  if (click && !any_replaces) {
    json update = common;
    update["type"] = "message";
    update["id"] = address->reply_to_id;
    update["attachments"] = json::array(
        {{{"contentType", kAdaptiveCardType}, {"content", RenderAnsweredCard(address->answered)}}});
    note(Send("PUT", update_url, update.dump(-1, ' ', false, json::error_handler_t::replace)).status());
    replaced = true;
  }

  for (const auto& reply : turn.replies) {
    json extra = common;
    std::string method = "POST", url;
    if (click && reply.replaces_previous && !replaced) {
      method = "PUT";
      url = update_url;
      extra["id"] = address->reply_to_id;
      replaced = true;
    } else if (!interim.empty()) {
      // The "Checking…" card becomes the answer's first card.
      method = "PUT";
      url = ActivitiesUrl(service_url, address->conversation_id, interim);
      extra["id"] = interim;
      interim.clear();
    } else {
      url = ActivitiesUrl(service_url, address->conversation_id, address->activity_id);
      if (!address->activity_id.empty()) extra["replyToId"] = address->activity_id;
    }
    Status s = Send(method, url, RenderMessageActivity({reply}, ctx, extra)).status();
    note(s);
    // A permanent refusal (bot removed, conversation gone) will refuse the rest too.
    if (!s.ok() && s.code() != Status::Code::kNotFound) break;
  }
  if (!interim.empty()) {
    // Every reply went elsewhere (over the clicked card): the interim must not go on claiming
    // that checks are running.
    Reply over;
    over.paragraphs = {"The checks are over; the answer is above."};
    json extra = common;
    extra["id"] = interim;
    note(Send("PUT", ActivitiesUrl(service_url, address->conversation_id, interim),
              RenderMessageActivity({over}, ctx, extra)).status());
  }
  return first_error;
}

}  // namespace bot::teams
