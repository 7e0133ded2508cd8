// The outbound client-credentials token: URL per tenant, form body, caching and renewal.
#include <catch2/catch.hpp>

#include "adapters/teams/teams_token.h"
#include "support/teams_recording_http_client.h"

using bot::Status;
using bot::teams::TokenCache;
using bot::teams::TokenOptions;

TEST_CASE("the token URL is single-tenant when a tenant id is set", "[teams]") {
  TokenOptions o;
  o.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  CHECK(bot::teams::ResolveTokenUrl(o) ==
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token");
  o.tenant_id.clear();
  CHECK(bot::teams::ResolveTokenUrl(o) == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token");
  o.token_url = "https://127.0.0.1:9999/token";
  CHECK(bot::teams::ResolveTokenUrl(o) == "https://127.0.0.1:9999/token");
}

TEST_CASE("the token is fetched with client credentials and cached until shortly before expiry", "[teams]") {
  bot::testing::TeamsRecordingHttpClient http;
  const std::string url = "https://login.test/tenant-1/oauth2/v2.0/token";
  http.OnJson(url, 200, R"({"token_type":"Bearer","expires_in":3600,"access_token":"tok-1"})");
  http.OnJson(url, 200, R"({"token_type":"Bearer","expires_in":"3600","access_token":"tok-2"})");
  int64_t now = 1000;
  TokenOptions o;
  o.token_url = "https://login.test/{tenant}/oauth2/v2.0/token";
  o.tenant_id = "tenant-1";
  o.app_id = "app-1";
  o.app_password = "p@ss word&=";
  TokenCache cache(http, o, [&now] { return now; });

  CHECK(*cache.Get() == "tok-1");
  auto calls = http.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "POST");
  CHECK(calls[0].Header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(calls[0].body ==
        "grant_type=client_credentials&client_id=app-1&client_secret=p%40ss%20word%26%3D"
        "&scope=https%3A%2F%2Fapi.botframework.com%2F.default");

  now += 3000;  // 10 minutes left: still cached
  CHECK(*cache.Get() == "tok-1");
  CHECK(http.calls().size() == 1);
  now += 350;  // under 5 minutes left: renewed
  CHECK(*cache.Get() == "tok-2");
  CHECK(http.calls().size() == 2);
  cache.Invalidate();
  CHECK(cache.Get().ok());
  CHECK(http.calls().size() == 3);
}

TEST_CASE("token endpoint refusals are Unauthenticated and never echo the secret", "[teams]") {
  bot::testing::TeamsRecordingHttpClient http;
  const std::string url = "https://login.test/botframework.com/oauth2/v2.0/token";
  http.OnJson(url, 400, R"({"error":"unauthorized_client","error_description":"AADSTS700016: not found in the directory 'botframework.com'"})");
  TokenOptions o;
  o.token_url = "https://login.test/{tenant}/oauth2/v2.0/token";
  o.app_id = "app-1";
  o.app_password = "s3cret-value";
  TokenCache cache(http, o, [] { return int64_t{1000}; });
  auto t = cache.Get();
  CHECK(t.status().code() == Status::Code::kUnauthenticated);
  CHECK(t.status().message().find("unauthorized_client") != std::string::npos);
  CHECK(t.status().message().find("s3cret") == std::string::npos);
  http.FailNext(url);
  CHECK(cache.Get().status().code() == Status::Code::kUnavailable);
}
