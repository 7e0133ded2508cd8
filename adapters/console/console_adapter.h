// The terminal front end of `mailguide chat`: one message per input line in, each reply as
// plain text out. A digit picks one of the last reply's numbered choices.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "bot/engine.h"
#include "bot/message.h"

namespace bot::console {

// Plain-text rendering of one reply; choices are numbered from 1.
std::string Render(const Reply& reply);

class ConsoleAdapter {
 public:
  ConsoleAdapter(Engine& engine, ConversationRef ref) : engine_(engine), ref_(std::move(ref)) {}

  // One turn: the line as the person typed it. Fails only when the store is unavailable.
  Result<TurnResult> Send(const std::string& line);
  // A turn with a command ("mailguide", "smtp-code") as a slash command would send it.
  Result<TurnResult> SendCommand(const std::string& command, const std::string& text);

  // Reads lines until end of input, printing every reply. Returns the process exit code:
  // 0 at end of input, 1 when the store fails.
  int Run(std::istream& in, std::ostream& out, std::ostream& err);

  // Prints the replies of a turn and remembers their choices for the next digit.
  void Print(const TurnResult& turn, std::ostream& out);

 private:
  Message ToMessage(const std::string& line) const;

  Engine& engine_;
  ConversationRef ref_;
  std::vector<Choice> last_choices_;
  std::string last_token_;
};

}  // namespace bot::console
