#include "adapters/slack/slack_adapter.h"

#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "adapters/slack/slack_signature.h"

namespace bot::slack {

using nlohmann::json;

namespace {

// A response_url is a credential: logs get its host only.
std::string Redact(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path) + "/…";
}

bool IsRealThread(const std::string& thread) { return !thread.empty() && thread.rfind("u:", 0) != 0; }
bool IsPrivateCase(const ConversationRef& ref) { return ref.thread.rfind("u:", 0) == 0; }

// Slack answers ok:false with these when the fault is on its side: worth another try.
bool IsTransientError(const std::string& error) {
  return error == "ratelimited" || error == "rate_limited" || error == "internal_error" ||
         error == "fatal_error" || error == "service_unavailable" || error == "request_timeout";
}

std::string Hint(const std::string& error) {
  if (error == "channel_not_found") return "the channel does not exist or the bot cannot see it (a private channel or DM it is not in)";
  if (error == "not_in_channel") return "invite the bot to the channel (/invite @mailguide) or add the chat:write.public scope";
  if (error == "is_archived") return "the channel is archived";
  if (error == "invalid_auth" || error == "not_authed") return "check MAILGUIDE_SLACK_BOT_TOKEN (the xoxb- token from OAuth & Permissions)";
  if (error == "account_inactive" || error == "token_revoked") return "the app was uninstalled or its token revoked: reinstall it";
  if (error == "missing_scope") return "add the scope named in 'needed' and reinstall the app (see deploy/slack-manifest.yml)";
  if (error == "invalid_blocks" || error == "invalid_blocks_format" || error == "msg_blocks_too_long") return "a rendering bug: please report it";
  if (error == "expired_url" || error == "used_url") return "the response_url has expired or been used up";
  return "see https://api.slack.com/methods for the error code";
}

Status StatusForError(const std::string& what, const std::string& error) {
  const std::string m = what + ": " + error;
  if (error == "invalid_auth" || error == "not_authed" || error == "account_inactive" || error == "token_revoked") {
    return Status::Unauthenticated(m);
  }
  if (error == "channel_not_found" || error == "message_not_found") return Status::NotFound(m);
  if (error == "not_in_channel" || error == "missing_scope" || error == "is_archived" ||
      error == "cant_update_message" || error == "user_not_in_channel") {
    return Status::PermissionDenied(m);
  }
  return Status::InvalidArgument(m);
}

std::string RandomId() {
  // Drawn from a per-thread pool: one RAND_bytes call per 32 ids instead of one per answer.
  constexpr size_t kIdBytes = 12, kPool = 32 * kIdBytes;
  thread_local unsigned char pool[kPool];
  thread_local size_t used = kPool;
  if (used == kPool) {
    if (RAND_bytes(pool, kPool) != 1) {
      // Share ids only need to be unguessable enough to not collide; fall back to the clock.
      return std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    used = 0;
  }
  const unsigned char* bytes = pool + used;
  used += kIdBytes;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kIdBytes);
  for (size_t i = 0; i < kIdBytes; ++i) {
    const unsigned char b = bytes[i];
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Bounded in memory: a response_url lives 30 minutes, so nothing older is useful.
constexpr int64_t kRememberSeconds = 30 * 60;
constexpr size_t kRememberMax = 2000;
// Rendered cacheable answers kept (SlackAdapter::Rendered); the cache starts over when full.
constexpr size_t kMaxRendered = 512;
// Stands in for a share id while a cacheable answer is rendered; as long as RandomId()'s ids.
constexpr std::string_view kShareIdMark = "@@mailguide-share-id@@@@";

// The sweep for expired entries runs once per clock second (the clock counts seconds, so
// nothing can newly expire within one): walking all 2000 entries on every slash command,
// under mu_, cost ~60k instructions per request (tests/bench/README.md, profiling).
template <typename Map>
void Prune(Map& m, int64_t now, int64_t& swept_at) {
  if (now != swept_at) {
    swept_at = now;
    for (auto it = m.begin(); it != m.end();) {
      if (now - it->second.created_at > kRememberSeconds) {
        it = m.erase(it);
      } else {
        ++it;
      }
    }
  }
  while (m.size() > kRememberMax) m.erase(m.begin());
}

// The clicked message as it was, minus its buttons, plus who chose what: the question
// stays readable in the thread and cannot be answered twice.
json AnsweredBlocks(const json& blocks, const std::string& user, const std::string& label) {
  json out = json::array();
  for (const auto& b : blocks) {
    if (b.is_object() && b.value("type", "") != "actions") out.push_back(b);
  }
  while (out.size() >= kMaxBlocks) out.erase(out.size() - 1);
  out.push_back({{"type", "context"},
                 {"elements", json::array({{{"type", "mrkdwn"},
                                            {"text", "<@" + user + "> chose *" +
                                                         EscapeMrkdwn(TruncateChars(label, 200)) + "*"}}})}});
  return out;
}

}  // namespace

SlackAdapter::SlackAdapter(SlackAdapterOptions options, HttpClient& http)
    : options_(std::move(options)), http_(http) {
  while (!options_.api_url.empty() && options_.api_url.back() == '/') options_.api_url.pop_back();
}

void SlackAdapter::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "slack: " << line << "\n";
  }
}

