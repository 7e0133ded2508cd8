#include "bot/flow_graph.h"

#include <cctype>
#include <vector>

namespace bot {
namespace {

struct Edge {
  std::string from, to, label;
};
struct Node {
  std::string id, label;
  bool terminal = false;
};
struct Graph {
  std::string id, title;
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

std::string Safe(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

std::string Escape(const std::string& s, GraphFormat format) {
  std::string out;
  for (char c : s) {
    if (c == '"') {
      out += format == GraphFormat::kMermaid ? "#quot;" : "\\\"";
    } else if (c == '\\' && format == GraphFormat::kDot) {
      out += "\\\\";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<Graph> Build(const FlowSet& flows) {
  std::vector<Graph> graphs;
  for (const auto& flow : flows.flows) {
    for (const auto& entry : flow.panels) {
      const std::string& panel_id = entry.first;  // not a structured binding: clang 14 cannot capture those
      const Panel& panel = entry.second;
      Graph g;
      g.id = Safe(flow.id + "_" + panel_id);
      const PanelInfo* info = flows.guide.FindPanel(panel_id);
      g.title = flow.title + " (" + (info ? info->short_name : panel_id) + ")";
      auto target = [&](const std::string& t) {
        return t == kEscalate || t == kResolved ? g.id + "_" + t : GraphNodeId(flow.id, panel_id, t);
      };
      for (size_t i = 0; i < panel.steps.size(); ++i) {
        const Step& s = panel.steps[i];
        std::string id = GraphNodeId(flow.id, panel_id, s.id);
        std::string fail = id + "_fix";
        std::string pass_answer = s.fail_on == "no" ? "yes" : "no";
        g.nodes.push_back({id, std::to_string(i + 1) + ". " + s.question, false});
        g.nodes.push_back({fail, "Likely cause: " + s.on_fail.cause, false});
        g.edges.push_back({id, target(s.next), pass_answer + " / skip"});
        g.edges.push_back({id, fail, s.fail_on});
        g.edges.push_back({fail, g.id + "_resolved", "that fixed it"});
        g.edges.push_back({fail, target(s.on_fail.next), "keep checking"});
      }
      g.nodes.push_back({g.id + "_escalate", "Escalate: collect details, write the summary", true});
      g.nodes.push_back({g.id + "_resolved", "Resolved", true});
      graphs.push_back(std::move(g));
    }
  }
  return graphs;
}

}  // namespace

std::string GraphNodeId(const std::string& flow, const std::string& panel, const std::string& step) {
  return Safe(flow + "_" + panel + "_" + step);
}

std::string DrawFlows(const FlowSet& flows, GraphFormat format) {
  std::string out;
  std::vector<Graph> graphs = Build(flows);
  if (format == GraphFormat::kMermaid) {
    out += "flowchart TD\n";
    for (const auto& g : graphs) {
      out += "  subgraph " + g.id + "[\"" + Escape(g.title, format) + "\"]\n";
      for (const auto& n : g.nodes) {
        out += "    " + n.id + (n.terminal ? "([\"" : "[\"") + Escape(n.label, format) + (n.terminal ? "\"])" : "\"]") + "\n";
      }
      for (const auto& e : g.edges) out += "    " + e.from + " -->|" + Escape(e.label, format) + "| " + e.to + "\n";
      out += "  end\n";
    }
    return out;
  }
  out += "digraph flows {\n  rankdir=TB;\n  node [shape=box, fontname=\"sans-serif\"];\n";
  for (const auto& g : graphs) {
    out += "  subgraph cluster_" + g.id + " {\n    label=\"" + Escape(g.title, format) + "\";\n";
    for (const auto& n : g.nodes) {
      out += "    " + n.id + " [label=\"" + Escape(n.label, format) + "\"" + (n.terminal ? ", shape=oval" : "") + "];\n";
    }
    for (const auto& e : g.edges) out += "    " + e.from + " -> " + e.to + " [label=\"" + Escape(e.label, format) + "\"];\n";
    out += "  }\n";
  }
  out += "}\n";
  return out;
}

}  // namespace bot
