#include "bot/flow_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bot/flow.h"

namespace bot {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Collects errors for one file, so each rule reads as one line.
class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  void Fail(const std::string& path, const std::string& reason) {
    errors_.push_back({file_, path, reason});
  }

  // Requires an object at `path`; reports unknown keys against `allowed`.
  bool Object(const json& j, const std::string& path, std::initializer_list<const char*> allowed) {
    if (!j.is_object()) {
      Fail(path, std::string("expected an object, found ") + j.type_name());
      return false;
    }
    for (const auto& item : j.items()) {
      const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture those
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
        Fail(path + "." + key, "unknown field '" + key + "' (typo? see flows/schema.json)");
      }
    }
    return true;
  }

  // A required (or optional) non-empty string field; returns it or "".
  std::string Text(const json& obj, const std::string& path, const char* key, bool required = true) {
    auto it = obj.find(key);
    std::string at = path + "." + key;
    if (it == obj.end()) {
      if (required) Fail(at, std::string("missing required field '") + key + "'");
      return "";
    }
    if (!it->is_string()) {
      Fail(at, std::string("expected a string, found ") + it->type_name());
      return "";
    }
    std::string s = it->get<std::string>();
    if (s.find_first_not_of(" \t\r\n") == std::string::npos) {
      Fail(at, "empty text: write what the bot should say");
      return "";
    }
    return s;
  }

  std::string Id(const json& obj, const std::string& path, const char* key, bool required = true) {
    std::string s = Text(obj, path, key, required);
    static const std::regex kId("[a-z][a-z0-9-]*");
    if (!s.empty() && !std::regex_match(s, kId)) {
      Fail(path + "." + key, "'" + s + "' is not a valid id: use lower-case letters, digits and '-'");
      return "";
    }
    return s;
  }

  std::vector<FlowError> Take() { return std::move(errors_); }

 private:
  std::string file_;
  std::vector<FlowError> errors_;
};

bool IsTerminal(const std::string& target) { return target == kEscalate || target == kResolved; }

// The graph rules for one panel: references, reachability, cycles, a way to the end.
void CheckPanelGraph(Checker& c, const json& steps, const std::string& path) {
  struct Node {
    std::string id;
    std::vector<std::pair<std::string, std::string>> edges;  // target, JSON path of the reference
  };
  std::vector<Node> nodes;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& s = steps[i];
    if (!s.is_object()) continue;
    auto id_it = s.find("id");
    if (id_it == s.end() || !id_it->is_string()) continue;
    std::string id = id_it->get<std::string>();
    std::string at = path + "[" + std::to_string(i) + "]";
    if (IsTerminal(id)) {
      c.Fail(at + ".id", "'" + id + "' is reserved for the end of the checks; pick another id");
      continue;
    }
    if (index.count(id)) {
      c.Fail(at + ".id", "duplicate step id '" + id + "' (also at " + path + "[" +
                             std::to_string(index[id]) + "])");
      continue;
    }
    index[id] = i;
    Node node{id, {}};
    std::string next;
    if (s.contains("next") && s["next"].is_string()) {
      next = s["next"].get<std::string>();
      node.edges.push_back({next, at + ".next"});
    } else {
      next = i + 1 < steps.size() && steps[i + 1].is_object() && steps[i + 1].contains("id") &&
                     steps[i + 1]["id"].is_string()
                 ? steps[i + 1]["id"].get<std::string>()
                 : std::string(kEscalate);
      node.edges.push_back({next, at + ".next (default)"});
    }
    if (s.contains("on_fail") && s["on_fail"].is_object() && s["on_fail"].contains("next") &&
        s["on_fail"]["next"].is_string()) {
      node.edges.push_back({s["on_fail"]["next"].get<std::string>(), at + ".on_fail.next"});
    }
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) return;

  std::map<std::string, size_t> pos;  // id -> position in nodes
  for (size_t i = 0; i < nodes.size(); ++i) pos[nodes[i].id] = i;

  for (auto& node : nodes) {
    for (auto& [target, at] : node.edges) {
      if (!IsTerminal(target) && !pos.count(target)) {
        c.Fail(at, "unknown step '" + target + "': use a step id of this panel, 'escalate' or 'resolved'");
      }
    }
  }

  // Reachability from the first step.
  std::vector<bool> reached(nodes.size(), false);
  std::vector<size_t> todo{0};
  reached[0] = true;
  while (!todo.empty()) {
    size_t n = todo.back();
    todo.pop_back();
    for (auto& [target, at] : nodes[n].edges) {
      auto it = pos.find(target);
      if (it != pos.end() && !reached[it->second]) {
        reached[it->second] = true;
        todo.push_back(it->second);
      }
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!reached[i]) {
      c.Fail(path + "[" + std::to_string(index[nodes[i].id]) + "]",
             "step '" + nodes[i].id + "' is unreachable: no step leads to it from the first step");
    }
  }

  // A way to the end: fixpoint of "some edge reaches a terminal or a finishing step".
  std::vector<bool> finishes(nodes.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (finishes[i]) continue;
      for (auto& [target, at] : nodes[i].edges) {
        auto it = pos.find(target);
        if (IsTerminal(target) || (it != pos.end() && finishes[it->second])) {
          finishes[i] = changed = true;
          break;
        }
      }
    }
  }
  // Steps that cannot finish either sit on a cycle without an exit or lead into one.
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (finishes[i]) continue;
    // Walk the first edges to name the cycle.
    std::vector<std::string> walk;
    std::set<size_t> seen;
    size_t n = i;
    bool cycle = false;
    while (true) {
      if (seen.count(n)) {
        cycle = n == i;
        break;
      }
      seen.insert(n);
      walk.push_back(nodes[n].id);
      auto it = pos.find(nodes[n].edges.front().first);
      if (it == pos.end()) break;
      n = it->second;
    }
    std::string at = path + "[" + std::to_string(index[nodes[i].id]) + "]";
    if (cycle) {
      std::string loop;
      for (auto& w : walk) loop += w + " -> ";
      c.Fail(at, "cycle without an exit: " + loop + nodes[i].id +
                     "; let one of these steps lead to a later step, 'escalate' or 'resolved'");
    } else {
      c.Fail(at, "step '" + nodes[i].id + "' has no way to the end: every path from it loops forever");
    }
  }
}

}  // namespace