void SlackAdapter::Sleep(std::chrono::milliseconds d) const {
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

BotIdentity SlackAdapter::identity() const {
  std::lock_guard<std::mutex> lock(mu_);
  return identity_;
}

Status SlackAdapter::Start() {
  auto r = CallApi("auth.test", json::object());
  if (!r.ok()) return r.status();
  BotIdentity id;
  id.user_id = r->value("user_id", "");
  id.bot_id = r->value("bot_id", "");
  id.team_id = r->value("team_id", "");
  {
    std::lock_guard<std::mutex> lock(mu_);
    identity_ = id;
  }
  return Status::Ok();
}

Status SlackAdapter::Verify(const HttpRequest& request) {
  if (request.HeaderCount("X-Slack-Request-Timestamp") > 1 || request.HeaderCount("X-Slack-Signature") > 1) {
    return Status::Unauthenticated("duplicated X-Slack signature headers");
  }
  Status s = VerifySlackSignature(options_.signing_secret, request.Header("X-Slack-Request-Timestamp"),
                                  request.Header("X-Slack-Signature"), request.body, options_.clock());
  // Bolt answers Slack's ssl_check probe without a signature; it asks for nothing but a 200.
  if (!s.ok() && IsSslCheck(request.body)) return Status::Ok();
  return s;
}

Result<Inbound> SlackAdapter::Decode(const HttpRequest& request) {
  auto decoded = DecodePayload(request.Header("Content-Type"), request.body, identity());
  if (!decoded.ok()) return decoded.status();
  Decoded& d = *decoded;
  Inbound in;
  switch (d.kind) {
    case PayloadKind::kUrlVerification:
      in.kind = Inbound::Kind::kRespond;
      in.response.body = json{{"challenge", d.challenge}}.dump();
      return in;
    case PayloadKind::kSslCheck:
      in.kind = Inbound::Kind::kRespond;
      in.response.content_type = "text/plain";
      return in;
    case PayloadKind::kIgnored:
      if (d.ignore_reason.rfind("Slack is dropping", 0) == 0) Log(d.ignore_reason);
      in.kind = Inbound::Kind::kIgnore;
      return in;
    case PayloadKind::kEvent:
      in.kind = Inbound::Kind::kMessage;
      in.message = std::move(d.message);
      return in;
    case PayloadKind::kSlashCommand:
      if (d.message.command.empty()) {
        in.kind = Inbound::Kind::kRespond;
        in.response.body = json{{"response_type", "ephemeral"},
                                {"text", "mailguide answers /smtp-code and /mailguide, not " +
                                             EscapeMrkdwn(d.command) + "."}}
                               .dump();
        return in;
      }
      in.kind = Inbound::Kind::kMessage;
      in.reply_inline = true;
      in.message = std::move(d.message);
      return in;
    case PayloadKind::kBlockActions: {
      if (d.click.share) {
        // No engine turn: re-post a remembered answer, after the acknowledgement.
        Message m = d.message;
        ClickContext click = d.click;
        auto task = [this, m, click] { HandleShare(m, click); };
        if (options_.defer) {
          options_.defer(m.ref.Key(), std::move(task));
        } else {
          task();
        }
        in.kind = Inbound::Kind::kIgnore;
        return in;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        const int64_t now = options_.clock();
        Prune(clicks_, now, clicks_pruned_at_);
        clicks_[d.message.event_id] = Click{d.click, now};
      }
      in.kind = Inbound::Kind::kMessage;
      in.message = std::move(d.message);
      return in;
    }
  }
  return Status::Internal("unhandled Slack payload kind");
}

json SlackAdapter::ShareBlock(const std::string& share_id) const {
  return json::array({{{"type", "actions"},
                       {"elements", json::array({{{"type", "button"},
                                                  {"action_id", kShareActionId},
                                                  {"text", {{"type", "plain_text"}, {"text", "Share in channel"}}},
                                                  {"value", json{{"share", share_id}}.dump()}}})}}});
}

void SlackAdapter::RememberShare(std::shared_ptr<const std::string> shared, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = options_.clock();
  Prune(shares_, now, shares_pruned_at_);
  shares_[id] = Share{std::move(shared), now};
}

std::shared_ptr<const SlackAdapter::Rendered> SlackAdapter::Render(const Message& message,
                                                                   const TurnResult& turn) const {
  // The share block's own size is reserved in the render: the mark has the length of
  // a real id, which takes its place in the text.
  json body = RenderSingleMessage(turn.replies, message.ref, ShareBlock(std::string(kShareIdMark)));
  auto rendered = std::make_shared<Rendered>();
  json shared = body;
  shared["blocks"].erase(shared["blocks"].size() - 1);
  rendered->shared = std::make_shared<const std::string>(shared.dump(-1, ' ', false, json::error_handler_t::replace));
  body["response_type"] = "ephemeral";
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  const size_t at = text.find(kShareIdMark);
  if (at == std::string::npos || text.find(kShareIdMark, at + 1) != std::string::npos) {
    return nullptr;  // the answer quotes the mark itself: render with the real id
  }
  rendered->head = text.substr(0, at);
  rendered->tail = text.substr(at + kShareIdMark.size());
  return rendered;
}

HttpResponse SlackAdapter::RenderInline(const Message& message, const TurnResult& turn) {
  HttpResponse response;
  if (turn.replies.empty()) {
    response.content_type = "text/plain";
    return response;
  }
  // A credential is for the asker alone: no share button, no copy kept. A question of a case
  // in progress is not worth sharing either (the buttons answer it, not the channel): only a
  // finished answer — a lookup, a check report, help — offers "Share in channel".
  const bool confidential = std::any_of(turn.replies.begin(), turn.replies.end(),
                                        [](const Reply& r) { return r.confidential; });
  if (confidential || turn.status == TurnStatus::kWaiting) {
    json body = RenderSingleMessage(turn.replies, message.ref);
    body["response_type"] = "ephemeral";
    response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return response;
  }
  // Button values name the workspace and the thread, so both are part of the key.
  const std::string key = turn.cacheable ? message.ref.workspace + '\n' + message.ref.thread + '\n' +
                                               message.command + '\n' + message.text
                                         : std::string();
  std::shared_ptr<const Rendered> rendered;
  if (!key.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = rendered_.find(key); it != rendered_.end()) rendered = it->second;
  }
  if (!rendered) {
    rendered = Render(message, turn);
    if (rendered && !key.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (rendered_.size() >= kMaxRendered) rendered_.clear();  // bounded; a miss just renders again
      rendered_[key] = rendered;
    }
  }
  const std::string id = RandomId();
  if (!rendered) {
    json body = RenderSingleMessage(turn.replies, message.ref, ShareBlock(id));
    json shared = body;
    shared["blocks"].erase(shared["blocks"].size() - 1);
    RememberShare(std::make_shared<const std::string>(shared.dump(-1, ' ', false, json::error_handler_t::replace)),
                  id);
    body["response_type"] = "ephemeral";
    response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return response;
  }
  RememberShare(rendered->shared, id);
  response.body.reserve(rendered->head.size() + id.size() + rendered->tail.size());
  response.body.append(rendered->head).append(id).append(rendered->tail);
  return response;
}

