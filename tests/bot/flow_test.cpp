// Loading the shipped flows: the guide's three sections, both panels, defaults filled in.
#include <catch2/catch.hpp>

#include "bot/flow.h"
#include "bot/flow_graph.h"
#include "support/paths.h"

TEST_CASE("loads the three sections in the guide's order with both panels", "[flows]") {
  auto flows = bot::LoadFlows(bot::testing::FlowsDir());
  REQUIRE(flows.ok());
  REQUIRE(flows->flows.size() == 3);
  CHECK(flows->flows[0].id == "webmail");
  CHECK(flows->flows[1].id == "receiving");
  CHECK(flows->flows[2].id == "sending");
  for (const auto& f : flows->flows) {
    CHECK_FALSE(f.version.empty());
    REQUIRE(f.FindPanel("rcp"));
    REQUIRE(f.FindPanel("mac"));
    CHECK(f.FindPanel("rcp")->steps.size() == f.FindPanel("mac")->steps.size());
  }
  CHECK(flows->guide.FindPanel("mac")->short_name == "MAC");
}

TEST_CASE("fills in default next steps: the following step, then escalate", "[flows]") {
  auto flows = bot::LoadFlows(bot::testing::FlowsDir());
  REQUIRE(flows.ok());
  const auto& steps = flows->Find("receiving")->FindPanel("rcp")->steps;
  for (size_t i = 0; i + 1 < steps.size(); ++i) CHECK(steps[i].next == steps[i + 1].id);
  CHECK(steps.back().next == bot::kEscalate);
  CHECK(steps.front().on_fail.next == steps.front().next);
}

TEST_CASE("draws every step in Mermaid and DOT", "[flows]") {
  auto flows = bot::LoadFlows(bot::testing::FlowsDir());
  REQUIRE(flows.ok());
  std::string mermaid = bot::DrawFlows(*flows, bot::GraphFormat::kMermaid);
  std::string dot = bot::DrawFlows(*flows, bot::GraphFormat::kDot);
  CHECK(mermaid.rfind("flowchart TD", 0) == 0);
  CHECK(dot.rfind("digraph flows {", 0) == 0);
  for (const auto& f : flows->flows) {
    for (const auto& [panel, p] : f.panels) {
      for (const auto& s : p.steps) {
        std::string node = bot::GraphNodeId(f.id, panel, s.id);
        CHECK(mermaid.find("    " + node + "[\"") != std::string::npos);
        CHECK(dot.find(node + " -> ") != std::string::npos);
      }
    }
  }
}
