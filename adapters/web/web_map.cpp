#include "adapters/web/web_map.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "adapters/web/web_render.h"
#include "bot/flow_graph.h"

namespace bot::web {

namespace {

std::string Unquote(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 6, "#quot;") == 0) {
      out += '"';
      i += 5;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a);
}

// Greedy word wrap to at most `max_lines` lines of `width` characters (UTF-8 bytes are
// counted loosely; the guide's text is mostly ASCII).
std::vector<std::string> Wrap(const std::string& text, size_t width, size_t max_lines) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    std::string& last = lines.back();
    if (last.size() + 1 > width) last.resize(width - 1);
    last += "…";
  }
  if (lines.empty()) lines.push_back("");
  return lines;
}

struct StepInfo {
  const Flow* flow = nullptr;
  const Panel* panel = nullptr;
  const Step* step = nullptr;
  int number = 0;
};

constexpr int kBoxW = 300;
constexpr int kColA = 30;
constexpr int kColB = kColA + kBoxW + 130;
constexpr int kWidth = kColB + kBoxW + 60;
constexpr int kLine = 18;
constexpr int kPad = 12;
constexpr int kRowGap = 46;
constexpr size_t kWrap = 36;

struct Box {
  int x = 0, y = 0, w = kBoxW, h = 0;
  int cx() const { return x + w / 2; }
  int cy() const { return y + h / 2; }
  int bottom() const { return y + h; }
  int right() const { return x + w; }
};

std::string Num(int v) { return std::to_string(v); }

std::string TextLines(const std::vector<std::string>& lines, const Box& b, const char* cls) {
  std::string out = "<text class=\"" + std::string(cls) + "\" x=\"" + Num(b.x + kPad) + "\" y=\"" +
                    Num(b.y + kPad + 13) + "\">";
  for (size_t i = 0; i < lines.size(); ++i) {
    out += "<tspan x=\"" + Num(b.x + kPad) + "\"" + (i ? " dy=\"" + Num(kLine) + "\"" : std::string()) + ">" +
           EscapeHtml(lines[i]) + "</tspan>";
  }
  return out + "</text>";
}

std::string Label(int x, int y, const std::string& text, const char* anchor = "start") {
  return "<text class=\"edge-label\" x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" text-anchor=\"" + anchor + "\">" +
         EscapeHtml(text) + "</text>";
}