void SlackAdapter::HandleShare(const Message& message, const ClickContext& click) {
  std::shared_ptr<const std::string> text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Prune(shares_, options_.clock(), shares_pruned_at_);
    auto it = shares_.find(click.share_id);
    if (it != shares_.end()) text = it->second.message;
  }
  if (message.ref.reply_url.empty()) return;
  json answer = text ? json::parse(*text, nullptr, /*allow_exceptions=*/false) : json();
  if (!answer.is_object()) {
    PostToResponseUrl(message.ref.reply_url,
                      {{"response_type", "ephemeral"},
                       {"replace_original", false},
                       {"text", "That answer is no longer available to share; run the command again."}});
    return;
  }
  answer["blocks"].push_back({{"type", "context"},
                              {"elements", json::array({{{"type", "mrkdwn"},
                                                         {"text", "Shared by <@" + message.ref.user + ">"}}})}});
  answer["response_type"] = "in_channel";
  answer["replace_original"] = false;
  if (PostToResponseUrl(message.ref.reply_url, answer).ok()) {
    PostToResponseUrl(message.ref.reply_url, {{"delete_original", true}});
  }
}

Status SlackAdapter::Replace(const Message& message, const ClickContext* click, SlackMessage m) {
  Status s = Status::NotFound("no response_url");
  if (!message.ref.reply_url.empty()) {
    m["replace_original"] = true;
    s = PostToResponseUrl(message.ref.reply_url, m);
    if (s.ok()) return s;
    m.erase("replace_original");
  }
  // response_url expired or missing: chat.update works on non-ephemeral bot messages.
  if (click && !click->ephemeral && !click->message_ts.empty()) {
    json args = std::move(m);
    args["channel"] = click->channel;
    args["ts"] = click->message_ts;
    auto r = CallApi("chat.update", args);
    return r.ok() ? Status::Ok() : r.status();
  }
  return s;
}

