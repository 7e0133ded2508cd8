// `mailguide check [--json] DOMAIN|MAILBOX`: runs every automatic check (DNS, the provider's
// admin API) and reports each as pass / fail / unknown with its evidence.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bot/checks/config.h"
#include "bot/checks/prober.h"
#include "bot/checks/target.h"
#include "bot/cli/checks_setup.h"
#include "bot/cli/commands.h"
#include "bot/server/httplib_client.h"

namespace bot::cli {

namespace {

struct CheckOptions {
  bool json = false;
  std::string target;
  long deadline_ms = 0;
  std::string token_reason;
};


std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

int RunCheck(const GlobalOptions& global, const CheckOptions& opts) {
  auto target = checks::ParseTarget(opts.target);
  if (!target.ok()) return UsageError("check: " + target.status().message());
  if (!opts.token_reason.empty()) {
    if (opts.json) return UsageError("check: --token prints a secret for a person to use; it does not combine with --json");
    if (target->mailbox.empty()) return UsageError("check: --token needs a mailbox (alice@example.com), not a domain");
  }

  auto setup = SetUpChecks(global.flows_dir, /*for_conversations=*/false, [](const std::string& line) {
    std::cerr << "mailguide: " << line << "\n";
  });
  if (!setup.ok()) {
    const Status& s = setup.status();
    return s.code() == Status::Code::kInvalidArgument ? UsageError("check: " + s.message()) : Failure("check: " + s.message());
  }
  checks::ChecksConfig& config = setup->config;
  checks::CheckProber& prober = *setup->prober;
  if (opts.deadline_ms > 0) config.deadline = std::chrono::milliseconds(opts.deadline_ms);
  const std::vector<ProbeResult> results = prober.Run(*target, config.deadline);
  const std::string name = checks::TargetText(*target);
  if (opts.json) {
    std::string out = "{\"target\": " + Quoted(name) + ", \"checks\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      out += (i ? ", " : "") + std::string("{\"id\": ") + Quoted(r.id) + ", \"status\": \"" + OutcomeName(r.outcome) +
             "\", \"detail\": " + Quoted(r.detail) + "}";
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
  } else {
    int pass = 0, fail = 0, unknown = 0;
    std::printf("%s\n", name.c_str());
    for (const auto& r : results) {
      (r.outcome == ProbeResult::Outcome::kPass ? pass : r.outcome == ProbeResult::Outcome::kFail ? fail : unknown)++;
      std::printf("  %-8s %-20s %s\n", OutcomeName(r.outcome), r.id.c_str(), r.detail.c_str());
    }
    std::printf("%d pass, %d fail, %d unknown\n", pass, fail, unknown);
    if (!opts.token_reason.empty()) {
      auto token = prober.GenerateToken(target->mailbox, opts.token_reason);
      if (!token.ok()) {
        std::fflush(stdout);
        prober.WaitIdle(std::chrono::steady_clock::now() + config.deadline + std::chrono::seconds(2));
        return Failure("check: no token: " + token.status().message());
      }
      std::string notes = "single use";
      if (token->duration_hours > 0) notes += ", valid " + std::to_string(token->duration_hours) + " h";
      if (!token->audit.empty()) notes += ", audit " + token->audit;
      std::printf("email token for %s: %s (%s)\n", target->mailbox.c_str(), token->token.c_str(), notes.c_str());
    }
  }
  // Calls that outlived the deadline finish (their HTTP timeouts match it) before the process
  // tears down the libraries they use.
  prober.WaitIdle(std::chrono::steady_clock::now() + config.deadline + std::chrono::seconds(2));
  return std::fflush(stdout) == 0 ? 0 : Failure("check: cannot write to stdout");
}

}  // namespace

void AddCheckCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto opts = std::make_shared<CheckOptions>();
  CLI::App* sub = app.add_subcommand(
      "check", "runs every automatic check (DNS, the provider's admin API) on a domain or a mailbox and reports each "
               "as pass / fail / unknown with its evidence");
  sub->add_flag("--json", opts->json, R"(print {"target": "...", "checks": [{"id", "status", "detail"}]})");
  sub->add_option("--deadline-ms", opts->deadline_ms,
                  "how long every check together may take (default: $MAILGUIDE_CHECK_DEADLINE_MS or 8000)")
      ->check(CLI::Range(100L, 600000L));
  sub->add_option("--token", opts->token_reason,
                  "also generate a single-use email token for MAILBOX; REASON (e.g. the ticket) goes to the provider's "
                  "audit log. Needs a login whose role may (MAILGUIDE_OPENSRS_ROLE)");
  sub->add_option("target", opts->target, "DOMAIN (example.com) or MAILBOX (alice@example.com)")->required();
  sub->callback([&run, &global, opts] { run = [&global, opts] { return RunCheck(global, *opts); }; });
}

}  // namespace bot::cli
