#include "adapters/slack/slack_json.h"

#include <algorithm>
#include <cctype>

#include "bot/json_read.h"
#include "bot/text.h"

namespace bot::slack {

using nlohmann::json;

namespace {

using json_read::Bool;
using json_read::Obj;
using json_read::Str;

std::string DecodeEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      if (s.substr(i, 5) == "&amp;") { out += '&'; i += 4; continue; }
      if (s.substr(i, 4) == "&lt;") { out += '<'; i += 3; continue; }
      if (s.substr(i, 4) == "&gt;") { out += '>'; i += 3; continue; }
    }
    out += s[i];
  }
  return out;
}

// Well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates or code
// points past U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c >> 5) == 0x6) { len = 2; cp = c & 0x1F; }
    else if ((c >> 4) == 0xE) { len = 3; cp = c & 0x0F; }
    else if ((c >> 3) == 0x1E) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string MediaType(std::string_view content_type) {
  std::string t = Trim(content_type.substr(0, content_type.find(';')));
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

// Byte offset where the first `n` characters of `s` end (s.size() when shorter).
size_t ByteOffsetOfChars(std::string_view s, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    const size_t weight = len == 4 ? 2 : 1;
    if (chars + weight > n) return i;
    chars += weight;
    i += len;
  }
  return s.size();
}

// Never cut inside an entity produced by EscapeMrkdwn.
size_t AvoidEntityCut(std::string_view s, size_t cut) {
  const size_t from = cut >= 4 ? cut - 4 : 0;
  const size_t amp = s.substr(from, cut - from).rfind('&');
  if (amp == std::string_view::npos) return cut;
  const size_t at = from + amp;
  return s.substr(at, cut - at).find(';') == std::string_view::npos ? at : cut;
}

// Chunks of at most `max` characters, cut at a paragraph, line or word boundary when one is
// in the second half of the budget, else hard on a character boundary.
std::vector<std::string> SplitText(std::string_view text, size_t max) {
  std::vector<std::string> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    if (CharCount(rest) <= max) {
      std::string t = Trim(rest);
      if (!t.empty()) out.push_back(std::move(t));
      break;
    }
    const size_t limit = ByteOffsetOfChars(rest, max);
    size_t cut = std::string_view::npos;
    for (std::string_view sep : {"\n\n", "\n", " "}) {
      const size_t at = rest.substr(0, limit).rfind(sep);
      if (at != std::string_view::npos && at >= limit / 2) {
        cut = at;
        break;
      }
    }
    if (cut == std::string_view::npos || cut == 0) cut = AvoidEntityCut(rest, limit);
    if (cut == 0) cut = limit;  // a pathological run of '&'s: still make progress
    std::string chunk = Trim(rest.substr(0, cut));
    if (!chunk.empty()) out.push_back(std::move(chunk));
    rest = rest.substr(cut);
  }
  return out;
}

// Block Kit objects are built member by member: a braced initializer list builds a
// temporary array for every member and cost 2.5 times as much on the click path
// (tests/bench/README.md, "Profiling a click").
void Put(json::object_t&) {}

template <typename Value, typename... Rest>
void Put(json::object_t& object, const char* name, Value&& value, Rest&&... rest) {
  object.emplace(name, std::forward<Value>(value));
  Put(object, std::forward<Rest>(rest)...);
}

// Object("type", "section", "text", ...): names and values in turn.
template <typename... Members>
json Object(Members&&... members) {
  json j(json::value_t::object);
  Put(*j.get_ptr<json::object_t*>(), std::forward<Members>(members)...);
  return j;
}

json ArrayOf(json element) {
  json a(json::value_t::array);
  a.push_back(std::move(element));
  return a;
}

json PlainText(std::string_view text) { return Object("type", "plain_text", "text", std::string(text), "emoji", true); }

json Mrkdwn(std::string text) { return Object("type", "mrkdwn", "text", std::move(text)); }

json Section(std::string mrkdwn) { return Object("type", "section", "text", Mrkdwn(std::move(mrkdwn))); }

json Context(std::string mrkdwn) { return Object("type", "context", "elements", ArrayOf(Mrkdwn(std::move(mrkdwn)))); }

std::string BreakFences(std::string s) {
  // A ``` inside a code block would end it early; a zero-width space keeps it literal.
  size_t at = 0;
  while ((at = s.find("```", at)) != std::string::npos) {
    s.insert(at + 2, "\u200b");
    at += 5;
  }
  return s;
}

