// Byte encodings the Teams adapter needs: base64 (HMAC keys and signatures), base64url
// (JWT segments, JWK numbers) and URL percent-encoding (connector paths, token forms).
// Pure functions over OpenSSL's codecs; nothing here allocates beyond the results.
#pragma once

#include <string>
#include <string_view>

#include "bot/status.h"

namespace bot::teams {

// Standard base64 with '=' padding.
std::string Base64Encode(std::string_view bytes);
// Standard base64; padding required, no whitespace inside. InvalidArgument otherwise.
Result<std::string> Base64Decode(std::string_view text);
// RFC 4648 §5 base64url, padding optional (JWTs omit it).
Result<std::string> Base64UrlDecode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);

// Percent-encodes everything but RFC 3986 unreserved characters, so ids holding ':', '@'
// or ';' are safe as one path segment or form value.
std::string PercentEncode(std::string_view text);
// Reverses PercentEncode; InvalidArgument on a broken escape.
Result<std::string> PercentDecode(std::string_view text);

}  // namespace bot::teams