bool IsFlowFileName(const std::string& name) {
  return name.size() > 5 && name.ends_with(".json") && name != "guide.json" && name != "triage.json" &&
         name.find("schema") == std::string::npos;
}

std::string FlowError::ToString() const { return file + ": " + path + ": " + reason; }

std::vector<FlowError> CheckFlowJson(const std::string& file, const json& flow) {
  Checker c(file);
  if (!c.Object(flow, "$", {"$schema", "id", "version", "title", "symptom", "description", "panels"})) {
    return c.Take();
  }
  c.Id(flow, "$", "id");
  c.Text(flow, "$", "version");
  c.Text(flow, "$", "title");
  c.Text(flow, "$", "symptom");
  c.Text(flow, "$", "description");
  auto panels = flow.find("panels");
  if (panels == flow.end()) {
    c.Fail("$.panels", "missing required field 'panels'");
    return c.Take();
  }
  if (!c.Object(*panels, "$.panels", {"rcp", "mac"})) return c.Take();
  if (panels->empty()) c.Fail("$.panels", "no panels: give the steps for 'rcp' and/or 'mac'");
  for (const auto& [panel_id, panel] : panels->items()) {
    std::string ppath = "$.panels." + panel_id;
    if (!c.Object(panel, ppath, {"steps"})) continue;
    auto steps = panel.find("steps");
    if (steps == panel.end() || !steps->is_array() || steps->empty()) {
      c.Fail(ppath + ".steps", "expected a non-empty array of steps");
      continue;
    }
    for (size_t i = 0; i < steps->size(); ++i) {
      const json& s = (*steps)[i];
      std::string at = ppath + ".steps[" + std::to_string(i) + "]";
      if (!c.Object(s, at, {"id", "check", "question", "fail_on", "next", "pass_note", "input", "probe",
                            "on_fail"})) {
        continue;
      }
      c.Id(s, at, "id");
      c.Text(s, at, "check");
      c.Text(s, at, "question");
      c.Text(s, at, "pass_note", false);
      c.Id(s, at, "next", false);
      c.Id(s, at, "probe", false);
      std::string fail_on = c.Text(s, at, "fail_on", false);
      if (!fail_on.empty() && fail_on != "yes" && fail_on != "no") {
        c.Fail(at + ".fail_on", "must be \"yes\" or \"no\" (the answer that means the check failed)");
      }
      std::string input = c.Text(s, at, "input", false);
      if (!input.empty() && input != "bounce") c.Fail(at + ".input", "the only input kind is \"bounce\"");
      auto on_fail = s.find("on_fail");
      if (on_fail == s.end()) {
        c.Fail(at + ".on_fail", "missing required field 'on_fail': say what a failed check means and the fix");
      } else if (c.Object(*on_fail, at + ".on_fail", {"cause", "fix", "next"})) {
        c.Text(*on_fail, at + ".on_fail", "cause");
        c.Text(*on_fail, at + ".on_fail", "fix");
        c.Id(*on_fail, at + ".on_fail", "next", false);
      }
    }
    CheckPanelGraph(c, *steps, ppath + ".steps");
  }
  return c.Take();
}