Status SlackAdapter::PostEphemeral(const Message& message, SlackMessage m) {
  if (!message.ref.reply_url.empty()) {
    m["response_type"] = "ephemeral";
    m["replace_original"] = false;
    return PostToResponseUrl(message.ref.reply_url, m);
  }
  json args = std::move(m);
  args["channel"] = message.ref.channel;
  args["user"] = message.ref.user;
  if (IsRealThread(message.ref.thread)) args["thread_ts"] = message.ref.thread;
  auto r = CallApi("chat.postEphemeral", args);
  return r.ok() ? Status::Ok() : r.status();
}

Status SlackAdapter::PostInThread(const Message& message, SlackMessage m) {
  json args = std::move(m);
  args["channel"] = message.ref.channel;
  if (IsRealThread(message.ref.thread)) args["thread_ts"] = message.ref.thread;
  args["unfurl_links"] = false;
  args["unfurl_media"] = false;
  auto r = CallApi("chat.postMessage", args);
  return r.ok() ? Status::Ok() : r.status();
}

bool SlackAdapter::ShowProgress(const Message& message, const Reply& interim) {
  std::vector<SlackMessage> rendered = RenderReply(interim, message.ref);
  if (rendered.empty()) return false;
  const SlackMessage& m = rendered.front();
  if (!message.command.empty()) {
    if (message.ref.reply_url.empty()) return false;
    json body = m;
    body["response_type"] = "ephemeral";
    body["replace_original"] = false;
    return PostToResponseUrl(message.ref.reply_url, body).ok();
  }
  if (message.event_id.empty()) return false;
  if (IsPrivateCase(message.ref)) {
    // A private case is one ephemeral message: the click's response_url rewrites it now, and
    // Deliver rewrites it again with the answer.
    std::optional<ClickContext> click;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = clicks_.find(message.event_id); it != clicks_.end()) click = it->second.context;
    }
    if (!click || !click->ephemeral || message.ref.reply_url.empty()) return false;
    return Replace(message, &*click, m).ok();
  }
  json args = m;
  args["channel"] = message.ref.channel;
  if (IsRealThread(message.ref.thread)) args["thread_ts"] = message.ref.thread;
  auto posted = CallApi("chat.postMessage", args);
  if (!posted.ok() || !(*posted)["ts"].is_string()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = options_.clock();
  Prune(interims_, now, interims_pruned_at_);
  interims_[message.event_id] = Interim{posted->value("channel", message.ref.channel), (*posted)["ts"], now};
  return true;
}

