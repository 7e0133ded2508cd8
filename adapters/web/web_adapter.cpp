#include "adapters/web/web_adapter.h"

#include <nlohmann/json.hpp>

#include "adapters/web/web_render.h"

namespace bot::web {

using nlohmann::json;

namespace {

constexpr size_t kMaxText = 20000;        // a long pasted bounce fits; a novel does not
constexpr size_t kMaxPendingKeys = 1000;  // late replies are a rare fallback: keep few
constexpr size_t kMaxPendingReplies = 20;

bool IsId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The string member `name` of `j`, or "" when absent; false when present but not a string.
bool StringField(const json& j, const char* name, std::string& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

json ReplyJson(const Reply& r) {
  return json{{"html", RenderReplyHtml(r)}, {"step_token", r.step_token}, {"asks", !r.choices.empty()}};
}

const char* StatusName(TurnStatus s) {
  switch (s) {
    case TurnStatus::kWaiting: return "waiting";
    case TurnStatus::kCompleted: return "completed";
    case TurnStatus::kIgnored: return "ignored";
  }
  return "completed";
}

HttpResponse JsonResponse(const json& body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}

}  // namespace

Status WebAdapter::Verify(const HttpRequest& request) { return CheckAccess(request, options_.access); }

Result<Inbound> WebAdapter::Decode(const HttpRequest& request) {
  const std::string type = request.Header("Content-Type");
  // Only JSON: a form on another site cannot send it without a CORS preflight we never grant.
  if (type.rfind("application/json", 0) != 0) return Status::InvalidArgument("send the turn as application/json");
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return Status::InvalidArgument("the body is not a JSON object");

  std::string conversation, user, id, text, command, choice, step_token;
  if (!StringField(body, "conversation", conversation) || !StringField(body, "user", user) ||
      !StringField(body, "id", id) || !StringField(body, "text", text) || !StringField(body, "command", command) ||
      !StringField(body, "choice", choice) || !StringField(body, "step_token", step_token)) {
    return Status::InvalidArgument("conversation, user, id, text, command, choice and step_token are strings");
  }
  if (!IsId(conversation)) {
    return Status::InvalidArgument("conversation must be 1-64 letters, digits, '-' or '_'");
  }
  if (user.empty()) user = conversation;
  if (!IsId(user)) return Status::InvalidArgument("user must be 1-64 letters, digits, '-' or '_'");
  if (!id.empty() && !IsId(id)) return Status::InvalidArgument("id must be 1-64 letters, digits, '-' or '_'");
  if (!command.empty() && command != "smtp-code" && command != "mailguide") {
    return Status::InvalidArgument("command is smtp-code or mailguide");
  }
  if (text.size() > kMaxText) return Status::InvalidArgument("text is longer than 20000 bytes");
  if (choice.size() > 200 || step_token.size() > 200) return Status::InvalidArgument("choice or step_token too long");

  Message m;
  m.ref.platform = "web";
  m.ref.workspace = options_.workspace;
  m.ref.channel = conversation;
  m.ref.user = user;
  m.private_conversation = true;  // one browser's conversation

  Inbound in;
  auto poll = body.find("poll");
  if (poll != body.end() && poll->is_boolean() && poll->get<bool>()) {
    json replies = json::array();
    for (auto& r : TakePending(m.ref.Key())) replies.push_back(json::parse(r));
    in.kind = Inbound::Kind::kRespond;
    in.response = JsonResponse(json{{"status", replies.empty() ? "pending" : "waiting"}, {"replies", replies}});
    return in;
  }
  if (!id.empty()) m.event_id = "web:" + conversation + ":" + id;
  m.command = command;
  m.text = text;
  m.choice = choice;
  m.step_token = step_token;
  in.kind = Inbound::Kind::kMessage;
  in.message = std::move(m);
  in.reply_inline = true;
  return in;
}

HttpResponse WebAdapter::RenderInline(const Message& message, const TurnResult& turn) {
  json replies = json::array();
  for (auto& r : TakePending(message.ref.Key())) replies.push_back(json::parse(r));
  for (const Reply& r : turn.replies) replies.push_back(ReplyJson(r));
  return JsonResponse(json{{"status", StatusName(turn.status)}, {"replies", replies}});
}

Status WebAdapter::Deliver(const Message& message, const TurnResult& turn) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = message.ref.Key();
  if (pending_.size() >= kMaxPendingKeys && pending_.find(key) == pending_.end()) {
    return Status::ResourceExhausted("too many web conversations waiting for late replies");
  }
  auto& list = pending_[key];
  for (const Reply& r : turn.replies) {
    if (list.size() >= kMaxPendingReplies) list.erase(list.begin());
    list.push_back(ReplyJson(r).dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return Status::Ok();
}

std::vector<std::string> WebAdapter::TakePending(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return {};
  std::vector<std::string> out = std::move(it->second);
  pending_.erase(it);
  return out;
}

}  // namespace bot::web