// Preformatted text as ``` sections, split between lines so indentation survives.
std::vector<json> CodeSections(const std::string& text) {
  const size_t budget = kMaxSectionChars - 8;  // room for the fences and their newlines
  const std::string body = BreakFences(EscapeMrkdwn(text));
  std::vector<json> out;
  std::string chunk;
  auto flush = [&] {
    if (!chunk.empty()) out.push_back(Section("```\n" + chunk + "\n```"));
    chunk.clear();
  };
  size_t start = 0;
  while (start <= body.size()) {
    size_t nl = body.find('\n', start);
    std::string_view line = std::string_view(body).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    while (CharCount(line) > budget) {
      flush();
      size_t cut = AvoidEntityCut(line, ByteOffsetOfChars(line, budget));
      if (cut == 0) cut = ByteOffsetOfChars(line, budget);
      chunk = std::string(line.substr(0, cut));
      flush();
      line = line.substr(cut);
    }
    const size_t add = CharCount(line) + (chunk.empty() ? 0 : 1);
    if (CharCount(chunk) + add > budget) flush();
    if (!chunk.empty()) chunk += '\n';
    chunk.append(line);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  flush();
  return out;
}

size_t BlockWeight(const json& block) {
  // Characters of text a block carries, for the whole-message budget.
  size_t n = 0;
  if (block.is_string()) return CharCount(block.get<std::string>());
  if (block.is_object()) {
    for (auto it = block.begin(); it != block.end(); ++it) {
      if (it.key() == "value" || it.key() == "action_id" || it.key() == "block_id") continue;
      n += BlockWeight(it.value());
    }
  } else if (block.is_array()) {
    for (const auto& b : block) n += BlockWeight(b);
  }
  return n;
}

// Every block of one reply, in reading order, each within its own limits.
std::vector<json> BuildBlocks(const Reply& reply, const ConversationRef& ref) {
  std::vector<json> blocks;
  if (!Trim(reply.title).empty()) {
    blocks.push_back(Object("type", "header", "text", PlainText(TruncateChars(Trim(reply.title), kMaxHeaderChars))));
  }
  if (!reply.progress.empty()) {
    blocks.push_back(Context(TruncateChars(EscapeMrkdwn(reply.progress), kMaxSectionChars)));
  }
  // Short paragraphs share a section: fewer blocks, same reading.
  std::string pending;
  auto flush = [&] {
    if (!pending.empty()) blocks.push_back(Section(std::move(pending)));
    pending.clear();
  };
  for (const auto& paragraph : reply.paragraphs) {
    const std::string escaped = Trim(EscapeMrkdwn(paragraph));
    if (escaped.empty()) continue;
    for (auto& piece : SplitText(escaped, kMaxSectionChars)) {
      if (!pending.empty() && CharCount(pending) + 2 + CharCount(piece) <= kMaxSectionChars) {
        pending += "\n\n" + piece;
      } else {
        flush();
        pending = std::move(piece);
      }
    }
  }
  flush();
  if (!reply.checklist.empty()) {
    std::string list;
    for (const auto& item : reply.checklist) {
      if (!list.empty()) list += '\n';
      list += "\u2022 " + EscapeMrkdwn(item);
    }
    for (auto& piece : SplitText(list, kMaxSectionChars)) blocks.push_back(Section(std::move(piece)));
  }
  // Facts become section fields: at most ten per section, and few enough characters that
  // one section never eats most of a message's budget.
  json fields = json::array();
  size_t fields_chars = 0;
  auto flush_fields = [&] {
    if (!fields.empty()) blocks.push_back(Object("type", "section", "fields", std::move(fields)));
    fields = json::array();
    fields_chars = 0;
  };
  for (const Fact& f : reply.facts) {
    std::string text = f.label.empty() ? EscapeMrkdwn(f.value)
                                       : "*" + EscapeMrkdwn(f.label) + "*\n" + EscapeMrkdwn(f.value);
    if (Trim(text).empty()) text = "-";
    text = TruncateChars(text, kMaxFieldChars);
    const size_t n = CharCount(text);
    if (fields.size() == kMaxFields || (!fields.empty() && fields_chars + n > kMaxSectionChars * 2)) flush_fields();
    fields.push_back(Mrkdwn(std::move(text)));
    fields_chars += n;
  }
  flush_fields();
  if (!reply.preformatted.empty()) {
    for (auto& b : CodeSections(reply.preformatted)) blocks.push_back(std::move(b));
  }
  json elements = json::array();
  bool primary_used = false;
  for (size_t n = 0; n < reply.choices.size(); ++n) {
    const Choice& c = reply.choices[n];
    std::string value = EncodeButtonValue(ref.workspace, ref.thread, reply.step_token, c.value);
    // Engine choice values are short ids; one that could not round-trip is left out
    // rather than making Slack refuse the whole message.
    if (CharCount(value) > kMaxButtonValueChars) continue;
    std::string label = Trim(c.label);
    if (label.empty()) label = c.value.empty() ? "\u2026" : c.value;
    json button = Object("type", "button", "action_id", kChoiceActionPrefix + std::to_string(n), "text",
                         PlainText(TruncateChars(label, kMaxButtonTextChars)), "value", std::move(value));
    if (c.style == Choice::Style::kPrimary && !primary_used) {
      button["style"] = "primary";
      primary_used = true;
    } else if (c.style == Choice::Style::kDanger) {
      button["style"] = "danger";
    }
    elements.push_back(std::move(button));
    if (elements.size() == kMaxActionElements) {
      blocks.push_back(Object("type", "actions", "elements", std::move(elements)));
      elements = json::array();
    }
  }
  if (!elements.empty()) blocks.push_back(Object("type", "actions", "elements", std::move(elements)));
  if (!reply.footer.empty()) {
    blocks.push_back(Context(TruncateChars(EscapeMrkdwn(reply.footer), kMaxSectionChars)));
  }
  return blocks;
}

std::string Fallback(const std::string& plain) {
  // Escape, then cut: escaping can make a text five times longer ('&' is "&amp;").
  std::string text = EscapeMrkdwn(Trim(plain));
  if (CharCount(text) > kMaxFallbackChars) {
    const size_t cut = AvoidEntityCut(text, ByteOffsetOfChars(text, kMaxFallbackChars - 1));
    text = text.substr(0, cut) + "…";
  }
  return text.empty() ? std::string("mailguide") : text;
}

}  // namespace

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;   // continuation byte
    n += (c >> 3) == 30 ? 2 : 1;        // astral characters count as two (UTF-16), to be safe
  }
  return n;
}

