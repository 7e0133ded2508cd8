// Verification of Teams outgoing-webhook requests: `Authorization: HMAC <base64>` must be
// HMAC-SHA256 over the raw body bytes, keyed with the base64-DECODED security token.
// Pure: no I/O, no clock (the scheme has no timestamp; replays are dropped by event id).
#pragma once

#include <string>
#include <string_view>

#include "bot/status.h"

namespace bot::teams {

// "HMAC " + base64(HMAC-SHA256(base64_decode(security_token), body)). InvalidArgument when
// the token is not base64. Used by tests and by anyone signing a request on purpose.
Result<std::string> ComputeWebhookAuthorization(std::string_view security_token,
                                                std::string_view body);

// Ok when `authorization` (the whole header value) is the signature of `raw_body` under
// `security_token`. Unauthenticated, saying which rule failed (missing header, wrong
// scheme, empty body, mismatch), otherwise; Internal when the configured token is not
// base64. Compares in constant time. Never includes the token or signatures in messages.
Status VerifyWebhookHmac(std::string_view security_token, std::string_view authorization,
                         std::string_view raw_body);

}  // namespace bot::teams
