// Bot Framework JWT validation for /api/messages, as a pure function: the key set and
// "now" are passed in (teams_keys.h fetches and caches the keys). RS256 only; every
// failure is a Status naming the rule that failed, never the token itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bot/status.h"

namespace bot::teams {

inline constexpr const char* kBotFrameworkIssuer = "https://api.botframework.com";
inline constexpr int64_t kJwtClockSkewSeconds = 300;

class RsaPublicKey;  // an OpenSSL EVP_PKEY, kept out of this header

// One signing key from a JWKS document.
struct Jwk {
  std::string kid;
  std::vector<std::string> endorsements;  // channels the key may sign for ("msteams", ...)
  std::shared_ptr<const RsaPublicKey> key;
};

// The keys of one JWKS document. Immutable once parsed; safe to share between threads.
class JwkSet {
 public:
  // Parses {"keys":[{"kty":"RSA","kid":..,"n":..,"e":..,"endorsements":[..]}, ...]}.
  // Keys of other types or with unusable numbers are skipped; InvalidArgument when the
  // document is not JSON of that shape or holds no usable RSA key.
  static Result<JwkSet> Parse(std::string_view json);

  const Jwk* Find(const std::string& kid) const;  // nullptr when absent
  size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

// The RSA public key with modulus `n` and exponent `e` (big-endian bytes, as a JWK carries
// them after base64url-decoding). InvalidArgument when OpenSSL rejects them.
Result<std::shared_ptr<const RsaPublicKey>> MakeRsaPublicKey(std::string_view n,
                                                              std::string_view e);

// What the token must say about this very request.
struct JwtExpectations {
  std::string issuer = kBotFrameworkIssuer;
  std::string audience;     // the Microsoft App ID
  std::string service_url;  // the activity's serviceUrl; the token's `serviceurl` claim must equal it
  std::string channel_id;   // the activity's channelId; must be "msteams" and endorsed by the key
  int64_t clock_skew_seconds = kJwtClockSkewSeconds;
};

// The parts of a JWT header a caller needs before validating (to pick the key).
struct JwtHeader {
  std::string alg;
  std::string kid;
};

// The token from an `Authorization: Bearer <token>` value; Unauthenticated otherwise.
Result<std::string> BearerToken(std::string_view authorization);

// Decodes the header segment only; Unauthenticated when it is not a JWT header.
Result<JwtHeader> ParseJwtHeader(std::string_view token);

// What a token whose signature and token-only claims verified says about the request.
struct VerifiedJwt {
  std::string service_url;                // the `serviceurl` claim
  std::vector<std::string> endorsements;  // of the key that signed it
};

// The token-only half of ValidateBotFrameworkJwt: structure, RS256, kid, signature, iss,
// aud, exp/nbf (expect.service_url and expect.channel_id are not looked at). Lets a caller
// verify the token before it reads the request body.
Result<VerifiedJwt> VerifyBotFrameworkJwt(std::string_view token, const JwkSet& keys,
                                          const JwtExpectations& expect, int64_t now);

// The request half: the `serviceurl` claim equals the activity's serviceUrl, and the key is
// endorsed for the activity's channel, which must be msteams.
Status CheckActivityBinding(const VerifiedJwt& jwt, const std::string& service_url,
                            const std::string& channel_id);

// Ok when `token` is an RS256 JWT signed by a key of `keys` and every rule holds: iss,
// aud, exp/nbf within the skew (exp is required), the `serviceurl` claim, the endorsement.
// Unauthenticated for a bad token; PermissionDenied when the key is not endorsed for the
// channel (a valid token for something else).
Status ValidateBotFrameworkJwt(std::string_view token, const JwkSet& keys,
                               const JwtExpectations& expect, int64_t now);

}  // namespace bot::teams
