#include "adapters/console/console_adapter.h"

#include <iostream>

namespace bot::console {

std::string Render(const Reply& reply) {
  std::string out;
  if (!reply.title.empty()) out += "== " + reply.title + " ==\n";
  if (!reply.progress.empty()) out += "(" + reply.progress + ")\n";
  for (const auto& p : reply.paragraphs) out += p + "\n";
  for (const auto& c : reply.checklist) out += "  - " + c + "\n";
  for (const auto& f : reply.facts) out += "  " + f.label + ": " + f.value + "\n";
  if (!reply.preformatted.empty()) {
    out += "-----8<-----\n" + reply.preformatted + "\n-----8<-----\n";
  }
  if (!reply.choices.empty()) {
    std::string line;
    for (size_t i = 0; i < reply.choices.size(); ++i) {
      line += (i ? "  " : "") + std::string("[") + std::to_string(i + 1) + "] " + reply.choices[i].label;
    }
    out += line + "\n";
  }
  if (!reply.footer.empty()) out += reply.footer + "\n";
  return out;
}

Message ConsoleAdapter::ToMessage(const std::string& line) const {
  Message m;
  m.ref = ref_;
  m.private_conversation = true;  // a terminal
  // A lone digit picks a numbered choice; anything else is typed text.
  if (line.size() == 1 && line[0] >= '1' && line[0] <= '9') {
    size_t index = static_cast<size_t>(line[0] - '1');
    if (index < last_choices_.size()) {
      m.choice = last_choices_[index].value;
      m.step_token = last_token_;
      return m;
    }
  }
  if (line.rfind("/smtp-code", 0) == 0) {
    m.command = "smtp-code";
    m.text = line.substr(10);
  } else if (line.rfind("/mailguide", 0) == 0) {
    m.command = "mailguide";
    m.text = line.substr(10);
  } else {
    m.text = line;
  }
  return m;
}

Result<TurnResult> ConsoleAdapter::Send(const std::string& line) { return engine_.Handle(ToMessage(line)); }

Result<TurnResult> ConsoleAdapter::SendCommand(const std::string& command, const std::string& text) {
  Message m;
  m.ref = ref_;
  m.private_conversation = true;
  m.command = command;
  m.text = text;
  return engine_.Handle(m);
}

void ConsoleAdapter::Print(const TurnResult& turn, std::ostream& out) {
  for (const auto& r : turn.replies) {
    out << Render(r) << "\n";
    if (!r.choices.empty()) {
      last_choices_ = r.choices;
      last_token_ = r.step_token;
    }
  }
  out.flush();
}

int ConsoleAdapter::Run(std::istream& in, std::ostream& out, std::ostream& err) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto turn = Send(line);
    if (!turn.ok()) {
      err << "mailguide: " << turn.status().ToString() << "\n";
      return 1;
    }
    Print(*turn, out);
  }
  return 0;
}

}  // namespace bot::console
