#include "adapters/slack/slack_signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <string>

namespace bot::slack {

namespace {

// HMAC() fetches SHA-256 and derives the keyed pads on every call: about a third of the cost
// of signing a Slack-sized body. Each thread keeps one context keyed with the last secret it
// used and signs with a copy of it.
class KeyedHmac {
 public:
  ~KeyedHmac() { EVP_MAC_CTX_free(keyed_); }

  // A fresh context keyed with `secret`, or nullptr when OpenSSL cannot provide one (the
  // caller then falls back to one-shot HMAC()).
  EVP_MAC_CTX* Copy(std::string_view secret) {
    if (!keyed_ || secret != secret_) {
      EVP_MAC_CTX_free(keyed_);
      keyed_ = nullptr;
      secret_.clear();
      static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      if (!hmac) return nullptr;
      EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmac);
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
                             OSSL_PARAM_construct_end()};
      if (!ctx || EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return nullptr;
      }
      keyed_ = ctx;
      secret_.assign(secret);
    }
    return EVP_MAC_CTX_dup(keyed_);
  }

 private:
  std::string secret_;
  EVP_MAC_CTX* keyed_ = nullptr;
};

bool Update(EVP_MAC_CTX* ctx, std::string_view part) {
  return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
}

}  // namespace

std::string ComputeSlackSignature(std::string_view signing_secret, std::string_view timestamp,
                                  std::string_view raw_body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  thread_local KeyedHmac keyed;
  EVP_MAC_CTX* ctx = keyed.Copy(signing_secret);
  const bool done = ctx && Update(ctx, "v0:") && Update(ctx, timestamp) && Update(ctx, ":") && Update(ctx, raw_body) &&
                    EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) == 1;
  EVP_MAC_CTX_free(ctx);
  if (!done) {
    std::string base = "v0:";
    base.append(timestamp);
    base += ':';
    base.append(raw_body);
    unsigned int len = 0;
    HMAC(EVP_sha256(), signing_secret.data(), static_cast<int>(signing_secret.size()),
         reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac, &len);
    mac_len = len;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "v0=";
  out.reserve(3 + 2 * mac_len);
  for (size_t i = 0; i < mac_len; ++i) {
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