std::string TruncateChars(std::string_view s, size_t max_chars) {
  if (CharCount(s) <= max_chars) return std::string(s);
  if (max_chars == 0) return {};
  std::string out(s.substr(0, ByteOffsetOfChars(s, max_chars - 1)));
  return out + "\u2026";
}

std::string EscapeMrkdwn(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string DecodeEventText(std::string_view text, std::string_view bot_user_id) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('<', i);
    if (open == std::string_view::npos) {
      out += DecodeEntities(text.substr(i));
      break;
    }
    out += DecodeEntities(text.substr(i, open - i));
    const size_t close = text.find('>', open);
    if (close == std::string_view::npos) {
      out += DecodeEntities(text.substr(open));
      break;
    }
    const std::string_view token = text.substr(open + 1, close - open - 1);
    const size_t bar = token.find('|');
    const std::string_view target = token.substr(0, bar);
    const std::string label =
        bar == std::string_view::npos ? std::string() : DecodeEntities(token.substr(bar + 1));
    i = close + 1;
    if (!target.empty() && target[0] == '@') {
      const std::string_view id = target.substr(1);
      const bool is_bot = bot_user_id.empty() ? Trim(out).empty() : id == bot_user_id;
      if (!is_bot) out += "@" + (label.empty() ? std::string(id) : label);
    } else if (!target.empty() && target[0] == '#') {
      out += "#" + (label.empty() ? std::string(target.substr(1)) : label);
    } else if (!target.empty() && target[0] == '!') {
      if (!label.empty()) {
        out += label;
      } else if (target == "!here" || target == "!channel" || target == "!everyone") {
        out += "@" + std::string(target.substr(1));
      }
    } else if (!label.empty()) {
      out += label;
    } else {
      std::string url = DecodeEntities(target);
      if (url.rfind("mailto:", 0) == 0) url = url.substr(7);
      out += url;
    }
  }
  // Mentions leave double spaces behind ("<@U1> hi" → " hi").
  std::string collapsed;
  for (char c : Trim(out)) {
    if (c == ' ' && !collapsed.empty() && collapsed.back() == ' ') continue;
    collapsed += c;
  }
  return collapsed;
}

