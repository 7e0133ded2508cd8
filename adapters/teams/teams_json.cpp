#include "adapters/teams/teams_json.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/teams/teams_codec.h"
#include "bot/json_read.h"
#include "bot/text.h"

namespace bot::teams {
namespace {

using nlohmann::json;

constexpr std::string_view kEventIdPrefix = "teams1|";
constexpr std::string_view kMessageIdMarker = ";messageid=";

using json_read::Obj;
using json_read::Str;

// Finds `needle` in `hay` ignoring ASCII case, as the SDKs' RemoveRecipientMention does.
size_t FindIgnoreCase(const std::string& hay, const std::string& needle) {
  if (needle.empty()) return std::string::npos;
  return Lower(hay).find(Lower(needle));
}

bool IsSpaceAt(const std::string& s, size_t i, size_t* width) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
    *width = 1;
    return true;
  }
  if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {  // U+00A0
    *width = 2;
    return true;
  }
  return false;
}

std::string Trim(const std::string& s) {
  size_t begin = 0, width = 0;
  while (begin < s.size() && IsSpaceAt(s, begin, &width)) begin += width;
  size_t end = s.size();
  while (end > begin) {
    if (end - begin >= 2 && static_cast<unsigned char>(s[end - 2]) == 0xC2 &&
        static_cast<unsigned char>(s[end - 1]) == 0xA0) {
      end -= 2;
    } else if (IsSpaceAt(s, end - 1, &width) && width == 1) {
      end -= 1;
    } else {
      break;
    }
  }
  return s.substr(begin, end - begin);
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// Teams sends a handful of entities even in "plain" text (a pasted bounce's <addr> arrives
// as &lt;addr&gt;). &amp; last, so "&amp;lt;" stays "&lt;".
std::string DecodeEntities(std::string s) {
  ReplaceAll(s, "&nbsp;", " ");
  ReplaceAll(s, "&lt;", "<");
  ReplaceAll(s, "&gt;", ">");
  ReplaceAll(s, "&quot;", "\"");
  ReplaceAll(s, "&#39;", "'");
  ReplaceAll(s, "&apos;", "'");
  ReplaceAll(s, "&amp;", "&");
  return s;
}

// Other people's mentions keep their name but lose the markup.
std::string FlattenMentions(std::string s) {
  for (size_t open = s.find("<at>"); open != std::string::npos; open = s.find("<at>", open)) {
    size_t close = s.find("</at>", open + 4);
    if (close == std::string::npos) break;
    std::string name = s.substr(open + 4, close - open - 4);
    if (!name.empty() && name[0] == '@') name.erase(0, 1);
    s.replace(open, close + 5 - open, "@" + name);
  }
  return s;
}

void SplitConversationId(const std::string& id, std::string* channel, std::string* thread) {
  size_t at = id.find(kMessageIdMarker);
  if (at == std::string::npos) {
    *channel = id;
    thread->clear();
  } else {
    *channel = id.substr(0, at);
    *thread = id.substr(at + kMessageIdMarker.size());
  }
}

bool IsChannelConversation(const json& activity) {
  const json& conversation = Obj(activity, "conversation");
  std::string type = Str(conversation, "conversationType");
  if (!type.empty()) return type == "channel";
  // Outgoing webhooks omit conversationType; they only fire in channels anyway.
  const json& data = Obj(activity, "channelData");
  return !Obj(data, "channel").is_null() || !Str(data, "teamsChannelId").empty() ||
         Str(conversation, "id").find("@thread.") != std::string::npos;
}

// Typed commands from the manifest's command list arrive as ordinary text: route them
// like the Slack slash commands so the engine sees one vocabulary.
void SplitCommand(Message& m) {
  std::string text = m.text;
  size_t end = 0;
  while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
  std::string first = Lower(text.substr(0, end));
  if (!first.empty() && first[0] == '/') first.erase(0, 1);
  std::string rest = Trim(text.substr(end));
  if (first == "smtp-code" || first == "mailguide") {
    m.command = first;
    m.text = rest;
  } else if (first == "webmail" || first == "receiving" || first == "sending" || first == "help") {
    m.command = "mailguide";
    m.text = rest.empty() ? first : first + " " + rest;
  } else if (text.empty()) {
    // A bare "@mailguide": what `/mailguide` alone does (the menu).
    m.command = "mailguide";
  }
}

Inbound Ignore() { return Inbound{}; }

}  // namespace

