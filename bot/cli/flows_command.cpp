// `mailguide flows check [DIR]` and `mailguide flows graph [--format mermaid|dot]`.
#include <iostream>

#include <CLI/CLI.hpp>

#include "bot/cli/commands.h"
#include "bot/content.h"
#include "bot/flow_check.h"
#include "bot/flow_graph.h"

namespace bot::cli {
namespace {

int RunCheck(const std::string& dir) {
  std::vector<FlowError> errors = CheckFlowDir(dir);
  for (const auto& e : errors) std::cerr << e.ToString() << "\n";
  if (!errors.empty()) {
    std::cerr << "mailguide: " << errors.size() << " problem(s) in " << dir << "\n";
    return 2;
  }
  // The SMTP knowledge and the triage vocabulary live beside the flows and load with them.
  auto content = LoadContent(dir);
  if (!content.ok()) return UsageError(content.status().message());
  size_t steps = 0;
  for (const auto& f : content->flows.flows) {
    for (const auto& [id, panel] : f.panels) steps += panel.steps.size();
  }
  std::cout << "ok: " << content->flows.flows.size() << " flows, " << steps << " steps, guide version "
            << content->flows.guide.version << "\n";
  return 0;
}

int RunGraph(const std::string& dir, const std::string& format) {
  auto flows = LoadFlows(dir);
  if (!flows.ok()) return UsageError(flows.status().message());
  std::cout << DrawFlows(*flows, format == "dot" ? GraphFormat::kDot : GraphFormat::kMermaid);
  return 0;
}

}  // namespace

void AddFlowsCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  CLI::App* flows = app.add_subcommand("flows", "validate or draw the flow files");
  flows->require_subcommand(1);

  auto dir = std::make_shared<std::string>();
  CLI::App* check = flows->add_subcommand("check", "validate flow files; every error names file, JSON path and reason");
  check->add_option("DIR", *dir, "flows directory (default: the configured flows)");
  check->callback([&global, &run, dir] {
    run = [&global, dir] { return RunCheck(dir->empty() ? global.flows_dir : *dir); };
  });

  auto format = std::make_shared<std::string>("mermaid");
  CLI::App* graph = flows->add_subcommand("graph", "draw the flows as a Mermaid or DOT diagram");
  graph->add_option("--format", *format, "mermaid or dot")->check(CLI::IsMember({"mermaid", "dot"}));
  graph->callback([&global, &run, format] { run = [&global, format] { return RunGraph(global.flows_dir, *format); }; });
}

}  // namespace bot::cli
