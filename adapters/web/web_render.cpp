#include "adapters/web/web_render.h"

namespace bot::web {

namespace {

// Escaped text with line breaks kept: engine text is plain, but pasted bounces and summaries
// have several lines.
std::string Lines(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t nl = text.find('\n', start);
    out += EscapeHtml(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    out += "<br>";
    start = nl + 1;
  }
  return out;
}

const char* StyleClass(Choice::Style style) {
  switch (style) {
    case Choice::Style::kPrimary: return "choice primary";
    case Choice::Style::kDanger: return "choice danger";
    case Choice::Style::kDefault: break;
  }
  return "choice";
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderReplyHtml(const Reply& reply) {
  std::string out = "<article class=\"reply";
  if (!reply.choices.empty()) out += " asks";
  if (!reply.preformatted.empty()) out += " summary";
  out += "\">";
  if (!reply.title.empty() || !reply.progress.empty()) {
    out += "<header>";
    if (!reply.title.empty()) out += "<h2 tabindex=\"-1\">" + EscapeHtml(reply.title) + "</h2>";
    if (!reply.progress.empty()) out += "<p class=\"progress\">" + EscapeHtml(reply.progress) + "</p>";
    out += "</header>";
  }
  for (const auto& p : reply.paragraphs) out += "<p>" + Lines(p) + "</p>";
  if (!reply.checklist.empty()) {
    out += "<ul class=\"checklist\">";
    for (const auto& item : reply.checklist) out += "<li>" + Lines(item) + "</li>";
    out += "</ul>";
  }
  if (!reply.facts.empty()) {
    out += "<dl class=\"facts\">";
    for (const auto& f : reply.facts) {
      out += "<div><dt>" + EscapeHtml(f.label) + "</dt><dd>" + Lines(f.value) + "</dd></div>";
    }
    out += "</dl>";
  }
  if (!reply.preformatted.empty()) {
    out += "<div class=\"copyable\"><pre>" + EscapeHtml(reply.preformatted) +
           "</pre><button type=\"button\" class=\"copy\">Copy summary</button>"
           "<span class=\"copied\" role=\"status\"></span></div>";
  }
  if (!reply.choices.empty()) {
    out += "<div class=\"choices\" role=\"group\" aria-label=\"Answers\">";
    for (const auto& c : reply.choices) {
      out += "<button type=\"button\" class=\"" + std::string(StyleClass(c.style)) + "\" data-choice=\"" +
             EscapeHtml(c.value) + "\" data-step-token=\"" + EscapeHtml(reply.step_token) + "\">" +
             EscapeHtml(c.label) + "</button>";
    }
    out += "</div>";
  }
  if (!reply.footer.empty()) out += "<p class=\"footer\">" + Lines(reply.footer) + "</p>";
  out += "</article>";
  return out;
}

}  // namespace bot::web
