// Request signatures: Slack's v0 HMAC (timestamp and signature headers) and the Teams
// outgoing webhook's "HMAC <base64>" header, plus the codecs they rest on. The input is
// split on NUL bytes into header values and body. A forged signature must never verify.
#include <string>

#include "adapters/slack/slack_signature.h"
#include "adapters/teams/teams_codec.h"
#include "adapters/teams/teams_hmac.h"
#include "fuzz_input.h"

namespace {
constexpr const char* kSlackSecret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr const char* kTeamsToken = "c2VjcmV0LXNlY3VyaXR5LXRva2VuLWZvci1mdXp6aW5nIQ==";
constexpr int64_t kNow = 1531420618;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = bot::fuzz::SplitN(bot::fuzz::AsView(data, size), '\0', 3);
  const std::string_view a = parts[0], b = parts[1], body = parts[2];

  // Slack: a = X-Slack-Request-Timestamp, b = X-Slack-Signature.
  bot::Status slack = bot::slack::VerifySlackSignature(kSlackSecret, a, b, body, kNow);
  FUZZ_CHECK(!slack.ok() || b == bot::slack::ComputeSlackSignature(kSlackSecret, a, body));
  FUZZ_CHECK(slack.message().find(kSlackSecret) == std::string::npos);
  // A correct signature for the fuzzed timestamp and body verifies iff the timestamp is recent.
  (void)bot::slack::VerifySlackSignature(kSlackSecret, a, bot::slack::ComputeSlackSignature(kSlackSecret, a, body),
                                         body, kNow);

  // Teams: a = Authorization.
  bot::Status teams = bot::teams::VerifyWebhookHmac(kTeamsToken, a, body);
  if (teams.ok()) {
    auto expected = bot::teams::ComputeWebhookAuthorization(kTeamsToken, body);
    FUZZ_CHECK(expected.ok() && *expected == a);
  }
  FUZZ_CHECK(teams.message().find(kTeamsToken) == std::string::npos);
  // A fuzzed security token (configuration is not hostile, but must not crash either).
  (void)bot::teams::VerifyWebhookHmac(b, a, body);

  // Codecs: decoding what was encoded gives the bytes back.
  auto d64 = bot::teams::Base64Decode(a);
  FUZZ_CHECK(!d64.ok() || bot::teams::Base64Decode(bot::teams::Base64Encode(*d64)).value() == *d64);
  auto durl = bot::teams::Base64UrlDecode(a);
  FUZZ_CHECK(!durl.ok() || bot::teams::Base64UrlDecode(bot::teams::Base64UrlEncode(*durl)).value() == *durl);
  auto pct = bot::teams::PercentDecode(body);
  FUZZ_CHECK(!pct.ok() || bot::teams::PercentDecode(bot::teams::PercentEncode(*pct)).value() == *pct);
  return 0;
}
