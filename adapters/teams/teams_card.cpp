#include "adapters/teams/teams_card.h"

#include <algorithm>
#include <cctype>

namespace bot::teams {
namespace {

using nlohmann::json;

constexpr size_t kNoLimit = static_cast<size_t>(-1);
constexpr size_t kMaxSummaryBytes = 120;
constexpr size_t kMaxDataTitleBytes = 80;

// How much of a reply fits; tightened step by step until the activity is small enough.
struct Limits {
  size_t field_bytes = kNoLimit;  // per text field
  size_t items = kNoLimit;        // per list (checklist, facts, preformatted lines)
  size_t fallback_bytes = 2000;   // fallbackText
};

std::string Cut(const std::string& s, const Limits& limits) {
  return limits.field_bytes == kNoLimit ? s : TruncateUtf8(s, limits.field_bytes);
}

// TextBlock markdown needs a blank line for a line break.
std::string Paragraph(const std::string& text) {
  std::string escaped = EscapeMarkdown(text);
  std::string out;
  for (char c : escaped) {
    if (c == '\r') continue;
    out += c == '\n' ? std::string("\n\n") : std::string(1, c);
  }
  return out;
}

json TextBlock(const std::string& text) {
  // Mobile clients refuse a TextBlock without text; callers never pass "".
  return {{"type", "TextBlock"}, {"text", text}, {"wrap", true}};
}

const char* ActionStyle(Choice::Style style) {
  switch (style) {
    case Choice::Style::kPrimary: return "positive";
    case Choice::Style::kDanger: return "destructive";
    default: return "default";
  }
}

std::string DataTitle(const Reply& r) {
  std::string t = !r.title.empty() ? r.title : (!r.paragraphs.empty() ? r.paragraphs.front() : "");
  std::replace(t.begin(), t.end(), '\n', ' ');
  return TruncateUtf8(t, kMaxDataTitleBytes);
}

// What to type for a choice: its value's last part when that is one plain word ("yes",
// "panel:rcp" → "rcp", "start:webmail" → "webmail"), which the engine accepts as typed text;
// otherwise the label.
std::string TypedAnswer(const Choice& c) {
  std::string word = c.value.substr(c.value.rfind(':') == std::string::npos ? 0 : c.value.rfind(':') + 1);
  bool plain = !word.empty() && word.size() <= 24;
  for (char ch : word) plain = plain && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-');
  return plain ? word : c.label;
}

json SubmitData(const Reply& r, const CardContext& ctx, const Choice* choice) {
  json mg = {{"step", r.step_token}, {"channel", ctx.channel}, {"thread", ctx.thread},
             {"title", DataTitle(r)}};
  if (choice != nullptr) {
    mg["choice"] = choice->value;
    mg["label"] = choice->label;
  }
  // An object, never a string: Teams drops string data on Action.Submit.
  return {{"mailguide", mg}};
}

void AppendBody(const Reply& r, const CardContext& ctx, const Limits& limits, json& body,
                json& actions) {
  size_t first = body.size();
  if (!r.progress.empty()) {
    json p = TextBlock(EscapeMarkdown(Cut(r.progress, limits)));
    p["size"] = "Small";
    p["isSubtle"] = true;
    body.push_back(p);
  }
  if (!r.title.empty()) {
    json t = TextBlock(EscapeMarkdown(Cut(r.title, limits)));
    t["size"] = "Medium";
    t["weight"] = "Bolder";
    body.push_back(t);
  }
  for (const auto& p : r.paragraphs) {
    if (!p.empty()) body.push_back(TextBlock(Paragraph(Cut(p, limits))));
  }
  if (!r.checklist.empty()) {
    std::string list;
    size_t n = std::min(r.checklist.size(), limits.items);
    for (size_t i = 0; i < n; ++i) {
      std::string item = Cut(r.checklist[i], limits);
      std::replace(item.begin(), item.end(), '\n', ' ');
      list += (list.empty() ? "- " : "\n- ") + EscapeMarkdown(item);
    }
    if (n < r.checklist.size()) list += "\n- …";
    body.push_back(TextBlock(list));
  }
  if (!r.facts.empty()) {
    json facts = json::array();
    size_t n = std::min(r.facts.size(), limits.items);
    for (size_t i = 0; i < n; ++i) {
      const Fact& f = r.facts[i];
      facts.push_back({{"title", EscapeMarkdown(Cut(f.label, limits))},
                       {"value", EscapeMarkdown(Cut(f.value.empty() ? "—" : f.value, limits))}});
    }
    body.push_back({{"type", "FactSet"}, {"facts", facts}});
  }
  if (!r.preformatted.empty()) {
    // Teams TextBlocks have no code blocks: a shaded container of monospace lines keeps the
    // summary's layout and copies as one block on desktop.
    json lines = json::array();
    std::string text = Cut(r.preformatted, limits);
    size_t start = 0, count = 0;
    bool gap = false;
    while (start <= text.size() && count < limits.items * 4) {
      size_t nl = text.find('\n', start);
      std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) {
        gap = true;
      } else {
        json tb = TextBlock(EscapeMarkdown(line));
        tb["fontType"] = "Monospace";
        tb["spacing"] = gap ? "Medium" : "None";
        lines.push_back(tb);
        gap = false;
        ++count;
      }
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    if (!lines.empty()) body.push_back({{"type", "Container"}, {"style", "emphasis"}, {"items", lines}});
  }
  if (!r.choices.empty() && !ctx.buttons) {
    std::string hint = "Answer with ";
    for (size_t i = 0; i < r.choices.size(); ++i) {
      if (i > 0) hint += i + 1 == r.choices.size() ? " or " : ", ";
      hint += "**@" + EscapeMarkdown(ctx.mention_name) + " " + EscapeMarkdown(TypedAnswer(r.choices[i])) + "**";
    }
    body.push_back(TextBlock(hint));
  }
  if (!r.footer.empty()) {
    json f = TextBlock(Paragraph(Cut(r.footer, limits)));
    f["size"] = "Small";
    f["isSubtle"] = true;
    body.push_back(f);
  }
  if (first > 0 && body.size() > first) body[first]["separator"] = true;

  if (r.choices.empty() || !ctx.buttons) return;
  if (r.choices.size() <= kMaxCardActions) {
    for (const auto& c : r.choices) {
      actions.push_back({{"type", "Action.Submit"},
                         {"title", c.label},
                         {"style", ActionStyle(c.style)},
                         {"data", SubmitData(r, ctx, &c)}});
    }
  } else {
    json choices = json::array();
    for (const auto& c : r.choices) choices.push_back({{"title", c.label}, {"value", c.value}});
    body.push_back({{"type", "Input.ChoiceSet"},
                    {"id", "choice"},
                    {"style", "compact"},
                    {"value", r.choices.front().value},
                    {"choices", choices}});
    actions.push_back({{"type", "Action.Submit"}, {"title", "Answer"}, {"data", SubmitData(r, ctx, nullptr)}});
  }
}

json Card(const std::vector<const Reply*>& replies, const CardContext& ctx, const Limits& limits,
          bool shortened) {
  json body = json::array();
  json actions = json::array();
  std::string fallback;
  for (const Reply* r : replies) {
    AppendBody(*r, ctx, limits, body, actions);
    std::string plain = r->PlainText();
    if (!plain.empty()) fallback += (fallback.empty() ? "" : "\n\n") + plain;
  }
  if (shortened) {
    json note = TextBlock("This answer was shortened to fit in a Teams message.");
    note["size"] = "Small";
    note["isSubtle"] = true;
    body.push_back(note);
  }
  if (body.empty()) body.push_back(TextBlock("…"));
  json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
               {"type", "AdaptiveCard"},
               {"version", kCardVersion},
               {"body", body}};
  if (!actions.empty()) card["actions"] = actions;
  if (!fallback.empty()) card["fallbackText"] = TruncateUtf8(fallback, limits.fallback_bytes);
  card["msteams"] = {{"width", "Full"}};
  return card;
}

std::string Summary(const std::vector<const Reply*>& replies) {
  for (const Reply* r : replies) {
    std::string s = !r->title.empty() ? r->title : (!r->paragraphs.empty() ? r->paragraphs.front() : "");
    if (!s.empty()) {
      std::replace(s.begin(), s.end(), '\n', ' ');
      return TruncateUtf8(s, kMaxSummaryBytes);
    }
  }
  return "mailguide";
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string TruncateUtf8(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  static const std::string kEllipsis = "…";
  if (max_bytes < kEllipsis.size()) return std::string();
  size_t cut = max_bytes - kEllipsis.size();
  // Back off to the start of a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + kEllipsis;
}

std::string EscapeMarkdown(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' || c == '*' || c == '_' || c == '`' || c == '[' || c == ']' || c == '~') {
      out += '\\';
    } else if (line_start && (c == '-' || c == '+' || c == '>' || c == '#')) {
      out += '\\';
    } else if (line_start && c >= '0' && c <= '9') {
      // "1. text" would become a numbered list.
      size_t j = i;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      if (j < text.size() && (text[j] == '.' || text[j] == ')')) {
        out.append(text, i, j - i);
        out += '\\';
        i = j - 1;
        line_start = false;
        continue;
      }
    }
    out += c;
    line_start = c == '\n' || (line_start && (c == ' ' || c == '\t'));
  }
  return out;
}

json RenderCard(const Reply& reply, const CardContext& context) {
  return Card({&reply}, context, Limits{}, false);
}

std::string RenderMessageActivity(const std::vector<Reply>& replies, const CardContext& context,
                                  const json& extra_fields, size_t max_bytes) {
  std::vector<const Reply*> refs;
  for (const auto& r : replies) refs.push_back(&r);
  auto activity = [&](const json& card) {
    json a = {{"type", "message"},
              {"summary", Summary(refs)},
              {"attachments", json::array({{{"contentType", kAdaptiveCardType}, {"content", card}}})}};
    if (extra_fields.is_object()) {
      for (auto it = extra_fields.begin(); it != extra_fields.end(); ++it) a[it.key()] = it.value();
    }
    return Dump(a);
  };
  static const Limits kSteps[] = {
      {kNoLimit, kNoLimit, 2000}, {2000, 40, 1000}, {800, 20, 500}, {300, 10, 200}, {120, 5, 200}};
  bool first = true;
  for (const Limits& limits : kSteps) {
    std::string out = activity(Card(refs, context, limits, !first));
    if (out.size() <= max_bytes) return out;
    first = false;
  }
  // Pathological (hundreds of choices): a bare card with the title and the hint to ask again.
  Reply minimal;
  minimal.title = refs.empty() ? "mailguide" : Summary(refs);
  minimal.paragraphs.push_back("The answer is too long for a Teams message. Try a narrower question.");
  return activity(Card({&minimal}, context, Limits{120, 5, 200}, false));
}

json RenderAnsweredCard(const std::string& answered) {
  size_t nl = answered.find('\n');
  std::string title = answered.substr(0, nl);
  std::string label = nl == std::string::npos ? "" : answered.substr(nl + 1);
  json body = json::array();
  if (!title.empty()) {
    json t = TextBlock(EscapeMarkdown(title));
    t["weight"] = "Bolder";
    body.push_back(t);
  }
  json a = TextBlock(label.empty() ? std::string("Answered.") : "Answered: " + EscapeMarkdown(label));
  a["isSubtle"] = true;
  body.push_back(a);
  return {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
          {"type", "AdaptiveCard"},
          {"version", kCardVersion},
          {"body", body},
          {"fallbackText", label.empty() ? "Answered." : "Answered: " + label},
          {"msteams", {{"width", "Full"}}}};
}

}  // namespace bot::teams
