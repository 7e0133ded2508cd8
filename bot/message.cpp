#include "bot/message.h"

#include <nlohmann/json.hpp>

namespace bot {

std::string ConversationRef::Key() const {
  std::string key = platform + ":" + workspace + ":" + channel;
  if (!thread.empty()) key += ":" + thread;
  return key;
}

std::string ConversationRef::UserKey() const { return platform + ":" + workspace + ":" + user; }

std::string Reply::PlainText() const {
  std::string out;
  auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  if (!title.empty()) line(title);
  if (!progress.empty()) line(progress);
  for (const auto& p : paragraphs) line(p);
  for (const auto& c : checklist) line("- " + c);
  for (const auto& f : facts) line(f.label + ": " + f.value);
  if (!preformatted.empty()) line(preformatted);
  if (!choices.empty()) {
    std::string options;
    for (const auto& c : choices) options += (options.empty() ? "" : " | ") + c.label;
    line("[" + options + "]");
  }
  if (!footer.empty()) line(footer);
  if (!out.empty()) out.pop_back();
  return out;
}

void to_json(nlohmann::json& j, const Choice& c) {
  static const char* kStyles[] = {"default", "primary", "danger"};
  j = {{"label", c.label}, {"value", c.value}, {"style", kStyles[static_cast<int>(c.style)]}};
}

void to_json(nlohmann::json& j, const Reply& r) {
  j = nlohmann::json::object();
  j["title"] = r.title;
  j["progress"] = r.progress;
  j["paragraphs"] = r.paragraphs;
  j["checklist"] = r.checklist;
  j["facts"] = nlohmann::json::array();
  for (const auto& f : r.facts) j["facts"].push_back({{"label", f.label}, {"value", f.value}});
  j["preformatted"] = r.preformatted;
  j["choices"] = r.choices;
  j["footer"] = r.footer;
  j["step_token"] = r.step_token;
  j["ephemeral"] = r.ephemeral;
}

}  // namespace bot