std::string RenderGraph(const MapGraph& g, const std::map<std::string, StepInfo>& steps) {
  // Rows: every step node with its fix node beside it, then the two end nodes.
  std::vector<const MapNode*> step_nodes;
  std::map<std::string, const MapNode*> by_id;
  const MapNode* escalate = nullptr;
  const MapNode* resolved = nullptr;
  for (const auto& n : g.nodes) {
    by_id[n.id] = &n;
    if (n.terminal) {
      (n.id.size() >= 9 && n.id.compare(n.id.size() - 9, 9, "_resolved") == 0 ? resolved : escalate) = &n;
    } else if (!(n.id.size() > 4 && n.id.compare(n.id.size() - 4, 4, "_fix") == 0)) {
      step_nodes.push_back(&n);
    }
  }
  std::map<std::string, Box> boxes;
  std::map<std::string, std::vector<std::string>> lines;
  int y = 20;
  for (const MapNode* n : step_nodes) {
    lines[n->id] = Wrap(n->label, kWrap, 4);
    auto fix = by_id.find(n->id + "_fix");
    const size_t fix_lines = fix == by_id.end() ? 0 : (lines[fix->first] = Wrap(fix->second->label, kWrap, 4)).size();
    const int h = 2 * kPad + kLine * static_cast<int>(std::max(lines[n->id].size(), fix_lines)) + 4;
    boxes[n->id] = Box{kColA, y, kBoxW, h};
    if (fix != by_id.end()) boxes[fix->first] = Box{kColB, y, kBoxW, h};
    y += h + kRowGap;
  }
  if (escalate) {
    lines[escalate->id] = Wrap(escalate->label, kWrap, 2);
    boxes[escalate->id] = Box{kColA, y, kBoxW, 2 * kPad + kLine * static_cast<int>(lines[escalate->id].size()) + 4};
  }
  if (resolved) {
    lines[resolved->id] = Wrap(resolved->label, kWrap, 2);
    boxes[resolved->id] = Box{kColB, y, kBoxW, 2 * kPad + kLine * static_cast<int>(lines[resolved->id].size()) + 4};
  }
  const int height = y + 70;
  const std::string marker = "arrow-" + g.id;
  std::string svg = "<svg class=\"flowmap\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(height) + "\" width=\"" +
                    Num(kWidth) + "\" role=\"group\" aria-labelledby=\"t-" + g.id + "\">";
  svg += "<defs><marker id=\"" + marker +
         "\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
         "<path d=\"M0,0 L10,5 L0,10 z\" class=\"arrowhead\"/></marker></defs>";
  const std::string arrow = " marker-end=\"url(#" + marker + ")\"";

  // Edges first, so boxes sit on top of them.
  std::string edges;
  bool fixed_labelled = false;
  for (const auto& e : g.edges) {
    auto from = boxes.find(e.from);
    auto to = boxes.find(e.to);
    if (from == boxes.end() || to == boxes.end()) continue;
    const Box& a = from->second;
    const Box& b = to->second;
    const bool a_is_fix = a.x == kColB;
    if (!a_is_fix && b.x == kColA && b.y > a.y) {
      if (b.y == a.bottom() + kRowGap) {  // the next row: straight down
        edges += "<path class=\"edge pass\" d=\"M" + Num(a.cx()) + "," + Num(a.bottom()) + " V" + Num(b.y - 2) + "\"" +
                 arrow + "/>";
        edges += Label(a.cx() + 8, a.bottom() + kRowGap / 2 + 4, e.label);
      } else {  // further down: around the left edge
        edges += "<path class=\"edge pass\" d=\"M" + Num(a.x) + "," + Num(a.cy()) + " H" + Num(kColA - 18) + " V" +
                 Num(b.cy()) + " H" + Num(b.x - 2) + "\"" + arrow + "/>";
      }
    } else if (!a_is_fix && b.x == kColB && b.y == a.y) {  // the check fails: to its likely cause
      edges += "<path class=\"edge fail\" d=\"M" + Num(a.right()) + "," + Num(a.cy()) + " H" + Num(b.x - 2) + "\"" +
               arrow + "/>";
      edges += Label((a.right() + b.x) / 2, a.cy() - 8, e.label, "middle");
    } else if (a_is_fix && b.x == kColB && b.y > a.y) {  // "that fixed it": down the right side
      const int bus = kColB + kBoxW + 28;
      edges += "<path class=\"edge fixed\" d=\"M" + Num(a.right()) + "," + Num(a.cy()) + " H" + Num(bus) + " V" +
               Num(b.cy()) + " H" + Num(b.right() + 2) + "\"" + arrow + "/>";
      if (!fixed_labelled) {
        edges += "<text class=\"edge-label\" transform=\"translate(" + Num(bus + 14) + "," + Num(a.cy() + 10) +
                 ") rotate(90)\">" + EscapeHtml(e.label) + "</text>";
        fixed_labelled = true;
      }
    } else if (a_is_fix) {  // "keep checking": back to the checks
      edges += "<path class=\"edge again\" d=\"M" + Num(a.cx()) + "," + Num(a.bottom()) + " L" + Num(b.right() - 40) +
               "," + Num(b.y - 2) + "\"" + arrow + "/>";
      edges += Label(a.cx() + 8, a.bottom() + 15, e.label);
    } else {
      edges += "<path class=\"edge pass\" d=\"M" + Num(a.cx()) + "," + Num(a.bottom()) + " L" + Num(b.cx()) + "," +
               Num(b.y - 2) + "\"" + arrow + "/>";
    }
  }
  svg += edges;

  for (const auto& n : g.nodes) {
    auto box = boxes.find(n.id);
    if (box == boxes.end()) continue;
    const Box& b = box->second;
    const bool fix = b.x == kColB && !n.terminal;
    std::string target;
    std::string step_id = fix ? n.id.substr(0, n.id.size() - 4) : n.id;
    auto info = steps.find(step_id);
    if (info != steps.end()) target = "#d-" + step_id;
    if (n.terminal && &n == escalate) target = "#escalation";
    const char* cls = n.terminal ? (&n == resolved ? "node end resolved" : "node end escalate")
                                 : (fix ? "node cause" : "node step");
    std::string shape = "<rect class=\"" + std::string(cls) + "\" x=\"" + Num(b.x) + "\" y=\"" + Num(b.y) +
                        "\" width=\"" + Num(b.w) + "\" height=\"" + Num(b.h) + "\" rx=\"" +
                        (n.terminal ? Num(b.h / 2) : std::string("8")) + "\"/>" +
                        TextLines(lines[n.id], Box{b.x + (n.terminal ? 10 : 0), b.y, b.w, b.h}, "node-text");
    if (target.empty()) {
      svg += "<g>" + shape + "</g>";
    } else {
      std::string title = n.label;
      if (info != steps.end() && !fix) title = "Step " + std::to_string(info->second.number) + ": " + info->second.step->question;
      svg += "<a class=\"node-link\" href=\"" + EscapeHtml(target) + "\" id=\"n-" + n.id + "\"><title>" +
             EscapeHtml(title) + " (open its text)</title>" + shape + "</a>";
    }
  }
  svg += "</svg>";
  return svg;
}