std::vector<FlowError> CheckGuideJson(const std::string& file, const json& guide) {
  Checker c(file);
  if (!c.Object(guide, "$", {"$schema", "version", "title", "sections", "notes", "panels", "escalation",
                             "next_steps"})) {
    return c.Take();
  }
  c.Text(guide, "$", "version");
  c.Text(guide, "$", "title");
  auto check_array = [&](const char* key, const std::function<void(const json&, const std::string&)>& each) {
    auto it = guide.find(key);
    std::string path = std::string("$.") + key;
    if (it == guide.end() || !it->is_array()) {
      c.Fail(path, std::string("missing or not an array: '") + key + "'");
      return;
    }
    for (size_t i = 0; i < it->size(); ++i) each((*it)[i], path + "[" + std::to_string(i) + "]");
  };
  std::set<std::string> sections;
  check_array("sections", [&](const json& s, const std::string& at) {
    if (!s.is_string() || s.get<std::string>().empty()) {
      c.Fail(at, "expected a flow id");
    } else if (!sections.insert(s.get<std::string>()).second) {
      c.Fail(at, "section '" + s.get<std::string>() + "' is listed twice");
    }
  });
  if (sections.empty()) c.Fail("$.sections", "list the flow ids in the guide's order");
  auto note = [&](const json& n, const std::string& at) {
    if (c.Object(n, at, {"id", "text"})) {
      c.Id(n, at, "id");
      c.Text(n, at, "text");
    }
  };
  check_array("notes", note);
  check_array("next_steps", note);
  check_array("panels", [&](const json& p, const std::string& at) {
    if (c.Object(p, at, {"id", "name", "short_name"})) {
      std::string id = c.Id(p, at, "id");
      if (!id.empty() && id != "rcp" && id != "mac") c.Fail(at + ".id", "a panel is 'rcp' or 'mac'");
      c.Text(p, at, "name");
      c.Text(p, at, "short_name");
    }
  });
  auto esc = guide.find("escalation");
  if (esc == guide.end()) {
    c.Fail("$.escalation", "missing required field 'escalation'");
  } else if (c.Object(*esc, "$.escalation", {"intro", "contact", "fields"})) {
    c.Text(*esc, "$.escalation", "intro");
    c.Text(*esc, "$.escalation", "contact");
    auto fields = esc->find("fields");
    if (fields == esc->end() || !fields->is_array() || fields->empty()) {
      c.Fail("$.escalation.fields", "list the details to collect before escalating");
    } else {
      std::set<std::string> ids;
      for (size_t i = 0; i < fields->size(); ++i) {
        std::string at = "$.escalation.fields[" + std::to_string(i) + "]";
        if (!c.Object((*fields)[i], at, {"id", "label", "question"})) continue;
        std::string id = c.Id((*fields)[i], at, "id");
        if (!id.empty() && !ids.insert(id).second) c.Fail(at + ".id", "duplicate field id '" + id + "'");
        c.Text((*fields)[i], at, "label");
        c.Text((*fields)[i], at, "question");
      }
    }
  }
  return c.Take();
}

std::vector<FlowError> CheckFlowDir(const std::string& dir) {
  std::vector<FlowError> errors;
  auto append = [&errors](std::vector<FlowError> more) {
    errors.insert(errors.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  };
  auto read = [&](const fs::path& p, json& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      errors.push_back({p.string(), "$", "cannot be read: check that the file exists and is readable"});
      return false;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    try {
      out = json::parse(buf.str());
      return true;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a too-large number
      errors.push_back({p.string(), "$", std::string("not valid JSON: ") + e.what()});
      return false;
    }
  };

  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back({dir, "$", "not a directory: point --flows or MAILGUIDE_FLOWS at the flows folder"});
    return errors;
  }
  fs::path guide_path = fs::path(dir) / "guide.json";
  json guide;
  std::vector<std::string> sections;
  if (read(guide_path, guide)) {
    append(CheckGuideJson(guide_path.string(), guide));
    if (guide.is_object() && guide.contains("sections") && guide["sections"].is_array()) {
      for (const auto& s : guide["sections"]) {
        if (s.is_string()) sections.push_back(s.get<std::string>());
      }
    }
  }

  // Flow files: every *.json beside guide.json except schemas and the other content files.
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json" &&
        IsFlowFileName(entry.path().filename().string())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> seen_ids;  // id -> file
  for (const auto& f : files) {
    json flow;
    if (!read(f, flow)) continue;
    append(CheckFlowJson(f.string(), flow));
    if (!flow.is_object() || !flow.contains("id") || !flow["id"].is_string()) continue;
    std::string id = flow["id"].get<std::string>();
    auto [it, inserted] = seen_ids.emplace(id, f.string());
    if (!inserted) {
      errors.push_back({f.string(), "$.id", "duplicate flow id '" + id + "' (also in " + it->second + ")"});
    } else if (!sections.empty() && std::find(sections.begin(), sections.end(), id) == sections.end()) {
      errors.push_back({f.string(), "$.id", "flow '" + id + "' is not listed in guide.json's sections"});
    }
  }
  for (const auto& s : sections) {
    if (!seen_ids.count(s)) {
      errors.push_back({guide_path.string(), "$.sections", "section '" + s + "' has no flow file with that id"});
    }
  }

  // Archived versions are checked on their own: they only need to be valid flows.
  fs::path archive = fs::path(dir) / "archive";
  if (fs::is_directory(archive, ec)) {
    std::vector<fs::path> old;
    for (const auto& entry : fs::directory_iterator(archive, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") old.push_back(entry.path());
    }
    std::sort(old.begin(), old.end());
    for (const auto& f : old) {
      json flow;
      if (read(f, flow)) append(CheckFlowJson(f.string(), flow));
    }
  }
  return errors;
}

}  // namespace bot
