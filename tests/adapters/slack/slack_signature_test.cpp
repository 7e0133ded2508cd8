// VerifySlackSignature against reference/slack.md's test vectors and each rule it enforces.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "adapters/slack/slack_signature.h"
#include "support/paths.h"

namespace {

using bot::Status;
using bot::slack::ComputeSlackSignature;
using bot::slack::VerifySlackSignature;

constexpr const char* kSecret = "3f1d9c0e7a5b4e21a8c6d0f2b9e47a15";
constexpr const char* kVectorSignature = "v0=bd0616326d5e49702e2e64132e2d4687400ae0bab8d46fd4e8ff20b7021d9d6a";

std::string Fixture(const std::string& name) {
  std::ifstream in(bot::testing::FixturesDir() + "/slack/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("accepts the slash-command test vector from the Slack reference", "[slack]") {
  const std::string body = Fixture("slash_vector.form");
  REQUIRE(body.size() == 325);
  CHECK(ComputeSlackSignature(kSecret, "1700000000", body) == kVectorSignature);
  Status s = VerifySlackSignature(kSecret, "1700000000", kVectorSignature, body, 1700000000);
  CHECK(s.ok());
  SECTION("and at both edges of the five-minute window") {
    CHECK(VerifySlackSignature(kSecret, "1700000000", kVectorSignature, body, 1700000300).ok());
    CHECK(VerifySlackSignature(kSecret, "1700000000", kVectorSignature, body, 1699999700).ok());
  }
}

TEST_CASE("signs correctly when secrets change between calls on one thread", "[slack]") {
  // Each thread keeps a context keyed with the last secret: switching secrets must rekey it.
  const std::string body = Fixture("slash_vector.form");
  const std::string other = ComputeSlackSignature("another-secret", "1700000000", body);
  CHECK(other != kVectorSignature);
  CHECK(ComputeSlackSignature(kSecret, "1700000000", body) == kVectorSignature);
  CHECK(ComputeSlackSignature("another-secret", "1700000000", body) == other);
  CHECK(ComputeSlackSignature(kSecret, "1700000000", body) == kVectorSignature);
  CHECK(ComputeSlackSignature("", "1700000000", body) != kVectorSignature);  // an empty key is still a key
}

TEST_CASE("accepts the url_verification test vector", "[slack]") {
  const std::string body = Fixture("url_verification.json");
  REQUIRE(body.size() == 67);
  CHECK(VerifySlackSignature(kSecret, "1700000000",
                             "v0=19e8e4b9e0a8b3ef8f6b7589e88906005926d9825027ceada8761d7b7da7cc88", body, 1700000000)
            .ok());
}

TEST_CASE("rejects each negative case of the Slack reference, naming the rule", "[slack]") {
  const std::string body = Fixture("slash_vector.form");
  auto reason = [](const Status& s) {
    CHECK(s.code() == Status::Code::kUnauthenticated);
    return s.message();
  };
  SECTION("a body re-encoded with %20 instead of +") {
    std::string reencoded = body;
    reencoded.replace(reencoded.find("api+prod"), 8, "api%20prod");
    CHECK(ComputeSlackSignature(kSecret, "1700000000", reencoded) ==
          "v0=13f7b059cc77bbda2c02ab054482d77cf70196bc7d5a86461716c9fbfa28b808");
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", kVectorSignature, reencoded, 1700000000)) ==
          "signature mismatch");
  }
  SECTION("a timestamp changed by one second") {
    CHECK(ComputeSlackSignature(kSecret, "1700000001", body) ==
          "v0=7338cc825946e9cdac60b89a201127edeea713d7313113c6b65bd2b95d4f1019");
    CHECK(reason(VerifySlackSignature(kSecret, "1700000001", kVectorSignature, body, 1700000000)) ==
          "signature mismatch");
  }
  SECTION("a stale request, one second past the window") {
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", kVectorSignature, body, 1700000301))
              .find("5-minute window") != std::string::npos);
  }
  SECTION("a request stamped in the future beyond the window") {
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", kVectorSignature, body, 1699999699))
              .find("5-minute window") != std::string::npos);
  }
  SECTION("an unknown signature version") {
    std::string v1 = kVectorSignature;
    v1[1] = '1';
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", v1, body, 1700000000)).find("version") !=
          std::string::npos);
  }
  SECTION("upper-case hex") {
    std::string upper = "v0=";
    for (char c : std::string(kVectorSignature).substr(3)) upper += static_cast<char>(std::toupper(c));
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", upper, body, 1700000000)) == "signature mismatch");
  }
  SECTION("a truncated signature") {
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", std::string(kVectorSignature).substr(0, 40), body,
                                      1700000000)) == "signature mismatch");
  }
  SECTION("a wrong secret") {
    CHECK(!VerifySlackSignature("another-secret", "1700000000", kVectorSignature, body, 1700000000).ok());
  }
  SECTION("an empty secret") {
    CHECK(reason(VerifySlackSignature("", "1700000000", kVectorSignature, body, 1700000000)).find("secret") !=
          std::string::npos);
  }
  SECTION("missing headers") {
    CHECK(reason(VerifySlackSignature(kSecret, "", kVectorSignature, body, 1700000000)).find("Timestamp") !=
          std::string::npos);
    CHECK(reason(VerifySlackSignature(kSecret, "1700000000", "", body, 1700000000)).find("Signature") !=
          std::string::npos);
  }
  SECTION("a timestamp that is not an integer") {
    for (const char* ts : {"1700000000.5", "abc", "-", " 1700000000", "99999999999999999999999"}) {
      CHECK(!VerifySlackSignature(kSecret, ts, kVectorSignature, body, 1700000000).ok());
    }
  }
}

TEST_CASE("never puts the secret or the expected signature in its messages", "[slack]") {
  const std::string body = Fixture("slash_vector.form");
  Status s = VerifySlackSignature(kSecret, "1700000000", "v0=00", body, 1700000000);
  CHECK(s.message().find(kSecret) == std::string::npos);
  CHECK(s.message().find("bd0616") == std::string::npos);
}
