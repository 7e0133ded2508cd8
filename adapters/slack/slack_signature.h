// Slack request signing (v0): a pure check of the X-Slack-Signature header over the raw
// body, with the clock passed in so tests can pin "now". Mirrors bolt-js verify-request.ts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bot/status.h"

namespace bot::slack {

// Slack's replay window: requests stamped further than this from "now" are refused.
inline constexpr int64_t kSignatureWindowSeconds = 300;

// "v0=" + lowercase hex HMAC-SHA256(secret, "v0:" + timestamp + ":" + body). The secret is
// used as its ASCII bytes, never hex-decoded. For tests and tools that sign requests.
std::string ComputeSlackSignature(std::string_view signing_secret, std::string_view timestamp,
                                  std::string_view raw_body);

// Ok when `signature_header` is Slack's signature of `raw_body` at `timestamp_header` and the
// timestamp is within kSignatureWindowSeconds of `now` (either direction). Otherwise
// Unauthenticated with a message naming the rule that failed (never the secret or the
// expected signature). The comparison is constant-time. Thread-safe.
Status VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp_header,
                            std::string_view signature_header, std::string_view raw_body,
                            int64_t now);

}  // namespace bot::slack
