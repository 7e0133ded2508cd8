// Bot Framework JWTs and JWKS documents. The first byte picks the mode:
//   0: the input is an Authorization header value (Bearer token, header, full validation);
//   1: the input is a JWKS document;
//   2: the input is a claims set, signed with the fuzzer's own key, so that the claim rules
//      (iss, aud, exp/nbf, serviceurl, endorsements) see arbitrary JSON behind a valid signature;
//   3: the input is a JWT header, signed likewise.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/teams/teams_codec.h"
#include "adapters/teams/teams_jwt.h"
#include "fuzz_input.h"

namespace {

constexpr int64_t kNow = 1700000000;

std::string Param(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(pkey, name, &bn);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return bot::teams::Base64UrlEncode(bytes);
}

struct World {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);  // the JWKS parser refuses shorter moduli
  bot::teams::JwkSet keys;
  bot::teams::JwtExpectations expect;
  World() {
    nlohmann::json jwk = {{"kty", "RSA"}, {"kid", "fuzz-key"}, {"n", Param(pkey, OSSL_PKEY_PARAM_RSA_N)},
                          {"e", Param(pkey, OSSL_PKEY_PARAM_RSA_E)}, {"endorsements", nlohmann::json::array({"msteams"})}};
    auto parsed = bot::teams::JwkSet::Parse(nlohmann::json{{"keys", nlohmann::json::array({jwk})}}.dump());
    if (!parsed.ok()) {
      fprintf(stderr, "fuzz_jwt: %s\n", parsed.status().ToString().c_str());
      std::abort();
    }
    keys = std::move(parsed).value();
    expect.audience = "00000000-0000-0000-0000-000000000001";
    expect.service_url = "https://smba.trafficmanager.net/amer/";
    expect.channel_id = "msteams";
  }
};

World& TheWorld() {
  static World* world = new World();
  return *world;
}

void Validate(const std::string& token) {
  World& w = TheWorld();
  (void)bot::teams::ParseJwtHeader(token);
  auto verified = bot::teams::VerifyBotFrameworkJwt(token, w.keys, w.expect, kNow);
  if (verified.ok()) (void)bot::teams::CheckActivityBinding(*verified, w.expect.service_url, w.expect.channel_id);
  (void)bot::teams::ValidateBotFrameworkJwt(token, w.keys, w.expect, kNow);
}

// header.payload.signature with a real RS256 signature over arbitrary segment bytes (which
// need not be JSON).
std::string SignRaw(const std::string& header_json, const std::string& claims_json) {
  const std::string input =
      bot::teams::Base64UrlEncode(header_json) + "." + bot::teams::Base64UrlEncode(claims_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, TheWorld().pkey) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, in, input.size()) == 1) {
    sig.resize(len);
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  return input + "." + bot::teams::Base64UrlEncode(sig);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = bot::fuzz::AsView(data + 1, size - 1);
  const std::string header = R"({"alg":"RS256","typ":"JWT","kid":"fuzz-key"})";
  switch (data[0] % 4) {
    case 0: {
      auto token = bot::teams::BearerToken(rest);
      if (token.ok()) Validate(*token);
      Validate(std::string(rest));
      break;
    }
    case 1: {
      auto set = bot::teams::JwkSet::Parse(rest);
      if (set.ok()) (void)set->Find("fuzz-key");
      break;
    }
    case 2:
      Validate(SignRaw(header, std::string(rest)));
      break;
    case 3:
      Validate(SignRaw(std::string(rest), R"({"iss":"https://api.botframework.com","aud":"00000000-0000-0000-0000-000000000001","exp":1700000600,"nbf":1699999900,"serviceurl":"https://smba.trafficmanager.net/amer/"})"));
      break;
  }
  return 0;
}