Result<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  auto nibble = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;  // only called on hex digits
  };
  auto decode = [&nibble](std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      // Plain runs are copied whole: most of a Slack form is plain.
      size_t special = i;
      while (special < in.size() && in[special] != '%' && in[special] != '+') ++special;
      out.append(in.data() + i, special - i);
      i = special;
      if (i == in.size()) break;
      if (in[i] == '+') {
        out += ' ';
      } else if (in[i] == '%') {
        if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
          return false;
        }
        out += static_cast<char>(nibble(in[i + 1]) * 16 + nibble(in[i + 2]));
        i += 2;
      } else {
        out += in[i];
      }
    }
    return true;
  };
  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    std::string_view pair = body.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string key, value;
      if (!decode(pair.substr(0, eq), key) ||
          (eq != std::string_view::npos && !decode(pair.substr(eq + 1), value))) {
        return Status::InvalidArgument("malformed form body: broken %-escape");
      }
      fields.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return fields;
}

std::string EncodeForm(const std::vector<std::pair<std::string, std::string>>& fields) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // ASCII only: std::isalnum would follow the locale and leave some bytes above 0x7f bare.
  auto unreserved = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
  };
  std::string body;
  auto encode = [&](const std::string& s) {
    for (unsigned char c : s) {
      if (unreserved(c)) {
        body += static_cast<char>(c);
      } else if (c == ' ') {
        body += '+';
      } else {
        const char escaped[3] = {'%', kHex[c >> 4], kHex[c & 15]};
        body.append(escaped, 3);
      }
    }
  };
  size_t size = 0;
  for (const auto& [k, v] : fields) size += k.size() + v.size() + 2;
  body.reserve(size + size / 2);
  for (const auto& [k, v] : fields) {
    if (!body.empty()) body += '&';
    encode(k);
    body += '=';
    encode(v);
  }
  return body;
}

bool IsSslCheck(std::string_view body) {
  auto form = ParseForm(body);
  if (!form.ok()) return false;
  auto it = form->find("ssl_check");
  return it != form->end() && it->second == "1" && form->count("command") == 0 &&
         form->count("payload") == 0;
}

std::string EncodeButtonValue(const std::string& workspace, const std::string& thread,
                              const std::string& step_token, const std::string& choice) {
  // Written directly, members in the order nlohmann::json sorts them: a dump per button was
  // ~8,500 instructions, several per click.
  std::string out = "{";
  auto member = [&out](const char* name, const std::string& value) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
    AppendJsonQuoted(out, value);
  };
  if (!step_token.empty()) member("s", step_token);
  if (!thread.empty()) member("t", thread);
  member("v", choice);
  if (!workspace.empty()) member("w", workspace);
  out += '}';
  return out;
}

