// The core's own message model: what an adapter hands the engine (Message) and what the
// engine hands back (Reply). No platform field ever appears here; each adapter translates
// its payloads to and from these value types and renders a Reply its own way.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bot {

// Where a conversation lives and who is speaking. Two cases in one shared channel are
// two threads, hence two keys.
struct ConversationRef {
  std::string platform;      // "slack", "teams", "console", "web"
  std::string workspace;     // Slack team id, Teams tenant id; may be empty
  std::string channel;       // channel, chat or console session
  std::string thread;        // thread ts / reply chain id; empty outside threads
  std::string user;          // who sent this turn
  std::string reply_url;     // Teams serviceUrl or Slack response_url; not part of the key

  // "platform:workspace:channel[:thread]" — the session key.
  std::string Key() const;
  // "platform:workspace:user" — the key of per-user preferences such as the panel.
  std::string UserKey() const;
};

// One inbound turn.
struct Message {
  ConversationRef ref;
  std::string event_id;    // platform delivery id, for dropping repeats; may be empty
  std::string command;     // slash command without '/', e.g. "smtp-code", "mailguide"; usually empty
  std::string text;        // what the person typed (mentions already stripped)
  std::string choice;      // value of a clicked button; empty for typed text
  std::string step_token;  // Reply::step_token of the message whose button was clicked
  // Only the sender sees the replies: a direct message, a slash command's private answer,
  // the web chat. Credentials (email tokens) are only ever given in such a conversation.
  bool private_conversation = false;
};

struct Fact {
  std::string label;
  std::string value;
};

struct Choice {
  enum class Style { kDefault, kPrimary, kDanger };
  std::string label;   // what the button says
  std::string value;   // what Message::choice carries back when it is clicked
  Style style = Style::kDefault;
};

// One platform-neutral reply. Text fields are plain text: renderers escape and style them.
struct Reply {
  std::string title;
  std::string progress;                 // e.g. "Step 2 of 5"
  std::vector<std::string> paragraphs;
  std::vector<std::string> checklist;   // bullet items
  std::vector<Fact> facts;
  std::string preformatted;             // a block meant to be copied whole (escalation summary)
  std::vector<Choice> choices;
  std::string footer;                   // small print: hints on typing answers, versions
  std::string step_token;               // names the question the choices answer; "" if none
  bool ephemeral = false;               // only the addressed user should see it
  bool replaces_previous = false;       // answers a click: update the clicked message in place
  bool confidential = false;            // holds a credential: never offered for sharing, never kept

  // Everything above as plain text, for fallbacks, logs of length and the console.
  std::string PlainText() const;
};

void to_json(nlohmann::json& j, const Choice& c);
void to_json(nlohmann::json& j, const Reply& r);

}  // namespace bot