Status SlackAdapter::Update(const Interim& interim, SlackMessage m) {
  json args = std::move(m);
  args["channel"] = interim.channel;
  args["ts"] = interim.ts;
  auto r = CallApi("chat.update", args);
  return r.ok() ? Status::Ok() : r.status();
}

Status SlackAdapter::Deliver(const Message& message, const TurnResult& turn) {
  std::optional<Interim> interim;
  if (!message.event_id.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = interims_.find(message.event_id); it != interims_.end()) {
      interim = std::move(it->second);
      interims_.erase(it);
    }
  }
  if (turn.replies.empty()) return Status::Ok();

  // A slash command whose inline answer missed Slack's 3 s: the same answer, late.
  if (!message.command.empty()) {
    HttpResponse late = RenderInline(message, turn);
    if (!message.ref.reply_url.empty()) {
      json body = json::parse(late.body);
      body["replace_original"] = false;
      return PostToResponseUrl(message.ref.reply_url, body);
    }
    return PostEphemeral(message, json::parse(late.body));
  }

  std::optional<ClickContext> click;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clicks_.find(message.event_id);
    if (it != clicks_.end() && !message.event_id.empty()) {
      click = std::move(it->second.context);
      clicks_.erase(it);
    }
  }
  const bool private_case = IsPrivateCase(message.ref);
  bool any_public = false, any_replace = false;
  for (const Reply& r : turn.replies) {
    any_public = any_public || !r.ephemeral;
    any_replace = any_replace || r.replaces_previous;
  }
  // A click that moves the case on: freeze the clicked question (no buttons, who chose
  // what) and answer below it, so the thread reads as a transcript.
  bool replaced = false;
  if (click && any_public && !any_replace && !private_case && !click->ephemeral &&
      click->message_blocks.is_array()) {
    json answered = {{"text", "Answered: " + EscapeMrkdwn(click->label)},
                     {"blocks", AnsweredBlocks(click->message_blocks, message.ref.user, click->label)}};
    Status s = Replace(message, &*click, std::move(answered));
    if (!s.ok()) Log("could not mark the clicked question answered: " + s.ToString());
  }
  for (const Reply& r : turn.replies) {
    std::vector<SlackMessage> messages = RenderReply(r, message.ref);
    for (size_t i = 0; i < messages.size(); ++i) {
      Status s;
      // In a private (slash-command) case the one ephemeral message is the whole
      // conversation: a click updates it in place.
      const bool replace = click && i == 0 && !replaced && !r.ephemeral &&
                           (r.replaces_previous || (private_case && click->ephemeral));
      if (replace) {
        replaced = true;
        s = Replace(message, &*click, std::move(messages[i]));
      } else if (r.ephemeral || private_case) {
        s = PostEphemeral(message, std::move(messages[i]));
      } else if (interim) {
        // The "Checking…" message becomes the answer's first message.
        s = Update(*interim, messages[i]);
        interim.reset();
        if (!s.ok()) s = PostInThread(message, std::move(messages[i]));
      } else {
        s = PostInThread(message, std::move(messages[i]));
      }
      if (!s.ok()) return s;
    }
  }
  if (interim) {
    // Nothing public to put in its place (an error note, say): the interim must not go on
    // claiming that checks are running.
    Status s = Update(*interim, json{{"text", "The checks are over; the answer was sent separately."},
                                      {"blocks", json::array()}});
    if (!s.ok()) Log("could not retire the checking message: " + s.ToString());
  }
  return Status::Ok();
}