std::string EncodeEventId(const ReplyAddress& a) {
  std::string out(kEventIdPrefix);
  out += PercentEncode(a.conversation_id) + "|" + PercentEncode(a.activity_id) + "|" +
         PercentEncode(a.reply_to_id) + "|" + PercentEncode(a.mention_name) + "|" +
         PercentEncode(a.answered);
  return out;
}

Result<ReplyAddress> DecodeEventId(std::string_view event_id) {
  if (event_id.substr(0, kEventIdPrefix.size()) != kEventIdPrefix) {
    return Status::InvalidArgument("not a Teams event id");
  }
  std::vector<std::string> parts;
  std::string_view rest = event_id.substr(kEventIdPrefix.size());
  for (;;) {
    size_t bar = rest.find('|');
    auto part = PercentDecode(rest.substr(0, bar));
    if (!part.ok()) return Status::InvalidArgument("Teams event id: " + part.status().message());
    parts.push_back(*part);
    if (bar == std::string_view::npos) break;
    rest = rest.substr(bar + 1);
  }
  if (parts.size() != 5) return Status::InvalidArgument("Teams event id: wrong number of fields");
  return ReplyAddress{parts[0], parts[1], parts[2], parts[3], parts[4]};
}

Result<ActivityRouting> PeekRouting(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument("body is not a JSON activity");
  return ActivityRouting{Str(j, "serviceUrl"), Str(j, "channelId")};
}

std::string StripBotMention(std::string_view text_in, std::string_view entities_json,
                            std::string_view recipient_id, std::string* mention_name,
                            std::string_view recipient_name) {
  std::string text(text_in);
  json entities = json::parse(entities_json, nullptr, /*allow_exceptions=*/false);
  bool no_recipient = recipient_id.empty() || recipient_id == "null";
  bool stripped = false;
  if (entities.is_array()) {
    for (const auto& e : entities) {
      if (Lower(Str(e, "type")) != "mention") continue;
      const json& mentioned = Obj(e, "mentioned");
      std::string name = Str(mentioned, "name");
      std::string tag = Str(e, "text");
      if (tag.empty()) tag = "<at>" + name + "</at>";
      size_t at = FindIgnoreCase(text, tag);
      if (at == std::string::npos) continue;
      bool ours = no_recipient ? (!stripped && Trim(text.substr(0, at)).empty())
                               : Str(mentioned, "id") == recipient_id;
      if (!ours) continue;
      text.erase(at, tag.size());
      if (mention_name && mention_name->empty()) *mention_name = name;
      stripped = true;
      if (no_recipient) break;
    }
  }
  if (!stripped) {
    // No usable entity: a leading tag is ours when there is no recipient id (webhooks), or
    // when it names the recipient.
    std::string t = Trim(text);
    size_t close = t.rfind("<at>", 0) == 0 ? t.find("</at>") : std::string::npos;
    if (close != std::string::npos) {
      std::string name = t.substr(4, close - 4);
      if (no_recipient || (!recipient_name.empty() && Lower(name) == Lower(recipient_name))) {
        if (mention_name && mention_name->empty()) *mention_name = name;
        text = t.substr(close + 5);
      }
    }
  }
  return Trim(DecodeEntities(FlattenMentions(text)));
}