namespace {

Result<Decoded> DecodeEvent(const json& envelope, const BotIdentity& self) {
  Decoded d;
  const json& ev = Obj(envelope, "event");
  if (ev.is_null()) return Status::InvalidArgument("event_callback without an event object");
  const std::string type = Str(ev, "type");
  auto ignore = [&d](std::string why) {
    d.kind = PayloadKind::kIgnored;
    d.ignore_reason = std::move(why);
    return d;
  };
  // Our own posts come back with bot_id (and often no subtype); other apps' too. The
  // simplest rule that never loops: anything with a bot_id or a subtype is not a person.
  if (!Str(ev, "bot_id").empty()) return ignore("message from a bot");
  if (!Str(ev, "subtype").empty()) return ignore("message subtype " + Str(ev, "subtype"));
  const std::string user = Str(ev, "user");
  if (user.empty()) return ignore(type + " without a user");
  if (!self.user_id.empty() && user == self.user_id) return ignore("our own message");

  Message& m = d.message;
  m.ref.platform = "slack";
  m.ref.workspace = Str(envelope, "team_id");
  if (m.ref.workspace.empty()) m.ref.workspace = Str(ev, "team");
  m.ref.channel = Str(ev, "channel");
  m.ref.user = user;
  const std::string ts = Str(ev, "ts");
  const std::string thread_ts = Str(ev, "thread_ts");
  if (type == "app_mention") {
    m.ref.thread = thread_ts.empty() ? ts : thread_ts;  // each mention starts its own thread
  } else if (type == "message") {
    if (Str(ev, "channel_type") != "im") return ignore("message outside a direct message");
    m.ref.thread = thread_ts;  // DMs are answered in place, threads only when the user made one
    m.private_conversation = true;
  } else {
    return ignore("event type " + (type.empty() ? std::string("(none)") : type));
  }
  if (m.ref.channel.empty()) return Status::InvalidArgument(type + " event without a channel");
  m.event_id = Str(envelope, "event_id");
  if (m.event_id.empty()) m.event_id = "ev:" + m.ref.channel + ":" + ts;
  m.text = DecodeEventText(Str(ev, "text"), self.user_id);
  d.kind = PayloadKind::kEvent;
  return d;
}

Result<Decoded> DecodeCommand(const std::map<std::string, std::string>& form) {
  auto get = [&form](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  Decoded d;
  d.kind = PayloadKind::kSlashCommand;
  d.command = get("command");
  Message& m = d.message;
  m.ref.platform = "slack";
  m.ref.workspace = get("team_id");
  m.ref.channel = get("channel_id");
  m.ref.user = get("user_id");
  if (m.ref.channel.empty() || m.ref.user.empty()) {
    return Status::InvalidArgument("slash command without channel_id or user_id");
  }
  // Keyed per user: two people running /mailguide in one channel never share a case.
  m.ref.thread = "u:" + m.ref.user;
  m.ref.reply_url = get("response_url");
  m.private_conversation = true;  // answered ephemerally: only the person who ran it sees it
  const std::string name = d.command.rfind('/', 0) == 0 ? d.command.substr(1) : d.command;
  if (name == "smtp-code" || name == "mailguide") m.command = name;
  m.text = get("text");
  // No event id: Slack never retries a slash command (a late answer is an operation_timeout
  // for the user, not a second delivery), so there is nothing to drop as a repeat, and a claim
  // would cost every command an fsynced store write.
  return d;
}

Result<Decoded> DecodeInteraction(const std::string& payload_text) {
  json p;
  try {
    p = json::parse(payload_text);
  } catch (const json::exception&) {
    return Status::InvalidArgument("interactivity payload is not JSON");
  }
  Decoded d;
  d.kind = PayloadKind::kIgnored;
  if (!p.is_object()) return Status::InvalidArgument("interactivity payload is not a JSON object");
  const std::string type = Str(p, "type");
  if (type != "block_actions") {
    d.ignore_reason = "interactivity type " + (type.empty() ? std::string("(none)") : type);
    return d;
  }
  const json& user = Obj(p, "user");
  const json& container = Obj(p, "container");
  Message& m = d.message;
  m.ref.platform = "slack";
  m.ref.user = Str(user, "id");
  m.ref.workspace = Str(Obj(p, "team"), "id");
  if (m.ref.workspace.empty()) m.ref.workspace = Str(user, "team_id");
  m.ref.channel = Str(container, "channel_id");
  if (m.ref.channel.empty()) m.ref.channel = Str(Obj(p, "channel"), "id");
  m.ref.reply_url = Str(p, "response_url");
  d.click.channel = m.ref.channel;
  d.click.message_ts = Str(container, "message_ts");
  d.click.ephemeral = Bool(container, "is_ephemeral");
  if (m.ref.user.empty()) return Status::InvalidArgument("block_actions without a user");
  if (m.ref.channel.empty()) {
    d.ignore_reason = "click outside a conversation (modal or App Home)";
    return d;
  }
  auto actions = p.find("actions");
  if (actions == p.end() || !actions->is_array() || actions->empty()) {
    d.ignore_reason = "block_actions without actions";
    return d;
  }
  const json& action = (*actions)[0];
  d.click.label = Str(Obj(action, "text"), "text");
  // Moved, not copied: a message's blocks can be most of the payload.
  if (auto message = p.find("message"); message != p.end() && message->is_object()) {
    if (auto blocks = message->find("blocks"); blocks != message->end() && blocks->is_array()) {
      d.click.message_blocks = std::move(*blocks);
    }
  }
  const std::string action_id = Str(action, "action_id");
  json value;
  try {
    value = json::parse(Str(action, "value"));
  } catch (const json::exception&) {
    value = nullptr;
  }
  if (action_id != kShareActionId && action_id.rfind(kChoiceActionPrefix, 0) != 0) {
    d.ignore_reason = "action " + action_id + " is not one of ours";
    return d;
  }
  if (!value.is_object() && action_id != kShareActionId) {
    d.ignore_reason = "button value is not ours";
    return d;
  }
  const std::string trigger = Str(p, "trigger_id");
  m.event_id = "act:" + (trigger.empty() ? d.click.message_ts + ":" + Str(action, "action_ts") + ":" + m.ref.user
                                         : trigger);
  d.kind = PayloadKind::kBlockActions;
  if (action_id == kShareActionId) {
    d.click.share = true;
    d.click.share_id = Str(value, "share");
    return d;
  }
  // The value, not the click's surroundings, names the conversation: ephemeral messages
  // carry no thread, and a slash-command case is keyed by user.
  if (!Str(value, "w").empty()) m.ref.workspace = Str(value, "w");
  m.ref.thread = Str(value, "t");
  m.step_token = Str(value, "s");
  m.choice = Str(value, "v");
  return d;
}

}  // namespace

Result<Decoded> DecodePayload(std::string_view content_type, std::string_view body,
                              const BotIdentity& self) {
  if (MediaType(content_type) == "application/x-www-form-urlencoded") {
    auto form = ParseForm(body);
    if (!form.ok()) return form.status();
    // Slack sends UTF-8; bytes that are not would make every JSON answer echoing them throw.
    for (const auto& field : *form) {
      if (!IsValidUtf8(field.first) || !IsValidUtf8(field.second)) {
        return Status::InvalidArgument("form field is not valid UTF-8");
      }
    }
    if (form->count("ssl_check")) {
      Decoded d;
      d.kind = PayloadKind::kSslCheck;
      return d;
    }
    if (auto it = form->find("payload"); it != form->end()) return DecodeInteraction(it->second);
    if (form->count("command")) return DecodeCommand(*form);
    return Status::InvalidArgument("form body is neither a slash command nor an interaction");
  }
  if (MediaType(content_type) != "application/json") {
    return Status::InvalidArgument("Content-Type must be application/json or application/x-www-form-urlencoded");
  }
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    return Status::InvalidArgument("body is not JSON");
  }
  if (!j.is_object()) return Status::InvalidArgument("body is not a JSON object");
  const std::string type = Str(j, "type");
  if (type == "url_verification") {
    Decoded d;
    d.kind = PayloadKind::kUrlVerification;
    d.challenge = Str(j, "challenge");
    if (d.challenge.empty()) return Status::InvalidArgument("url_verification without a challenge");
    return d;
  }
  if (type == "event_callback") return DecodeEvent(j, self);
  Decoded d;
  d.kind = PayloadKind::kIgnored;
  d.ignore_reason = type == "app_rate_limited"
                        ? "Slack is dropping events: app_rate_limited for team " + Str(j, "team_id")
                        : "payload type " + (type.empty() ? std::string("(none)") : type);
  return d;
}

