// `mailguide triage [--json] TEXT...`: names the guide section that fits a problem report.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bot/cli/commands.h"
#include "bot/triage.h"

namespace bot::cli {

namespace {

struct TriageOptions {
  bool json = false;
  std::vector<std::string> words;
};

int RunTriage(const GlobalOptions& global, const TriageOptions& opts) {
  std::string text;
  for (const auto& w : opts.words) {
    if (!text.empty()) text += ' ';
    text += w;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return UsageError("triage: TEXT is empty; give the problem report, e.g. mailguide triage \"can't log in to webmail\"");
  }
  auto triage = Triage::Load(global.flows_dir);
  if (!triage.ok()) return Failure(triage.status().ToString());

  const TriageResult r = triage->Classify(text);
  if (opts.json) {
    std::printf("{\"section\": \"%s\", \"confidence\": %.2f}\n", r.section.c_str(), r.confidence);
  } else if (r.section == "unclear") {
    std::printf("unclear (confidence %.2f): the report does not say which symptom; ask: webmail, receiving or sending?\n",
                r.confidence);
  } else {
    std::printf("%s (confidence %.2f)\n", r.section.c_str(), r.confidence);
  }
  return std::fflush(stdout) == 0 ? 0 : Failure("triage: cannot write to stdout");
}

}  // namespace

void AddTriageCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto opts = std::make_shared<TriageOptions>();
  CLI::App* sub = app.add_subcommand(
      "triage", "names the guide section (webmail, receiving, sending or unclear) that fits a free-text problem report");
  sub->add_flag("--json", opts->json, R"(print {"section": "...", "confidence": 0.xx})");
  sub->add_option("text", opts->words, "the problem report; several words are joined with spaces");
  sub->callback([&run, &global, opts] { run = [&global, opts] { return RunTriage(global, *opts); }; });
}

}  // namespace bot::cli
