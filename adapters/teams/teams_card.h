// Reply → Adaptive Card (and the message activity that carries it). Pure. Cards use only
// 1.2-era elements and declare version 1.4, which Teams renders on desktop and mobile; a
// whole activity stays under the size every Teams path accepts.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/message.h"

namespace bot::teams {

inline constexpr const char* kCardVersion = "1.4";
inline constexpr const char* kAdaptiveCardType = "application/vnd.microsoft.card.adaptive";
// Bot messages may reach ~100 KB, but webhook-style posts fail above ~28 KB (teams.md §4.5):
// one limit for both endpoints.
inline constexpr size_t kMaxActivityBytes = 28 * 1024;
// Teams shows at most six actions on a card; more choices become a drop-down.
inline constexpr size_t kMaxCardActions = 6;

struct CardContext {
  // Bot Framework cards get Action.Submit buttons. Outgoing webhooks cannot receive clicks,
  // so their cards list the answers to type instead ("@mailguide yes").
  bool buttons = true;
  std::string mention_name = "mailguide";  // webhook hint: who to @mention
  std::string channel;                     // carried in each button's data, checked on click
  std::string thread;
};

// The card for one reply (the attachment's "content").
nlohmann::json RenderCard(const Reply& reply, const CardContext& context);

// A message activity carrying one card for `replies` (several replies are stacked in one
// card, as an inline webhook answer allows a single activity), with a plain-text fallback
// (the card's fallbackText and the activity's notification summary). Serialised, at most
// kMaxActivityBytes: long text is cut, with a note saying so. Never throws (invalid UTF-8
// is replaced).
std::string RenderMessageActivity(const std::vector<Reply>& replies, const CardContext& context,
                                  const nlohmann::json& extra_fields = nlohmann::json::object(),
                                  size_t max_bytes = kMaxActivityBytes);

// A small card standing in for a clicked one, so its buttons can't be pressed again:
// the question's title and "Answered: <label>". `answered` is ReplyAddress::answered.
nlohmann::json RenderAnsweredCard(const std::string& answered);

// Backslash-escapes what Teams' TextBlock markdown would otherwise interpret.
std::string EscapeMarkdown(const std::string& text);

// `text` cut to at most `max_bytes` bytes on a UTF-8 boundary, with "…" when cut.
std::string TruncateUtf8(const std::string& text, size_t max_bytes);

}  // namespace bot::teams