std::vector<SlackMessage> RenderReply(const Reply& reply, const ConversationRef& ref) {
  std::vector<json> blocks = BuildBlocks(reply, ref);
  std::vector<SlackMessage> messages;
  json current = json::array();
  size_t weight = 0;
  for (auto& block : blocks) {
    const size_t w = BlockWeight(block);
    if (!current.empty() && (current.size() == kMaxBlocks || weight + w > kMaxMessageTextChars)) {
      messages.push_back(Object("blocks", std::move(current)));
      current = json::array();
      weight = 0;
    }
    weight += w;
    current.push_back(std::move(block));
  }
  messages.push_back(Object("blocks", std::move(current)));
  for (size_t i = 0; i < messages.size(); ++i) {
    messages[i]["text"] = i == 0 ? Fallback(reply.PlainText())
                                 : Fallback((reply.title.empty() ? std::string("mailguide") : reply.title) +
                                            " (continued)");
  }
  return messages;
}

SlackMessage RenderSingleMessage(const std::vector<Reply>& replies, const ConversationRef& ref,
                                 const nlohmann::json& extra) {
  const size_t max_blocks = kMaxBlocks - extra.size() - 1;  // one left for the "shortened" note
  const size_t max_weight = kMaxMessageTextChars - BlockWeight(extra) - 200;
  json blocks = json::array();
  size_t weight = 0;
  bool cut = false;
  std::string plain;
  for (const Reply& reply : replies) {
    std::vector<json> rb = BuildBlocks(reply, ref);
    if (!blocks.empty() && !rb.empty()) rb.insert(rb.begin(), Object("type", "divider"));
    for (auto& b : rb) {
      const size_t w = BlockWeight(b);
      if (blocks.size() + 1 > max_blocks || weight + w > max_weight) {
        cut = true;
        break;
      }
      weight += w;
      blocks.push_back(std::move(b));
    }
    if (!plain.empty()) plain += "\n\n";
    plain += reply.PlainText();
    if (cut) break;
  }
  if (cut) blocks.push_back(Context("_Answer shortened to fit one Slack message._"));
  for (const auto& b : extra) blocks.push_back(b);
  return Object("text", Fallback(plain), "blocks", std::move(blocks));
}

}  // namespace bot::slack
