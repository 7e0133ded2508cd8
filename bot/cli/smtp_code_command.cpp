// `mailguide smtp-code [--json] [CODE ...]`: explains SMTP codes given as arguments, or, with no
// CODE, a whole bounce message read from stdin.
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bot/cli/commands.h"
#include "bot/smtp/bounce_parser.h"
#include "bot/smtp/smtp.h"

namespace bot::cli {

namespace {

struct SmtpCodeOptions {
  bool json = false;
  std::vector<std::string> codes;
};

// Reads stdin up to the parser's cap (the rest is drained and ignored).
std::string ReadStdin() {
  std::string text;
  char buf[65536];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    if (text.size() < bot::smtp::kMaxInputBytes) text.append(buf, static_cast<size_t>(std::cin.gcount()));
  }
  return text;
}

int Run(const GlobalOptions& global, const SmtpCodeOptions& opt) {
  // Check the arguments before loading anything: bad input is exit 2 whatever the flows say.
  for (const auto& c : opt.codes) {
    std::string b, e;
    Status s = bot::smtp::ParseCodeToken(c, &b, &e);
    if (!s.ok()) return UsageError(s.message());
  }
  auto knowledge = bot::smtp::Knowledge::Load(global.flows_dir);
  if (!knowledge.ok()) return Failure(knowledge.status().message());

  bot::smtp::Explanation e;
  if (!opt.codes.empty()) {
    auto r = knowledge->ExplainCodes(opt.codes);
    if (!r.ok()) return UsageError(r.status().message());
    e = std::move(r).value();
  } else {
    std::string text = ReadStdin();
    bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank) return UsageError("smtp-code: give a code (550, 5.7.26, \"550 5.7.26\") or pipe a bounce message on stdin");
    e = knowledge->ExplainText(text);
  }
  if (opt.json) {
    std::cout << bot::smtp::ToJson(e).dump(2) << "\n";
  } else {
    std::cout << bot::smtp::ToPlainText(e);
  }
  return 0;
}

}  // namespace

void AddSmtpCodeCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto opt = std::make_shared<SmtpCodeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "smtp-code",
      "Explain SMTP reply codes (550, 5.7.26, \"550 5.7.26\") or, with no CODE, a bounce message read from stdin");
  cmd->add_flag("--json", opt->json,
                "print {basic, enhanced, category, section, summary, explanation, codes} as JSON");
  cmd->add_option("CODE", opt->codes,
                  "a basic code (550), an enhanced code (5.7.26) or both (\"550 5.7.26\", 550-5.7.26)");
  cmd->callback([&global, &run, opt]() { run = [&global, opt]() { return Run(global, *opt); }; });
}

}  // namespace bot::cli