std::string StepDetails(const StepInfo& s, const std::string& node_id, const std::string& graph_id,
                        const Guide& guide) {
  const Step& step = *s.step;
  const std::string pass = step.fail_on == "no" ? "yes" : "no";
  std::string out = "<li id=\"d-" + node_id + "\" class=\"step-text\" tabindex=\"-1\"><h4>Step " +
                    std::to_string(s.number) + ": " + EscapeHtml(step.question) + "</h4><dl>";
  out += "<dt>Check</dt><dd>" + EscapeHtml(step.check) + "</dd>";
  out += "<dt>The check passes on</dt><dd>" + EscapeHtml(pass) + (step.pass_note.empty() ? "" : " — " + EscapeHtml(step.pass_note)) + "</dd>";
  out += "<dt>Likely cause when it fails</dt><dd>" + EscapeHtml(step.on_fail.cause) + "</dd>";
  out += "<dt>What to do</dt><dd>" + EscapeHtml(step.on_fail.fix) + "</dd>";
  auto name = [&](const std::string& target) -> std::string {
    if (target == kEscalate) return "escalate";
    if (target == kResolved) return "resolved";
    const int i = s.panel->IndexOf(target);
    return i < 0 ? target : "step " + std::to_string(i + 1);
  };
  out += "<dt>Next</dt><dd>" + EscapeHtml(name(step.next)) + "; after the fix, “keep checking” goes to " +
         EscapeHtml(name(step.on_fail.next.empty() ? step.next : step.on_fail.next)) + "</dd>";
  if (!step.probe.empty()) out += "<dt>Automatic check</dt><dd>" + EscapeHtml(step.probe) + "</dd>";
  if (step.input == "bounce") out += "<dt>Also accepts</dt><dd>a pasted bounce message</dd>";
  (void)guide;
  out += "</dl><p><a href=\"#n-" + node_id + "\">Back to the diagram</a> · <a href=\"#g-" + graph_id +
         "\">Top of this flow</a></p></li>";
  return out;
}

}  // namespace

std::vector<MapGraph> ParseMermaidGraphs(const std::string& mermaid) {
  std::vector<MapGraph> graphs;
  std::istringstream in(mermaid);
  std::string raw;
  while (std::getline(in, raw)) {
    const std::string line = Trim(raw);
    if (line.rfind("subgraph ", 0) == 0) {
      MapGraph g;
      const size_t open = line.find("[\"");
      g.id = line.substr(9, open == std::string::npos ? std::string::npos : open - 9);
      if (open != std::string::npos) g.title = Unquote(line.substr(open + 2, line.rfind("\"]") - open - 2));
      graphs.push_back(std::move(g));
      continue;
    }
    if (graphs.empty() || line == "end") continue;
    MapGraph& g = graphs.back();
    const size_t arrow = line.find(" -->|");
    if (arrow != std::string::npos) {
      const size_t bar = line.find("| ", arrow + 5);
      if (bar == std::string::npos) continue;
      g.edges.push_back({line.substr(0, arrow), line.substr(bar + 2), Unquote(line.substr(arrow + 5, bar - arrow - 5))});
      continue;
    }
    const size_t round = line.find("([\"");
    const size_t square = line.find("[\"");
    if (round != std::string::npos && round < square) {
      g.nodes.push_back({line.substr(0, round), Unquote(line.substr(round + 3, line.rfind("\"])") - round - 3)), true});
    } else if (square != std::string::npos) {
      g.nodes.push_back({line.substr(0, square), Unquote(line.substr(square + 2, line.rfind("\"]") - square - 2)), false});
    }
  }
  return graphs;
}

