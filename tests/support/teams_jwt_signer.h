// Test-only Bot Framework token maker: an RSA key generated with OpenSSL, its JWKS entry,
// and RS256-signed JWTs with whatever claims a test wants (right or deliberately wrong).
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/teams/teams_codec.h"

namespace bot::testing {

class TeamsTestKey {
 public:
  explicit TeamsTestKey(std::string kid, int bits = 2048) : kid_(std::move(kid)) {
    pkey_ = EVP_RSA_gen(static_cast<unsigned>(bits));
    if (pkey_ == nullptr) throw std::runtime_error("EVP_RSA_gen failed");
  }
  ~TeamsTestKey() { EVP_PKEY_free(pkey_); }
  TeamsTestKey(const TeamsTestKey&) = delete;
  TeamsTestKey& operator=(const TeamsTestKey&) = delete;

  const std::string& kid() const { return kid_; }

  // This key as a JWKS entry, endorsed for `endorsements`.
  nlohmann::json Jwk(const std::vector<std::string>& endorsements = {"msteams"}) const {
    return {{"kty", "RSA"}, {"use", "sig"}, {"kid", kid_}, {"n", Param(OSSL_PKEY_PARAM_RSA_N)},
            {"e", Param(OSSL_PKEY_PARAM_RSA_E)}, {"endorsements", endorsements}};
  }

  // header.payload.signature; `header` defaults to {"alg":"RS256","kid":kid,"typ":"JWT"}.
  std::string Sign(const nlohmann::json& claims, nlohmann::json header = nullptr) const {
    if (header.is_null()) header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
    std::string signing_input = bot::teams::Base64UrlEncode(header.dump()) + "." +
                                bot::teams::Base64UrlEncode(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey_) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) == 1) {
      sig.resize(len);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size());
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return signing_input + "." + bot::teams::Base64UrlEncode(sig);
  }

 private:
  std::string Param(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(pkey_, name, &bn);
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return bot::teams::Base64UrlEncode(bytes);
  }

  std::string kid_;
  EVP_PKEY* pkey_ = nullptr;
};

// Claims a valid connector → bot token carries.
inline nlohmann::json TeamsValidClaims(const std::string& app_id, const std::string& service_url,
                                       int64_t now) {
  return {{"iss", "https://api.botframework.com"}, {"aud", app_id}, {"serviceurl", service_url},
          {"nbf", now - 10}, {"exp", now + 3600}, {"iat", now - 10}};
}

}  // namespace bot::testing
