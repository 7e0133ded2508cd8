// Bot Framework JWT validation (pure, key set and clock passed in), the JWKS parser, and the
// key source's caching and refetch rules over a recording HttpClient.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_jwt.h"
#include "adapters/teams/teams_keys.h"
#include "support/teams_jwt_signer.h"
#include "support/teams_recording_http_client.h"

using bot::Status;
using bot::teams::JwkSet;
using bot::teams::JwtExpectations;
using bot::teams::ValidateBotFrameworkJwt;
using bot::testing::TeamsTestKey;
using bot::testing::TeamsValidClaims;
using nlohmann::json;

namespace {

const std::string kAppId = "c9e8c047-2a74-40a2-b28a-b162d5f5327c";
const std::string kServiceUrl = "https://smba.trafficmanager.net/amer/";
constexpr int64_t kNow = 1700000000;

TeamsTestKey& Key() {
  static TeamsTestKey key("key-1");
  return key;
}
TeamsTestKey& OtherKey() {
  static TeamsTestKey key("key-2");
  return key;
}

JwkSet Keys(std::vector<std::string> endorsements = {"msteams", "skype"}) {
  json doc = {{"keys", json::array({Key().Jwk(endorsements)})}};
  auto set = JwkSet::Parse(doc.dump());
  REQUIRE(set.ok());
  return *set;
}

JwtExpectations Expect() {
  JwtExpectations e;
  e.audience = kAppId;
  e.service_url = kServiceUrl;
  e.channel_id = "msteams";
  return e;
}

Status Check(const std::string& token, const JwkSet& keys = Keys(), int64_t now = kNow) {
  return ValidateBotFrameworkJwt(token, keys, Expect(), now);
}

}  // namespace

TEST_CASE("a connector token signed by a published key validates", "[teams]") {
  std::string token = Key().Sign(TeamsValidClaims(kAppId, kServiceUrl, kNow));
  Status s = Check(token);
  INFO(s.ToString());
  CHECK(s.ok());
  SECTION("an audience list that contains the app id is accepted") {
    json claims = TeamsValidClaims(kAppId, kServiceUrl, kNow);
    claims["aud"] = json::array({"other", kAppId});
    CHECK(Check(Key().Sign(claims)).ok());
  }
}

TEST_CASE("JWT validation refuses each broken rule and says which", "[teams]") {
  json claims = TeamsValidClaims(kAppId, kServiceUrl, kNow);
  auto refused = [](const std::string& token, const std::string& why,
                    Status::Code code = Status::Code::kUnauthenticated) {
    Status s = Check(token);
    INFO(s.ToString());
    CHECK(s.code() == code);
    CHECK(s.message().find(why) != std::string::npos);
  };
  SECTION("signed by a key that is not in the set") {
    refused(OtherKey().Sign(claims), "unknown key id");
  }
  SECTION("right kid, wrong key") {
    refused(OtherKey().Sign(claims, {{"alg", "RS256"}, {"kid", "key-1"}}), "signature does not verify");
  }
  SECTION("payload altered after signing") {
    std::string token = Key().Sign(claims);
    size_t dot1 = token.find('.'), dot2 = token.find('.', dot1 + 1);
    json forged = claims;
    forged["aud"] = "attacker";
    token = token.substr(0, dot1 + 1) + bot::teams::Base64UrlEncode(forged.dump()) + token.substr(dot2);
    refused(token, "signature does not verify");
  }
  SECTION("alg none and HS256") {
    refused(Key().Sign(claims, {{"alg", "none"}, {"kid", "key-1"}}), "not RS256");
    refused(Key().Sign(claims, {{"alg", "HS256"}, {"kid", "key-1"}}), "not RS256");
    refused(Key().Sign(claims, {{"alg", "RS384"}, {"kid", "key-1"}}), "not RS256");
  }
  SECTION("no kid") { refused(Key().Sign(claims, {{"alg", "RS256"}}), "no kid"); }
  SECTION("wrong issuer") {
    claims["iss"] = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/";
    refused(Key().Sign(claims), "issuer");
  }
  SECTION("wrong audience") {
    claims["aud"] = "00000000-0000-0000-0000-000000000000";
    refused(Key().Sign(claims), "audience");
  }
  SECTION("missing audience") {
    claims.erase("aud");
    refused(Key().Sign(claims), "audience");
  }
  SECTION("expired beyond the five-minute skew") {
    claims["exp"] = kNow - 301;
    refused(Key().Sign(claims), "expired");
  }
  SECTION("no exp") {
    claims.erase("exp");
    refused(Key().Sign(claims), "no exp");
  }
  SECTION("not valid yet beyond the skew") {
    claims["nbf"] = kNow + 301;
    refused(Key().Sign(claims), "nbf");
  }
  SECTION("serviceurl claim differs from the activity's serviceUrl") {
    claims["serviceurl"] = "https://attacker.example/";
    refused(Key().Sign(claims), "serviceurl");
  }
  SECTION("serviceurl claim missing") {
    claims.erase("serviceurl");
    refused(Key().Sign(claims), "serviceurl");
  }
  SECTION("not three segments, garbage") {
    refused("abc", "three segments");
    refused("a.b.c.d", "three segments");
    refused("!!.??.**", "not base64url");
  }
}

