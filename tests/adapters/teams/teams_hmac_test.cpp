// Outgoing-webhook HMAC: the test vector of reference/teams.md §10 and each refusal.
#include <openssl/sha.h>

#include <vector>

#include <catch2/catch.hpp>

#include "adapters/teams/teams_codec.h"
#include "adapters/teams/teams_hmac.h"

using bot::Status;
using bot::teams::ComputeWebhookAuthorization;
using bot::teams::VerifyWebhookHmac;

namespace {

const std::string kToken = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
const std::string kBody =
    R"({"type":"message","id":"1700000000001","channelId":"msteams","from":{"id":"29:user-1","name":"Ada"},"text":"<at>SupportBot</at> smtp-code 42"})";

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("the reference HMAC test vector verifies", "[teams]") {
  REQUIRE(kBody.size() == 142);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(kBody.data()), kBody.size(), digest);
  REQUIRE(Hex(digest, sizeof digest) == "d647a9a93dec907a3f2d67945c1804b1e80faa10195314caa1be498c26a14a5a");

  auto key = bot::teams::Base64Decode(kToken);
  REQUIRE(key.ok());
  REQUIRE(Hex(reinterpret_cast<const unsigned char*>(key->data()), key->size()) ==
          "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f");

  auto auth = ComputeWebhookAuthorization(kToken, kBody);
  REQUIRE(auth.ok());
  CHECK(*auth == "HMAC bENYVqEcGQs7/76dYlPf3VtmVkkf70bbHMOMYsU4/yc=");
  CHECK(VerifyWebhookHmac(kToken, "HMAC bENYVqEcGQs7/76dYlPf3VtmVkkf70bbHMOMYsU4/yc=", kBody).ok());
}

TEST_CASE("HMAC refuses what the reference lists as must-not-verify", "[teams]") {
  SECTION("the body re-serialised with spaces") {
    std::string reserialised =
        R"({"type": "message", "id": "1700000000001", "channelId": "msteams", "from": {"id": "29:user-1", "name": "Ada"}, "text": "<at>SupportBot</at> smtp-code 42"})";
    CHECK(*ComputeWebhookAuthorization(kToken, reserialised) == "HMAC 9IH/zS41pfhJowlvAikHKzzDx+PglRTTpeWvzufiH9w=");
    Status s = VerifyWebhookHmac(kToken, "HMAC bENYVqEcGQs7/76dYlPf3VtmVkkf70bbHMOMYsU4/yc=", reserialised);
    CHECK(s.code() == Status::Code::kUnauthenticated);
  }
  SECTION("a signature made with the token's ASCII instead of its decoded bytes") {
    Status s = VerifyWebhookHmac(kToken, "HMAC p6hkLMVOgEyx1nfj2PZYA/GPD1Gdwlznq5VbC2M5chQ=", kBody);
    CHECK(s.code() == Status::Code::kUnauthenticated);
    CHECK(s.message() == "HMAC signature does not match the body");
  }
}

TEST_CASE("HMAC verification names the rule that failed", "[teams]") {
  const std::string good = "HMAC bENYVqEcGQs7/76dYlPf3VtmVkkf70bbHMOMYsU4/yc=";
  CHECK(VerifyWebhookHmac(kToken, "", kBody).message() == "missing Authorization header");
  CHECK(VerifyWebhookHmac(kToken, "Bearer abc", kBody).message() == "Authorization scheme is not HMAC");
  CHECK(VerifyWebhookHmac(kToken, "hmac bENYVqEcGQs7/76dYlPf3VtmVkkf70bbHMOMYsU4/yc=", kBody).message() ==
        "Authorization scheme is not HMAC");
  CHECK(VerifyWebhookHmac(kToken, good, "").message() == "empty body cannot be authenticated");
  CHECK(VerifyWebhookHmac(kToken, "HMAC not*base64", kBody).message() == "HMAC signature is not base64");
  CHECK(VerifyWebhookHmac(kToken, "HMAC AAAA", kBody).code() == Status::Code::kUnauthenticated);
  CHECK(VerifyWebhookHmac(kToken, good, kBody + " ").code() == Status::Code::kUnauthenticated);
  Status bad_secret = VerifyWebhookHmac("not base64!", good, kBody);
  CHECK(bad_secret.code() == Status::Code::kInternal);
  CHECK(bad_secret.message().find("not base64!") == std::string::npos);
}

TEST_CASE("base64 helpers round-trip and reject malformed input", "[teams]") {
  using bot::teams::Base64Decode;
  using bot::teams::Base64Encode;
  using bot::teams::Base64UrlDecode;
  using bot::teams::Base64UrlEncode;
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\xfe", 3)}) {
    CHECK(*Base64Decode(Base64Encode(s)) == s);
    CHECK(*Base64UrlDecode(Base64UrlEncode(s)) == s);
  }
  CHECK(Base64Encode("foob") == "Zm9vYg==");
  CHECK(!Base64Decode("Zm9vYg=").ok());
  CHECK(!Base64Decode("Zm9v Yg==").ok());
  CHECK(!Base64Decode("Zm=vYg==").ok());
  CHECK(!Base64UrlDecode("a").ok());
  CHECK(*bot::teams::PercentDecode(bot::teams::PercentEncode("19:a@thread.tacv2;messageid=1")) ==
        "19:a@thread.tacv2;messageid=1");
  CHECK(bot::teams::PercentEncode("a:b;c@d") == "a%3Ab%3Bc%40d");
  CHECK(!bot::teams::PercentDecode("%4").ok());
}
