#include "adapters/teams/teams_jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_codec.h"

namespace bot::teams {

class RsaPublicKey {
 public:
  explicit RsaPublicKey(EVP_PKEY* pkey) : pkey_(pkey) {}
  ~RsaPublicKey() { EVP_PKEY_free(pkey_); }
  RsaPublicKey(const RsaPublicKey&) = delete;
  RsaPublicKey& operator=(const RsaPublicKey&) = delete;
  EVP_PKEY* get() const { return pkey_; }

 private:
  EVP_PKEY* pkey_;
};

namespace {

using nlohmann::json;

bool VerifyRs256(const RsaPublicKey& key, std::string_view signed_part, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Result<json> DecodeSegment(std::string_view segment, const char* what) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes.ok()) return Status::Unauthenticated(std::string("JWT ") + what + " is not base64url");
  json j = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Unauthenticated(std::string("JWT ") + what + " is not a JSON object");
  return j;
}

// A numeric claim as whole seconds; nullopt when absent or not a number.
std::optional<int64_t> NumericClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return static_cast<int64_t>(it->get<double>());
}

bool AudienceMatches(const json& aud, const std::string& audience) {
  if (aud.is_string()) return aud.get<std::string>() == audience;
  if (aud.is_array()) {
    for (const auto& a : aud) {
      if (a.is_string() && a.get<std::string>() == audience) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<const RsaPublicKey>> MakeRsaPublicKey(std::string_view n,
                                                              std::string_view e) {
  if (n.empty() || e.empty()) return Status::InvalidArgument("RSA key: empty n or e");
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  EVP_PKEY* pkey = nullptr;
  bool ok = bn_n && bn_e && bld &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
            (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
            (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)) != nullptr &&
            EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (!ok || pkey == nullptr) {
    EVP_PKEY_free(pkey);
    return Status::InvalidArgument("RSA key: OpenSSL rejected n/e");
  }
  // Tiny moduli make signatures forgeable; Bot Framework keys are 2048-bit.
  if (EVP_PKEY_get_bits(pkey) < 2048) {
    EVP_PKEY_free(pkey);
    return Status::InvalidArgument("RSA key: modulus shorter than 2048 bits");
  }
  return std::shared_ptr<const RsaPublicKey>(std::make_shared<RsaPublicKey>(pkey));
}

Result<JwkSet> JwkSet::Parse(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Status::InvalidArgument("JWKS: not a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) return Status::InvalidArgument("JWKS: no \"keys\" array");
  JwkSet set;
  for (const auto& k : *keys) {
    if (!k.is_object()) continue;
    auto str = [&k](const char* name) {
      auto it = k.find(name);
      return (it != k.end() && it->is_string()) ? it->get<std::string>() : std::string();
    };
    if (str("kty") != "RSA" || str("kid").empty()) continue;
    std::string use = str("use");
    if (!use.empty() && use != "sig") continue;
    auto n = Base64UrlDecode(str("n"));
    auto e = Base64UrlDecode(str("e"));
    if (!n.ok() || !e.ok()) continue;
    auto key = MakeRsaPublicKey(*n, *e);
    if (!key.ok()) continue;
    Jwk jwk;
    jwk.kid = str("kid");
    jwk.key = *key;
    auto endorsements = k.find("endorsements");
    if (endorsements != k.end() && endorsements->is_array()) {
      for (const auto& en : *endorsements) {
        if (en.is_string()) jwk.endorsements.push_back(en.get<std::string>());
      }
    }
    set.keys_.push_back(std::move(jwk));
  }
  if (set.keys_.empty()) return Status::InvalidArgument("JWKS: no usable RSA signing key");
  return set;
}

const Jwk* JwkSet::Find(const std::string& kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

Result<std::string> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.empty()) return Status::Unauthenticated("missing Authorization header");
  if (authorization.size() <= kScheme.size() ||
      authorization.substr(0, kScheme.size()) != kScheme) {
    return Status::Unauthenticated("Authorization scheme is not Bearer");
  }
  std::string_view token = authorization.substr(kScheme.size());
  if (token.find(' ') != std::string_view::npos) {
    return Status::Unauthenticated("Authorization is not \"Bearer <token>\"");
  }
  return std::string(token);
}

Result<JwtHeader> ParseJwtHeader(std::string_view token) {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Status::Unauthenticated("JWT is not three segments");
  auto header = DecodeSegment(token.substr(0, dot), "header");
  if (!header.ok()) return header.status();
  JwtHeader h;
  auto alg = header->find("alg");
  auto kid = header->find("kid");
  if (alg != header->end() && alg->is_string()) h.alg = alg->get<std::string>();
  if (kid != header->end() && kid->is_string()) h.kid = kid->get<std::string>();
  return h;
}

Result<VerifiedJwt> VerifyBotFrameworkJwt(std::string_view token, const JwkSet& keys,
                                          const JwtExpectations& expect, int64_t now) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Status::Unauthenticated("JWT is not three segments");
  }
  auto header = ParseJwtHeader(token);
  if (!header.ok()) return header.status();
  // Only the algorithm the metadata advertises; this also shuts out "none" and HS256
  // tokens "signed" with the public key.
  if (header->alg != "RS256") return Status::Unauthenticated("JWT alg is not RS256");
  if (header->kid.empty()) return Status::Unauthenticated("JWT header has no kid");
  const Jwk* jwk = keys.Find(header->kid);
  if (jwk == nullptr) return Status::Unauthenticated("JWT signed by an unknown key id");

  auto sig = Base64UrlDecode(token.substr(dot2 + 1));
  if (!sig.ok() || sig->empty()) return Status::Unauthenticated("JWT signature is not base64url");
  if (!VerifyRs256(*jwk->key, token.substr(0, dot2), *sig)) {
    return Status::Unauthenticated("JWT signature does not verify");
  }

  auto claims = DecodeSegment(token.substr(dot1 + 1, dot2 - dot1 - 1), "payload");
  if (!claims.ok()) return claims.status();
  auto iss = claims->find("iss");
  if (iss == claims->end() || !iss->is_string() || iss->get<std::string>() != expect.issuer) {
    return Status::Unauthenticated("JWT issuer is not " + expect.issuer);
  }
  auto aud = claims->find("aud");
  if (expect.audience.empty() || aud == claims->end() || !AudienceMatches(*aud, expect.audience)) {
    return Status::Unauthenticated("JWT audience is not this bot's app id");
  }
  auto exp = NumericClaim(*claims, "exp");
  if (!exp) return Status::Unauthenticated("JWT has no exp");
  if (now > *exp + expect.clock_skew_seconds) return Status::Unauthenticated("JWT expired");
  if (auto nbf = NumericClaim(*claims, "nbf"); nbf && now < *nbf - expect.clock_skew_seconds) {
    return Status::Unauthenticated("JWT not valid yet (nbf)");
  }
  auto service_url = claims->find("serviceurl");
  if (service_url == claims->end() || !service_url->is_string()) {
    return Status::Unauthenticated("JWT has no serviceurl claim");
  }
  return VerifiedJwt{service_url->get<std::string>(), jwk->endorsements};
}

Status CheckActivityBinding(const VerifiedJwt& jwt, const std::string& service_url,
                            const std::string& channel_id) {
  // Without this check a valid token for one conversation could make us send our own
  // outbound token to whatever serviceUrl an attacker put in the body.
  if (jwt.service_url != service_url) {
    return Status::Unauthenticated("JWT serviceurl does not match the activity's serviceUrl");
  }
  if (channel_id != "msteams" ||
      std::find(jwt.endorsements.begin(), jwt.endorsements.end(), channel_id) == jwt.endorsements.end()) {
    return Status::PermissionDenied("JWT signing key is not endorsed for channel msteams");
  }
  return Status::Ok();
}

Status ValidateBotFrameworkJwt(std::string_view token, const JwkSet& keys,
                               const JwtExpectations& expect, int64_t now) {
  auto jwt = VerifyBotFrameworkJwt(token, keys, expect, now);
  if (!jwt.ok()) return jwt.status();
  return CheckActivityBinding(*jwt, expect.service_url, expect.channel_id);
}

}  // namespace bot::teams
