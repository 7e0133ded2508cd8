// The `mailguide` subcommands. Each Add*Command registers one subcommand on the CLI11 app;
// when it is chosen, its callback stores the work to run in `run`, which returns the exit
// code: 0 success, 1 failure, 2 bad usage or bad input (with a one-line reason on stderr).
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace bot::cli {

using Runner = std::function<int()>;

// Options every subcommand shares.
struct GlobalOptions {
  std::string flows_dir;  // --flows, else MAILGUIDE_FLOWS, else the built-in default
};

void AddChatCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void AddFlowsCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void AddSmtpCodeCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void AddTriageCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void AddServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void AddCheckCommand(CLI::App& app, const GlobalOptions& global, Runner& run);

// Prints "mailguide: <reason>" on stderr and returns 2 (bad usage or input).
int UsageError(const std::string& reason);
// Prints "mailguide: <reason>" on stderr and returns 1 (the work failed).
int Failure(const std::string& reason);

}  // namespace bot::cli
