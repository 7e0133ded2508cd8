// Teams activities → the core's Message (pure, no I/O): mention stripping, card clicks,
// install events, conversation keys. Also the reply address an adapter needs later,
// carried inside Message::event_id so a worker can answer without any adapter state.
#pragma once

#include <string>
#include <string_view>

#include "bot/adapter.h"
#include "bot/message.h"
#include "bot/status.h"

namespace bot::teams {

// Where the replies to one inbound activity go. Encoded into Message::event_id, which
// then also serves the engine as the de-duplication key (conversation + activity).
struct ReplyAddress {
  std::string conversation_id;  // exactly as received, including ";messageid=…"
  std::string activity_id;      // the activity to reply under; "" → append to the conversation
  std::string reply_to_id;      // card clicks: the bot message holding the clicked card
  std::string mention_name;     // the name people @mention (outgoing webhooks' hint text)
  std::string answered;         // card clicks: "<card title>\n<label clicked>", to retire the card
};

std::string EncodeEventId(const ReplyAddress& address);
// InvalidArgument when `event_id` was not made by EncodeEventId.
Result<ReplyAddress> DecodeEventId(std::string_view event_id);

enum class Endpoint {
  kWebhook,  // /teams/webhook: only @mention messages in a channel; answered inline
  kBot,      // /api/messages: messages, card clicks, install events; answered via the connector
};

// The two body fields the JWT check compares against before anything else is trusted.
struct ActivityRouting {
  std::string service_url;
  std::string channel_id;
};
// InvalidArgument when the body is not a JSON object.
Result<ActivityRouting> PeekRouting(std::string_view body);

// `text` with the recipient's own mention removed (the entity whose mentioned.id equals
// `recipient_id`; with no recipient id — outgoing webhooks send "null" — a mention at the
// very start; failing both, a leading `<at>recipient_name</at>`), other `<at>Name</at>` tags
// turned into "@Name", a few HTML entities decoded and whitespace (incl. U+00A0) trimmed.
// `entities` is the activity's entities array as JSON text. Also returns the stripped
// mention's name in `*mention_name` when non-null.
std::string StripBotMention(std::string_view text, std::string_view entities_json,
                            std::string_view recipient_id, std::string* mention_name = nullptr,
                            std::string_view recipient_name = "");

// The body as an Inbound: kMessage for a turn (typed text, a card click, or a help request
// for an install), kIgnore for everything else (bots' own messages, typing, reactions,
// clicks on cards that are not ours). InvalidArgument for a body that is not an activity.
Result<Inbound> DecodeActivity(std::string_view body, Endpoint endpoint);

}  // namespace bot::teams
