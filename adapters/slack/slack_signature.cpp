#include "adapters/slack/slack_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <string>

namespace bot::slack {

std::string ComputeSlackSignature(std::string_view signing_secret, std::string_view timestamp,
                                  std::string_view raw_body) {
  std::string base = "v0:";
  base.append(timestamp);
  base += ':';
  base.append(raw_body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), signing_secret.data(), static_cast<int>(signing_secret.size()),
       reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac, &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "v0=";
  for (unsigned int i = 0; i < mac_len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

Status VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp_header,
                            std::string_view signature_header, std::string_view raw_body,
                            int64_t now) {
  // An empty secret would make every forger's job trivial; the server never mounts Slack
  // without one, but the check belongs here too.
  if (signing_secret.empty()) return Status::Unauthenticated("no signing secret configured");
  if (timestamp_header.empty()) return Status::Unauthenticated("missing X-Slack-Request-Timestamp");
  if (signature_header.empty()) return Status::Unauthenticated("missing X-Slack-Signature");

  int64_t stamp = 0;
  const char* first = timestamp_header.data();
  const char* last = first + timestamp_header.size();
  auto [end, ec] = std::from_chars(first, last, stamp);
  if (ec != std::errc() || end != last) {
    return Status::Unauthenticated("X-Slack-Request-Timestamp is not an integer");
  }
  // Written so that no subtraction can overflow on hostile input.
  if (stamp < now - kSignatureWindowSeconds || stamp > now + kSignatureWindowSeconds) {
    return Status::Unauthenticated("X-Slack-Request-Timestamp is outside the 5-minute window");
  }

  const size_t eq = signature_header.find('=');
  if (eq == std::string_view::npos || signature_header.substr(0, eq) != "v0") {
    return Status::Unauthenticated("unknown signature version in X-Slack-Signature");
  }
  const std::string expected = ComputeSlackSignature(signing_secret, timestamp_header, raw_body);
  if (signature_header.size() != expected.size() ||
      CRYPTO_memcmp(signature_header.data(), expected.data(), expected.size()) != 0) {
    return Status::Unauthenticated("signature mismatch");
  }
  return Status::Ok();
}

}  // namespace bot::slack
