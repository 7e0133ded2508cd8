// Slack request bodies after verification: Events API JSON, slash-command forms and
// interactivity payloads. The first byte picks the Content-Type. Whatever decodes is echoed
// into a reply and rendered to Block Kit, which must serialise (valid UTF-8) and stay within
// Slack's limits.
#include <cstdio>
#include <string>

#include "adapters/slack/slack_json.h"
#include "fuzz_input.h"

namespace {

void Over(const char* what, size_t n) {
  fprintf(stderr, "fuzz_slack_payload: %s is %zu\n", what, n);
  bot::fuzz::Fail();
}

void CheckLimits(const nlohmann::json& message) {
  using namespace bot::slack;
  const auto& blocks = message.at("blocks");
  if (blocks.size() > kMaxBlocks) Over("blocks", blocks.size());
  if (size_t n = CharCount(message.at("text").get<std::string>()); n > kMaxFallbackChars) Over("fallback text", n);
  for (const auto& b : blocks) {
    const std::string type = b.value("type", "");
    if (type == "section" && b.contains("text")) {
      if (size_t n = CharCount(b["text"].value("text", "")); n > kMaxSectionChars) Over("section text", n);
    }
    if (type == "header") {
      if (size_t n = CharCount(b["text"].value("text", "")); n > kMaxHeaderChars) Over("header text", n);
    }
    if (type == "actions") {
      for (const auto& e : b.value("elements", nlohmann::json::array())) {
        if (size_t n = CharCount(e["text"].value("text", "")); n > kMaxButtonTextChars) Over("button text", n);
        if (size_t n = CharCount(e.value("value", "")); n > kMaxButtonValueChars) Over("button value", n);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kTypes[] = {"application/json", "application/x-www-form-urlencoded",
                                 "application/x-www-form-urlencoded; charset=utf-8", "text/plain"};
  const char* content_type = kTypes[data[0] % 4];
  const std::string_view body = bot::fuzz::AsView(data + 1, size - 1);
  bot::slack::BotIdentity self{"U0BOT", "B0BOT", "T0TEAM"};
  auto decoded = bot::slack::DecodePayload(content_type, body, self);
  (void)bot::slack::DecodeEventText(body, self.user_id);
  (void)bot::slack::DecodeEventText(body, "");
  if (!decoded.ok()) return 0;
  const bot::Message& m = decoded->message;
  bot::Reply reply;
  reply.title = m.text;
  reply.paragraphs = {m.text, m.choice, decoded->click.label, decoded->ignore_reason};
  reply.facts = {{m.command, m.text}};
  reply.preformatted = m.text;
  reply.choices = {{m.text, m.choice, bot::Choice::Style::kPrimary}};
  reply.step_token = m.step_token;
  for (const auto& msg : bot::slack::RenderReply(reply, m.ref)) {
    (void)msg.dump();  // throws (and so aborts) on invalid UTF-8
    CheckLimits(msg);
  }
  auto single = bot::slack::RenderSingleMessage({reply, reply}, m.ref);
  (void)single.dump();
  CheckLimits(single);
  return 0;
}
