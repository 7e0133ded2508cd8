// Pure Slack wire mapping: request bodies (Events API JSON, slash-command forms,
// interactivity payloads) to the core's Message, and Reply to Block Kit. No I/O, no state;
// the SlackAdapter class adds verification, the Web API and delivery on top.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/message.h"
#include "bot/status.h"

namespace bot::slack {

// Block Kit limits we render within (reference/slack.md §6.2), counted in characters.
inline constexpr size_t kMaxBlocks = 50;
inline constexpr size_t kMaxHeaderChars = 150;
inline constexpr size_t kMaxSectionChars = 3000;
inline constexpr size_t kMaxFields = 10;
inline constexpr size_t kMaxFieldChars = 2000;
inline constexpr size_t kMaxContextElements = 10;
inline constexpr size_t kMaxActionElements = 25;
inline constexpr size_t kMaxButtonTextChars = 75;
inline constexpr size_t kMaxButtonValueChars = 2000;
inline constexpr size_t kMaxActionIdChars = 255;
inline constexpr size_t kMaxFallbackChars = 3000;
// Slack reports msg_blocks_too_long from ~12k characters of block text, below every
// per-block limit; messages are split before that.
inline constexpr size_t kMaxMessageTextChars = 11000;

// Button action ids. Choices are numbered so ids are unique within a message and stable
// across renders; the share button is the one click we handle without the engine.
inline constexpr const char* kChoiceActionPrefix = "mg_choice_";
inline constexpr const char* kShareActionId = "mg_share";

// Who the bot is, as auth.test reports it: used to drop our own messages and to strip
// mentions of the bot from text. Fields may be empty when auth.test has not answered.
struct BotIdentity {
  std::string user_id;  // U… of the bot user
  std::string bot_id;   // B…
  std::string team_id;
};

// ---- text helpers ----

// Number of Unicode characters in UTF-8 `s` (Slack's limits count characters, not bytes).
size_t CharCount(std::string_view s);
// `s` cut to at most `max_chars` characters on a character boundary, ending in "…" when cut.
std::string TruncateChars(std::string_view s, size_t max_chars);
// Escapes the three characters mrkdwn gives meaning to: & < > (in that order).
std::string EscapeMrkdwn(std::string_view s);
// Event text as a person typed it: strips mentions of the bot, turns Slack's <…> tokens into
// their labels and decodes &amp; &lt; &gt;. `bot_user_id` empty: strips a leading mention.
std::string DecodeEventText(std::string_view text, std::string_view bot_user_id);

// ---- forms ----

// application/x-www-form-urlencoded: '+' is a space, %XX a byte. InvalidArgument on a broken
// escape. A repeated field keeps its first value.
Result<std::map<std::string, std::string>> ParseForm(std::string_view body);
// The reverse, encoding spaces as '+' like Slack does (for tests and tools).
std::string EncodeForm(const std::vector<std::pair<std::string, std::string>>& fields);

// ---- decoding ----

enum class PayloadKind {
  kUrlVerification,  // answer `challenge`
  kSslCheck,         // answer an empty 200
  kEvent,            // app_mention or a direct message: `message` is the turn
  kSlashCommand,     // `message.command` is "smtp-code"/"mailguide"; `command` the raw name
  kBlockActions,     // a click on one of our buttons: `message` is the turn unless share_id
  kIgnored,          // well-formed but nothing to do: `ignore_reason` says why
};

// Where a click happened, for updating the clicked message.
struct ClickContext {
  std::string channel;
  std::string message_ts;
  bool ephemeral = false;
  std::string label;             // the clicked button's text
  nlohmann::json message_blocks; // the clicked message's blocks when Slack sent them, else null
  bool share = false;            // the 'Share in channel' button ...
  std::string share_id;          // ... and the answer it shares
};

struct Decoded {
  PayloadKind kind = PayloadKind::kIgnored;
  std::string challenge;
  std::string command;  // slash commands: as typed, e.g. "/smtp-code"
  Message message;
  ClickContext click;
  std::string ignore_reason;
};

// Decodes a request body that has already been verified. `content_type` may carry
// parameters. InvalidArgument (one line, no body echoed) for malformed input.
Result<Decoded> DecodePayload(std::string_view content_type, std::string_view body,
                              const BotIdentity& self);

// True when `body` is the form of Slack's ssl_check probe, which carries no signature
// worth trusting and asks for nothing but a 200.
bool IsSslCheck(std::string_view body);

// ---- rendering ----

// The JSON a choice button carries: the conversation (workspace and thread; the channel
// comes with the click), the step token and the choice value.
std::string EncodeButtonValue(const std::string& workspace, const std::string& thread,
                              const std::string& step_token, const std::string& choice);

// One Block Kit message: {"text": fallback, "blocks": [...]}, ready for chat.postMessage,
// chat.update, a response_url or an inline slash-command answer.
using SlackMessage = nlohmann::json;

// A Reply as one or more messages, each within every Block Kit limit (a long reply is
// split; its buttons go on the last message). `ref` is the conversation, written into
// button values so a click finds it again.
std::vector<SlackMessage> RenderReply(const Reply& reply, const ConversationRef& ref);

// Several replies folded into exactly one message (for answers that can carry only one,
// such as a slash command's HTTP response): blocks are concatenated and the tail is cut,
// with a note, when the limits would be exceeded. `extra` blocks (e.g. a share button)
// are always kept at the end.
SlackMessage RenderSingleMessage(const std::vector<Reply>& replies, const ConversationRef& ref,
                                 const nlohmann::json& extra = nlohmann::json::array());

}  // namespace bot::slack
