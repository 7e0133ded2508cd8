// mailguide: one binary, one subcommand per job. Wiring only; the work lives in *_command.cpp.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "bot/cli/commands.h"

#ifndef MAILGUIDE_DEFAULT_FLOWS_DIR
#define MAILGUIDE_DEFAULT_FLOWS_DIR "flows"
#endif

namespace bot::cli {

int UsageError(const std::string& reason) {
  std::cerr << "mailguide: " << reason << "\n";
  return 2;
}

int Failure(const std::string& reason) {
  std::cerr << "mailguide: " << reason << "\n";
  return 1;
}

}  // namespace bot::cli

int main(int argc, char** argv) {
  CLI::App app{"mailguide — walks support agents through the hosted-email troubleshooting guide"};
  app.require_subcommand(1);
  bot::cli::GlobalOptions global;
  const char* env_flows = std::getenv("MAILGUIDE_FLOWS");
  global.flows_dir = (env_flows && *env_flows) ? env_flows : MAILGUIDE_DEFAULT_FLOWS_DIR;
  app.add_option("--flows", global.flows_dir, "flows directory (default: $MAILGUIDE_FLOWS or the installed flows/)");

  bot::cli::Runner run;
  bot::cli::AddServeCommand(app, global, run);
  bot::cli::AddChatCommand(app, global, run);
  bot::cli::AddSmtpCodeCommand(app, global, run);
  bot::cli::AddTriageCommand(app, global, run);
  bot::cli::AddFlowsCommand(app, global, run);
  bot::cli::AddCheckCommand(app, global, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints its own message; the contract says bad usage exits 2.
    app.exit(e);
    return 2;
  }
  return run ? run() : 2;
}
