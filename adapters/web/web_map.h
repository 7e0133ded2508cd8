// The flow map page's body: the graph `mailguide flows graph` draws (DrawFlows' Mermaid text,
// parsed back), laid out as one inline SVG per flow and panel, each step a link to its full
// text further down the page. No script and nothing from the internet.
#pragma once

#include <string>
#include <vector>

#include "bot/flow.h"

namespace bot::web {

// DrawFlows' Mermaid output as data.
struct MapNode {
  std::string id;
  std::string label;
  bool terminal = false;  // drawn rounded: escalate, resolved
};
struct MapEdge {
  std::string from, to, label;
};
struct MapGraph {
  std::string id;
  std::string title;
  std::vector<MapNode> nodes;
  std::vector<MapEdge> edges;
};

// Parses DrawFlows(flows, GraphFormat::kMermaid). Lines it does not know are skipped.
std::vector<MapGraph> ParseMermaidGraphs(const std::string& mermaid);

// The <main> content of /map: a list of the diagrams, the SVGs, and every step's text.
std::string RenderMapBody(const FlowSet& flows);

}  // namespace bot::web
