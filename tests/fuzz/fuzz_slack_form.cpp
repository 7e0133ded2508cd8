// Slack's application/x-www-form-urlencoded decoder (slash commands, interactivity and
// ssl_check bodies): never crashes, and what it decodes survives a round trip.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "adapters/slack/slack_json.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = bot::fuzz::AsView(data, size);
  auto form = bot::slack::ParseForm(body);
  (void)bot::slack::IsSslCheck(body);
  if (!form.ok()) return 0;
  std::vector<std::pair<std::string, std::string>> fields(form->begin(), form->end());
  auto again = bot::slack::ParseForm(bot::slack::EncodeForm(fields));
  if (!again.ok() || *again != *form) bot::fuzz::Fail();
  return 0;
}
