// Pasted bounce messages and SMTP codes: the bounce parser, the knowledge base's
// explanation of free text (what /smtp-code answers) and triage of free text (what starts a
// case). Any bytes, never a crash, bounded time.
#include <cstdlib>
#include <string>

#include "bot/content.h"
#include "bot/smtp/bounce_parser.h"
#include "fuzz_input.h"

namespace {
const bot::Content* content = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("MAILGUIDE_FLOWS");
  auto loaded = bot::LoadContent(dir ? dir : MAILGUIDE_SOURCE_DIR "/flows");
  if (!loaded.ok()) {
    fprintf(stderr, "fuzz_bounce: %s\n", loaded.status().ToString().c_str());
    std::abort();
  }
  content = new bot::Content(std::move(loaded).value());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = bot::fuzz::AsView(data, size);
  bot::smtp::ParsedBounce parsed = bot::smtp::ParseBounce(text);
  if (parsed.primary >= static_cast<int>(parsed.replies.size())) bot::fuzz::Fail();
  (void)bot::smtp::DecodeQuotedPrintable(text);
  (void)bot::smtp::DecodeBase64(text);
  (void)bot::smtp::StartsWithCode(text);
  bot::smtp::Explanation e = content->smtp.ExplainText(text);
  (void)bot::smtp::ToReply(e);
  (void)content->triage.Classify(text);
  return 0;
}
