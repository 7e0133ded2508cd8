// `mailguide chat`: the conversation in a terminal or a pipe, through the console adapter.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include <CLI/CLI.hpp>

#include "adapters/console/console_adapter.h"
#include "bot/cli/checks_setup.h"
#include "bot/cli/commands.h"
#include "bot/content.h"
#include "bot/engine.h"
#include "bot/store/store_factory.h"

namespace bot::cli {
namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string NewSessionId() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string id;
  for (int i = 0; i < 10; ++i) id += "0123456789abcdef"[hex(rd)];
  return id;
}

struct ChatOptions {
  std::string section;
  std::string panel;
  std::string session;
};

int RunChat(const GlobalOptions& global, const ChatOptions& opts) {
  auto content = LoadContent(global.flows_dir);
  if (!content.ok()) return UsageError(content.status().message());

  int64_t ttl = 86400;
  std::string ttl_text = Env("MAILGUIDE_SESSION_TTL", "86400");
  char* end = nullptr;
  long long parsed = std::strtoll(ttl_text.c_str(), &end, 10);
  if (end == ttl_text.c_str() || *end != '\0' || parsed <= 0) {
    return UsageError("MAILGUIDE_SESSION_TTL must be a positive number of seconds, not '" + ttl_text + "'");
  }
  ttl = parsed;
  StoreOptions store_options;
  store_options.session_ttl_seconds = ttl;
  auto store = OpenStore(Env("MAILGUIDE_STORE", ""), Env("MAILGUIDE_DATA_DIR", "./var"), UnixNow, store_options);
  if (!store.ok()) {
    return store.status().code() == Status::Code::kInvalidArgument ? UsageError(store.status().message())
                                                                    : Failure(store.status().message());
  }

  auto checks = SetUpChecks(global.flows_dir, /*for_conversations=*/true,
                            [](const std::string& line) { std::cerr << "mailguide: " << line << "\n"; });
  if (!checks.ok()) return UsageError(checks.status().message());

  EngineOptions engine_options;
  engine_options.session_ttl_seconds = ttl;
  engine_options.prober = checks->prober.get();
  Engine engine(*content, **store, engine_options);

  ConversationRef ref;
  ref.platform = "console";
  ref.workspace = "local";
  ref.channel = opts.session.empty() ? NewSessionId() : opts.session;
  ref.user = Env("USER", "console");
  console::ConsoleAdapter adapter(engine, ref);
  std::cerr << "mailguide: session " << ref.channel << " (resume with: mailguide chat --session " << ref.channel
            << ")\n";

  if (!opts.panel.empty()) {
    Status saved = (*store)->SetPreference(ref.UserKey(), "panel", opts.panel);
    if (!saved.ok()) return Failure(saved.message());
  }
  Result<TurnResult> first = TurnResult{};
  if (!opts.section.empty()) {
    first = adapter.SendCommand("mailguide", opts.section);
  } else if (!opts.session.empty()) {
    auto existing = (*store)->Load(ref.Key());
    if (!existing.ok()) return Failure(existing.status().message());
    if (!existing->has_value()) {
      return UsageError("no stored conversation '" + opts.session + "': start one without --session");
    }
    first = adapter.Send("");  // shows where the conversation stands
  } else if (isatty(STDIN_FILENO)) {
    first = adapter.SendCommand("mailguide", "help");
  }
  if (!first.ok()) return Failure(first.status().message());
  adapter.Print(*first, std::cout);
  return adapter.Run(std::cin, std::cout, std::cerr);
}

}  // namespace

void AddChatCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto opts = std::make_shared<ChatOptions>();
  CLI::App* sub = app.add_subcommand("chat", "talk to mailguide in the terminal (one message per line; works from a pipe)");
  sub->add_option("--section", opts->section, "start with this guide section")
      ->check(CLI::IsMember({"webmail", "receiving", "sending"}));
  sub->add_option("--panel", opts->panel, "the panel you use")->check(CLI::IsMember({"rcp", "mac"}));
  sub->add_option("--session", opts->session, "resume a stored conversation by its id")
      ->check([](const std::string& id) {
        if (id.empty() || id.size() > 64) return std::string("a session id has 1 to 64 characters");
        for (char c : id) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
            return std::string("a session id has only letters, digits, '-' and '_'");
          }
        }
        return std::string();
      });
  sub->callback([&global, &run, opts] { run = [&global, opts] { return RunChat(global, *opts); }; });
}

}  // namespace bot::cli
