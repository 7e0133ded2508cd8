#include "adapters/teams/teams_hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "adapters/teams/teams_codec.h"

namespace bot::teams {
namespace {

Result<std::string> Mac(std::string_view security_token, std::string_view body) {
  auto key = Base64Decode(security_token);
  if (!key.ok()) return Status::InvalidArgument("webhook security token is not base64");
  if (key->empty()) return Status::InvalidArgument("webhook security token is empty");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac,
           &mac_len) == nullptr) {
    return Status::Internal("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

}  // namespace

Result<std::string> ComputeWebhookAuthorization(std::string_view security_token,
                                                std::string_view body) {
  auto mac = Mac(security_token, body);
  if (!mac.ok()) return mac.status();
  return "HMAC " + Base64Encode(*mac);
}

Status VerifyWebhookHmac(std::string_view security_token, std::string_view authorization,
                         std::string_view raw_body) {
  if (authorization.empty()) return Status::Unauthenticated("missing Authorization header");
  constexpr std::string_view kScheme = "HMAC ";
  if (authorization.substr(0, kScheme.size()) != kScheme) {
    return Status::Unauthenticated("Authorization scheme is not HMAC");
  }
  if (raw_body.empty()) return Status::Unauthenticated("empty body cannot be authenticated");
  auto given = Base64Decode(authorization.substr(kScheme.size()));
  if (!given.ok()) return Status::Unauthenticated("HMAC signature is not base64");
  // Teams sends canonical base64; another spelling of the same bytes (non-zero padding bits)
  // is not a signature Teams made.
  if (Base64Encode(*given) != authorization.substr(kScheme.size())) {
    return Status::Unauthenticated("HMAC signature is not canonical base64");
  }
  auto mac = Mac(security_token, raw_body);
  if (!mac.ok()) {
    return Status::Internal("MAILGUIDE_TEAMS_WEBHOOK_SECRET is not a base64 security token");
  }
  // Lengths are public (always 32 for SHA-256); only the bytes need a constant-time compare.
  if (given->size() != mac->size() ||
      CRYPTO_memcmp(given->data(), mac->data(), mac->size()) != 0) {
    return Status::Unauthenticated("HMAC signature does not match the body");
  }
  return Status::Ok();
}

}  // namespace bot::teams