std::string RenderMapBody(const FlowSet& flows) {
  const std::string mermaid = DrawFlows(flows, GraphFormat::kMermaid);
  std::vector<MapGraph> graphs = ParseMermaidGraphs(mermaid);
  // The guide's panel order (RCP before MAC) within each flow; DrawFlows keeps the map's.
  auto rank = [&flows](const MapGraph& g) {
    for (size_t f = 0; f < flows.flows.size(); ++f) {
      for (size_t p = 0; p < flows.guide.panels.size(); ++p) {
        if (GraphNodeId(flows.flows[f].id, flows.guide.panels[p].id, "") == g.id + "_") {
          return f * 100 + p;
        }
      }
    }
    return size_t{100000};
  };
  std::stable_sort(graphs.begin(), graphs.end(), [&](const MapGraph& a, const MapGraph& b) { return rank(a) < rank(b); });

  std::map<std::string, StepInfo> steps;  // GraphNodeId → the step
  for (const auto& flow : flows.flows) {
    for (const auto& [panel_id, panel] : flow.panels) {
      for (size_t i = 0; i < panel.steps.size(); ++i) {
        steps[GraphNodeId(flow.id, panel_id, panel.steps[i].id)] =
            StepInfo{&flow, &panel, &panel.steps[i], static_cast<int>(i + 1)};
      }
    }
  }

  std::string out = "<h1>Flow map</h1><p class=\"lead\">Every guided check, as <code>mailguide flows graph</code> "
                    "draws it: a box per question, the likely cause beside it when the check fails. Select a "
                    "box to read the step's full text.</p>";
  out += "<nav aria-label=\"Flows\" class=\"toc\"><ul>";
  for (const auto& g : graphs) out += "<li><a href=\"#g-" + g.id + "\">" + EscapeHtml(g.title) + "</a></li>";
  out += "</ul></nav>";
  out += "<p class=\"legend\" aria-hidden=\"true\"><span class=\"key step\"></span>question "
         "<span class=\"key cause\"></span>likely cause and fix <span class=\"key resolved\"></span>resolved "
         "<span class=\"key escalate\"></span>escalate</p>";
  for (const auto& g : graphs) {
    out += "<section class=\"flow\" id=\"g-" + g.id + "\" aria-labelledby=\"t-" + g.id + "\"><h2 id=\"t-" + g.id +
           "\">" + EscapeHtml(g.title) + "</h2><div class=\"diagram\">" + RenderGraph(g, steps) + "</div>";
    out += "<h3>The steps</h3><ol class=\"step-list\">";
    for (const auto& n : g.nodes) {
      auto info = steps.find(n.id);
      if (info != steps.end()) out += StepDetails(info->second, n.id, g.id, flows.guide);
    }
    out += "</ol></section>";
  }
  out += "<section class=\"flow\" id=\"escalation\" tabindex=\"-1\"><h2>Escalate</h2><p>" +
         EscapeHtml(flows.guide.escalation_intro) + "</p><p>The summary asks for:</p><ul>";
  for (const auto& f : flows.guide.escalation_fields) {
    out += "<li><strong>" + EscapeHtml(f.label) + "</strong> — " + EscapeHtml(f.question) + "</li>";
  }
  out += "</ul><p>It goes to " + EscapeHtml(flows.guide.escalation_contact) + ".</p></section>";
  out += "<details class=\"source\"><summary>Mermaid source (<code>mailguide flows graph</code>)</summary><pre>" +
         EscapeHtml(mermaid) + "</pre></details>";
  return out;
}

}  // namespace bot::web