Result<Inbound> DecodeActivity(std::string_view body, Endpoint endpoint) {
  json a = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!a.is_object()) return Status::InvalidArgument("body is not a JSON activity");
  std::string type = Str(a, "type");
  if (type.empty()) return Status::InvalidArgument("activity has no type");
  const json& conversation = Obj(a, "conversation");
  std::string conversation_id = Str(conversation, "id");
  if (conversation_id.empty()) return Status::InvalidArgument("activity has no conversation.id");
  const json& from = Obj(a, "from");
  const json& recipient = Obj(a, "recipient");
  std::string recipient_id = Str(recipient, "id");

  Message m;
  m.ref.platform = "teams";
  m.ref.workspace = Str(conversation, "tenantId");
  if (m.ref.workspace.empty()) m.ref.workspace = Str(Obj(Obj(a, "channelData"), "tenant"), "id");
  m.ref.user = Str(from, "id");
  m.ref.reply_url = Str(a, "serviceUrl");
  SplitConversationId(conversation_id, &m.ref.channel, &m.ref.thread);
  bool in_channel = IsChannelConversation(a);
  m.private_conversation = Str(conversation, "conversationType") == "personal";
  // Group and personal chats are one conversation each; a stray messageid means nothing.
  if (!in_channel) m.ref.thread.clear();

  ReplyAddress address;
  address.conversation_id = conversation_id;
  Inbound in;
  in.kind = Inbound::Kind::kMessage;
  in.reply_inline = endpoint == Endpoint::kWebhook;

  if (type == "message") {
    if (m.ref.user.empty()) return Status::InvalidArgument("message has no from.id");
    // Bots (including this one) have "28:" ids; never answer them.
    if (m.ref.user.rfind("28:", 0) == 0 || (!recipient_id.empty() && m.ref.user == recipient_id)) {
      return Ignore();
    }
    address.activity_id = Str(a, "id");
    // A post at a channel's root starts its own reply chain, keyed by its id.
    if (in_channel && m.ref.thread.empty()) m.ref.thread = address.activity_id;
    std::string entities = a.contains("entities") ? a["entities"].dump() : "[]";
    std::string raw_text = Str(a, "text");
    // An outgoing webhook's text always opens with its own mention, whatever `recipient` says.
    m.text = StripBotMention(raw_text, entities, endpoint == Endpoint::kWebhook ? "" : recipient_id,
                             &address.mention_name, Str(recipient, "name"));

    auto value = a.find("value");
    if (endpoint == Endpoint::kBot && value != a.end() && value->is_object() && Trim(raw_text).empty()) {
      // An Action.Submit click: our data sits under "mailguide"; inputs are merged at top level.
      const json& mg = Obj(*value, "mailguide");
      if (mg.is_null()) return Ignore();
      m.choice = Str(*value, "choice");
      if (m.choice.empty()) m.choice = Str(mg, "choice");
      if (m.choice.empty()) return Status::InvalidArgument("card click carries no choice");
      m.step_token = Str(mg, "step");
      std::string card_channel = Str(mg, "channel");
      if (!card_channel.empty() && card_channel != m.ref.channel) {
        return Status::InvalidArgument("card click comes from another conversation than its card");
      }
      std::string card_thread = Str(mg, "thread");
      if (in_channel && !card_thread.empty() && conversation_id.find(kMessageIdMarker) == std::string::npos) {
        m.ref.thread = card_thread;
      }
      address.reply_to_id = Str(a, "replyToId");
      address.answered = Str(mg, "title") + "\n" + Str(mg, "label");
      address.mention_name.clear();
    } else {
      SplitCommand(m);
    }
    m.event_id = EncodeEventId(address);
    in.message = std::move(m);
    return in;
  }

  if (endpoint == Endpoint::kWebhook) return Ignore();

  bool welcome = false;
  if (type == "conversationUpdate") {
    auto added = a.find("membersAdded");
    if (added != a.end() && added->is_array()) {
      for (const auto& member : *added) {
        if (!recipient_id.empty() && Str(member, "id") == recipient_id) welcome = true;
      }
    }
  } else if (type == "installationUpdate") {
    welcome = Str(a, "action") == "add";
  }
  if (!welcome) return Ignore();
  // Teams sends both events for one install; the same event id for both lets the engine's
  // de-duplication drop the second help card.
  m.command = "mailguide";
  m.text = "help";
  m.ref.thread.clear();
  address.conversation_id = m.ref.channel;
  m.event_id = EncodeEventId(address);
  in.message = std::move(m);
  return in;
}

}  // namespace bot::teams
