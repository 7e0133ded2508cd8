// Draws the flows as a diagram (Mermaid or Graphviz DOT): one box per check and panel,
// arrows for passing, failing, fixing and escalating. Used by `mailguide flows graph` and
// the web flow map.
#pragma once

#include <string>

#include "bot/flow.h"

namespace bot {

enum class GraphFormat { kMermaid, kDot };

std::string DrawFlows(const FlowSet& flows, GraphFormat format);

// The node id DrawFlows gives a step ("sending_rcp_sending_limit"), so pages can link to it.
std::string GraphNodeId(const std::string& flow, const std::string& panel, const std::string& step);

}  // namespace bot
