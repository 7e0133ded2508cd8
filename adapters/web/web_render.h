// The web chat's one HTML renderer: turns the core's Reply into an HTML fragment the chat page
// inserts as is. Every piece of text is escaped here (& < > " '), so the page never builds
// markup from the engine's text itself.
#pragma once

#include <string>
#include <string_view>

#include "bot/message.h"

namespace bot::web {

// `text` with & < > " ' replaced by character references; safe in element content and in
// quoted attribute values.
std::string EscapeHtml(std::string_view text);

// One reply as an <article class="reply">: title, progress, paragraphs, checklist, facts, the
// preformatted block with a copy button, choices as real <button>s carrying the choice value
// and step token (data-choice, data-step-token), and the footer. Pure; thread-safe.
std::string RenderReplyHtml(const Reply& reply);

}  // namespace bot::web
