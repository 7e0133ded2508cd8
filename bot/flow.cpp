#include "bot/flow.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bot/flow_check.h"

namespace bot {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Only called on files CheckFlowDir accepted, so every field has its expected type.
Flow ParseFlow(const json& j, const std::string& file) {
  Flow flow;
  flow.id = Str(j, "id");
  flow.version = Str(j, "version");
  flow.title = Str(j, "title");
  flow.symptom = Str(j, "symptom");
  flow.description = Str(j, "description");
  flow.file = file;
  for (const auto& [panel_id, pj] : j.at("panels").items()) {
    Panel panel;
    panel.id = panel_id;
    const json& steps = pj.at("steps");
    for (size_t i = 0; i < steps.size(); ++i) {
      const json& s = steps[i];
      Step step;
      step.id = Str(s, "id");
      step.check = Str(s, "check");
      step.question = Str(s, "question");
      std::string fail_on = Str(s, "fail_on");
      step.fail_on = fail_on.empty() ? "no" : fail_on;
      step.next = Str(s, "next");
      if (step.next.empty()) step.next = i + 1 < steps.size() ? Str(steps[i + 1], "id") : kEscalate;
      step.pass_note = Str(s, "pass_note");
      step.input = Str(s, "input");
      step.probe = Str(s, "probe");
      const json& f = s.at("on_fail");
      step.on_fail.cause = Str(f, "cause");
      step.on_fail.fix = Str(f, "fix");
      step.on_fail.next = Str(f, "next");
      if (step.on_fail.next.empty()) step.on_fail.next = step.next;
      panel.steps.push_back(std::move(step));
    }
    flow.panels.emplace(panel_id, std::move(panel));
  }
  return flow;
}

std::vector<Note> ParseNotes(const json& j) {
  std::vector<Note> notes;
  for (const auto& n : j) notes.push_back({Str(n, "id"), Str(n, "text")});
  return notes;
}

Guide ParseGuide(const json& j) {
  Guide g;
  g.version = Str(j, "version");
  g.title = Str(j, "title");
  for (const auto& s : j.at("sections")) g.sections.push_back(s.get<std::string>());
  g.notes = ParseNotes(j.at("notes"));
  g.next_steps = ParseNotes(j.at("next_steps"));
  for (const auto& p : j.at("panels")) g.panels.push_back({Str(p, "id"), Str(p, "name"), Str(p, "short_name")});
  const json& e = j.at("escalation");
  g.escalation_intro = Str(e, "intro");
  g.escalation_contact = Str(e, "contact");
  for (const auto& f : e.at("fields")) {
    g.escalation_fields.push_back({Str(f, "id"), Str(f, "label"), Str(f, "question")});
  }
  return g;
}

json ReadJson(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str());
}

}  // namespace

const Step* Panel::FindStep(const std::string& step_id) const {
  for (const auto& s : steps) {
    if (s.id == step_id) return &s;
  }
  return nullptr;
}

int Panel::IndexOf(const std::string& step_id) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].id == step_id) return static_cast<int>(i);
  }
  return -1;
}

const Panel* Flow::FindPanel(const std::string& panel_id) const {
  auto it = panels.find(panel_id);
  return it == panels.end() ? nullptr : &it->second;
}

const PanelInfo* Guide::FindPanel(const std::string& id) const {
  for (const auto& p : panels) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Flow* FlowSet::Find(const std::string& id) const {
  for (const auto& f : flows) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const Flow* FlowSet::Find(const std::string& id, const std::string& version) const {
  const Flow* current = Find(id);
  if (current && current->version == version) return current;
  auto it = archived.find(id + "@" + version);
  return it == archived.end() ? nullptr : &it->second;
}

Result<FlowSet> LoadFlows(const std::string& dir) {
  std::vector<FlowError> errors = CheckFlowDir(dir);
  if (!errors.empty()) {
    std::string message = std::to_string(errors.size()) + " problem(s) in the flows; run `mailguide flows check " +
                          dir + "` for the list. First: " + errors.front().ToString();
    return Status::InvalidArgument(message);
  }
  try {
    FlowSet set;
    set.guide = ParseGuide(ReadJson(fs::path(dir) / "guide.json"));
    std::map<std::string, Flow> by_id;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file() || !IsFlowFileName(name)) continue;
      Flow flow = ParseFlow(ReadJson(entry.path()), entry.path().string());
      by_id.emplace(flow.id, std::move(flow));
    }
    for (const auto& id : set.guide.sections) set.flows.push_back(std::move(by_id.at(id)));
    fs::path archive = fs::path(dir) / "archive";
    std::error_code ec;
    if (fs::is_directory(archive, ec)) {
      for (const auto& entry : fs::directory_iterator(archive)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
        Flow flow = ParseFlow(ReadJson(entry.path()), entry.path().string());
        set.archived.emplace(flow.id + "@" + flow.version, std::move(flow));
      }
    }
    return set;
  } catch (const std::exception& e) {
    // The files changed between checking and reading them.
    return Status::InvalidArgument("flows in " + dir + " could not be read: " + e.what());
  }
}

}  // namespace bot