Result<nlohmann::json> SlackAdapter::CallApi(const std::string& method, const nlohmann::json& args) {
  Headers headers{{"Authorization", "Bearer " + options_.bot_token},
                  {"Content-Type", "application/json; charset=utf-8"}};
  auto r = SendWithRetry(method, options_.api_url + "/" + method, headers, args.dump());
  if (!r.ok()) return r.status();
  json body;
  try {
    body = json::parse(r->body);
  } catch (const json::exception&) {
    Log(method + " failed: HTTP " + std::to_string(r->status) + " with a body that is not JSON");
    return Status::Internal(method + ": response is not JSON");
  }
  if (!body.is_object()) return Status::Internal(method + ": response is not a JSON object");
  if (body.value("ok", false)) return body;
  const std::string error = body.value("error", std::string("unknown_error"));
  std::string detail;
  if (args.contains("channel") && args["channel"].is_string()) detail = " (channel " + args["channel"].get<std::string>() + ")";
  if (error == "missing_scope") detail += " needed=" + body.value("needed", std::string("?"));
  Log(method + " failed: " + error + detail + " — " + Hint(error));
  return StatusForError(method, error);
}

Status SlackAdapter::PostToResponseUrl(const std::string& url, const nlohmann::json& body) {
  Headers headers{{"Content-Type", "application/json; charset=utf-8"}};
  auto r = SendWithRetry("response_url " + Redact(url), url, headers, body.dump());
  if (!r.ok()) return r.status();
  if (r->status >= 200 && r->status < 300) {
    // Slack answers "ok" or {"ok":true}; an ok:false JSON is a failure despite the 200. The
    // plain "ok" is the usual answer: parsed without an exception (one per delivery cost
    // ~35k instructions, tests/bench/README.md).
    const json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("ok") && !j.value("ok", true)) {
      const std::string error = j.value("error", std::string("unknown_error"));
      Log("response_url " + Redact(url) + " failed: " + error + " — " + Hint(error));
      return StatusForError("response_url", error);
    }
    return Status::Ok();
  }
  std::string error = r->body.substr(0, 80);
  Log("response_url " + Redact(url) + " failed: HTTP " + std::to_string(r->status) + " " + error + " — " + Hint(error));
  return r->status == 404 ? Status::NotFound("response_url: " + error) : Status::InvalidArgument("response_url: " + error);
}

Result<HttpResponse> SlackAdapter::SendWithRetry(const std::string& what, const std::string& url,
                                                  const Headers& headers, const std::string& body) {
  std::chrono::milliseconds backoff = options_.backoff;
  Status last = Status::Unavailable(what + ": not attempted");
  const int attempts = std::max(1, options_.max_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    auto r = http_.Send("POST", url, headers, body);
    std::chrono::milliseconds wait = backoff;
    if (!r.ok()) {
      last = r.status();
    } else if (r->status == 429) {
      int64_t seconds = 1;
      auto it = r->headers.find("Retry-After");
      if (it != r->headers.end()) {
        const std::string& v = it->second;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
        if (ec != std::errc() || seconds < 0) seconds = 1;
      }
      if (std::chrono::seconds(seconds) > options_.max_retry_after) {
        Log(what + " rate-limited with Retry-After " + std::to_string(seconds) + "s; giving up on this message");
        return Status::ResourceExhausted(what + ": rate-limited");
      }
      last = Status::ResourceExhausted(what + ": rate-limited");
      wait = std::chrono::seconds(seconds);
      if (attempt < attempts) {
        Sleep(wait);
        continue;  // a 429 is a schedule, not a failure: keep the backoff where it was
      }
      continue;
    } else if (r->status >= 500) {
      last = Status::Unavailable(what + ": HTTP " + std::to_string(r->status));
    } else {
      // ok:false with a transient error code is retried like a 5xx.
      if (r->status == 200 && !r->body.empty() && r->body.front() == '{') {
        try {
          json j = json::parse(r->body);
          if (IsTransientError(j.value("error", ""))) {
            last = Status::Unavailable(what + ": " + j.value("error", ""));
            if (attempt < attempts) Sleep(wait);
            backoff *= 2;
            continue;
          }
        } catch (const json::exception&) {
        }
      }
      return r;
    }
    if (attempt < attempts) Sleep(wait);
    backoff *= 2;
  }
  Log(what + " failed after " + std::to_string(attempts) + " attempts: " + last.ToString());
  return last;
}

}  // namespace bot::slack