TEST_CASE("JWT exp and nbf allow five minutes of clock skew", "[teams]") {
  json claims = TeamsValidClaims(kAppId, kServiceUrl, kNow);
  claims["exp"] = kNow - 299;
  claims["nbf"] = kNow + 299;
  CHECK(Check(Key().Sign(claims)).ok());
}

TEST_CASE("a key not endorsed for msteams is refused with 403", "[teams]") {
  std::string token = Key().Sign(TeamsValidClaims(kAppId, kServiceUrl, kNow));
  Status s = Check(token, Keys({"skype", "webchat"}));
  CHECK(s.code() == Status::Code::kPermissionDenied);
  CHECK(Check(token, Keys({})).code() == Status::Code::kPermissionDenied);
  JwtExpectations e = Expect();
  e.channel_id = "emulator";
  CHECK(ValidateBotFrameworkJwt(token, Keys({"msteams", "emulator"}), e, kNow).code() ==
        Status::Code::kPermissionDenied);
}

TEST_CASE("Bearer header parsing", "[teams]") {
  using bot::teams::BearerToken;
  CHECK(*BearerToken("Bearer abc.def.ghi") == "abc.def.ghi");
  CHECK(!BearerToken("").ok());
  CHECK(!BearerToken("bearer abc").ok());
  CHECK(!BearerToken("Bearer ").ok());
  CHECK(!BearerToken("Bearer a b").ok());
  CHECK(!BearerToken("HMAC abc").ok());
}

TEST_CASE("JWKS parsing keeps usable RSA keys only", "[teams]") {
  json doc = {{"keys", json::array({Key().Jwk(), {{"kty", "EC"}, {"kid", "ec"}},
                                    {{"kty", "RSA"}, {"kid", "broken"}, {"n", "AQAB"}, {"e", "AQAB"}}})}};
  auto set = JwkSet::Parse(doc.dump());
  REQUIRE(set.ok());
  CHECK(set->size() == 1);
  CHECK(set->Find("key-1") != nullptr);
  CHECK(set->Find("key-1")->endorsements == std::vector<std::string>{"msteams"});
  CHECK(set->Find("ec") == nullptr);
  CHECK(!JwkSet::Parse("{}").ok());
  CHECK(!JwkSet::Parse("not json").ok());
  CHECK(!JwkSet::Parse(R"({"keys":[]})").ok());
}

TEST_CASE("the key source caches, refetches on an unknown kid at most once per interval", "[teams]") {
  bot::testing::TeamsRecordingHttpClient http;
  const std::string meta_url = "https://login.test/v1/.well-known/openidconfiguration";
  const std::string jwks_url = "https://login.test/v1/.well-known/keys";
  http.OnJson(meta_url, 200, json{{"issuer", "https://api.botframework.com"}, {"jwks_uri", jwks_url}}.dump());
  http.OnJson(jwks_url, 200, json{{"keys", json::array({Key().Jwk()})}}.dump());
  int64_t now = kNow;
  bot::teams::KeySourceOptions options;
  options.openid_url = meta_url;
  options.min_refetch_seconds = 60;
  bot::teams::KeySource source(http, options, [&now] { return now; });

  auto keys = source.KeysFor("key-1");
  REQUIRE(keys.ok());
  CHECK((*keys)->Find("key-1") != nullptr);
  CHECK(http.calls().size() == 2);

  // Cached: a known kid costs nothing.
  REQUIRE(source.KeysFor("key-1").ok());
  CHECK(http.calls().size() == 2);

  // Rotation: the next document has key-2 too, and an unknown kid fetches it after the interval.
  http.OnJson(jwks_url, 200, json{{"keys", json::array({Key().Jwk(), OtherKey().Jwk()})}}.dump());
  now += 10;
  auto early = source.KeysFor("key-2");
  REQUIRE(early.ok());
  CHECK((*early)->Find("key-2") == nullptr);  // too soon after the last fetch
  CHECK(http.calls().size() == 2);
  now += 60;
  auto later = source.KeysFor("key-2");
  REQUIRE(later.ok());
  CHECK((*later)->Find("key-2") != nullptr);
  CHECK(http.calls().size() == 4);

  // A failed daily refresh keeps the old keys.
  http.OnJson(meta_url, 503, "{}");
  now += 25 * 3600;
  auto stale = source.KeysFor("key-1");
  REQUIRE(stale.ok());
  CHECK((*stale)->Find("key-1") != nullptr);
}

TEST_CASE("the key source is Unavailable when it never got keys, and refuses http jwks_uri", "[teams]") {
  bot::testing::TeamsRecordingHttpClient http;
  bot::teams::KeySourceOptions options;
  options.openid_url = "https://login.test/meta";
  http.OnJson("https://login.test/meta", 200, R"({"jwks_uri":"http://login.test/keys"})");
  bot::teams::KeySource source(http, options, [] { return kNow; });
  auto keys = source.KeysFor("key-1");
  CHECK(keys.status().code() == Status::Code::kUnavailable);
  CHECK(http.CallsTo("http://").empty());
}
