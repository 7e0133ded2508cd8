// The flow validator on broken flow files: every error names the file, the JSON path and
// the reason, and the shipped flows pass.
#include <filesystem>
#include <fstream>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bot/flow.h"
#include "bot/flow_check.h"
#include "support/paths.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json Step(const std::string& id, json extra = json::object()) {
  json s = {{"id", id},
            {"check", "Check " + id + "."},
            {"question", "Is " + id + " fine?"},
            {"on_fail", {{"cause", "It is not."}, {"fix", "Fix it."}}}};
  s.update(extra);
  return s;
}

// A vector, not a json: braces around one json copy it under clang instead of making an array.
json Flow(const std::vector<json>& steps) {
  return {{"id", "webmail"},
          {"version", "1"},
          {"title", "The user cannot access webmail"},
          {"symptom", "Webmail"},
          {"description", "When webmail fails."},
          {"panels", {{"rcp", {{"steps", steps}}}}}};
}

// Errors of one flow file, as "path: reason" lines.
std::vector<std::string> Errors(const json& flow) {
  std::vector<std::string> out;
  for (const auto& e : bot::CheckFlowJson("webmail.json", flow)) {
    CHECK(e.file == "webmail.json");
    out.push_back(e.path + ": " + e.reason);
  }
  return out;
}

bool Has(const std::vector<std::string>& errors, const std::string& path, const std::string& words) {
  for (const auto& e : errors) {
    if (e.rfind(path + ": ", 0) == 0 && e.find(words) != std::string::npos) return true;
  }
  return false;
}

// A copy of the shipped flows in a temporary directory, to break on purpose.
struct FlowDir {
  fs::path dir = fs::temp_directory_path() / ("mailguide-check-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(reinterpret_cast<uintptr_t>(this)));
  FlowDir() {
    fs::remove_all(dir);
    fs::copy(bot::testing::FlowsDir(), dir, fs::copy_options::recursive);
  }
  ~FlowDir() { fs::remove_all(dir); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }
};

}  // namespace

TEST_CASE("accepts a well-formed flow", "[flows]") {
  CHECK(Errors(Flow({Step("a"), Step("b"), Step("c")})).empty());
}

TEST_CASE("reports an unknown step reference with its path", "[flows]") {
  auto errors = Errors(Flow({Step("a", {{"next", "nowhere"}}), Step("b")}));
  CHECK(Has(errors, "$.panels.rcp.steps[0].next", "unknown step 'nowhere'"));
  auto in_fail = Errors(Flow({Step("a", {{"on_fail", {{"cause", "x"}, {"fix", "y"}, {"next", "gone"}}}}), Step("b")}));
  CHECK(Has(in_fail, "$.panels.rcp.steps[0].on_fail.next", "unknown step 'gone'"));
}

TEST_CASE("reports an unreachable step", "[flows]") {
  auto errors = Errors(Flow({Step("a", {{"next", "c"}}), Step("b"), Step("c")}));
  CHECK(Has(errors, "$.panels.rcp.steps[1]", "unreachable"));
}

TEST_CASE("reports a cycle without an exit and the steps with no way to the end", "[flows]") {
  json fail_loops = {{"cause", "x"}, {"fix", "y"}, {"next", "a"}};
  auto errors = Errors(Flow({Step("a", {{"on_fail", {{"cause", "x"}, {"fix", "y"}, {"next", "b"}}}}),
                             Step("b", {{"next", "c"}, {"on_fail", fail_loops}}),
                             Step("c", {{"next", "b"}, {"on_fail", {{"cause", "x"}, {"fix", "y"}, {"next", "b"}}}})}));
  CHECK(Has(errors, "$.panels.rcp.steps[1]", "cycle without an exit"));
  // A loop with a way out is fine.
  auto ok = Errors(Flow({Step("a"), Step("b", {{"on_fail", fail_loops}})}));
  CHECK(ok.empty());
}

TEST_CASE("reports duplicate step ids and reserved ids", "[flows]") {
  auto errors = Errors(Flow({Step("a"), Step("a"), Step("escalate")}));
  CHECK(Has(errors, "$.panels.rcp.steps[1].id", "duplicate step id 'a'"));
  CHECK(Has(errors, "$.panels.rcp.steps[2].id", "reserved"));
}

TEST_CASE("reports empty text, missing fields, wrong types and unknown fields", "[flows]") {
  json flow = Flow({Step("a", {{"question", "   "}})});
  flow["panels"]["rcp"]["steps"][0].erase("on_fail");
  flow["panels"]["rcp"]["steps"][0]["qestion"] = "typo";
  flow["title"] = 7;
  flow.erase("symptom");
  auto errors = Errors(flow);
  CHECK(Has(errors, "$.panels.rcp.steps[0].question", "empty text"));
  CHECK(Has(errors, "$.panels.rcp.steps[0].on_fail", "missing required field 'on_fail'"));
  CHECK(Has(errors, "$.panels.rcp.steps[0].qestion", "unknown field"));
  CHECK(Has(errors, "$.title", "expected a string"));
  CHECK(Has(errors, "$.symptom", "missing required field"));
  auto bad_fail_on = Errors(Flow({Step("a", {{"fail_on", "maybe"}})}));
  CHECK(Has(bad_fail_on, "$.panels.rcp.steps[0].fail_on", "must be"));
}

TEST_CASE("checks a directory: bad JSON, duplicate flow ids and sections without a flow", "[flows]") {
  FlowDir d;
  SECTION("the shipped flows pass") { CHECK(bot::CheckFlowDir(d.dir.string()).empty()); }
  SECTION("invalid JSON names the file") {
    d.Write("sending.json", "{\"id\": \"sending\",");
    auto errors = bot::CheckFlowDir(d.dir.string());
    REQUIRE_FALSE(errors.empty());
    CHECK(errors.front().file == (d.dir / "sending.json").string());
    CHECK(errors.front().reason.find("not valid JSON") != std::string::npos);
    // ...and the section it should have provided is missing.
    bool missing = false;
    for (const auto& e : errors) missing |= e.reason.find("section 'sending' has no flow file") != std::string::npos;
    CHECK(missing);
  }
  SECTION("a number too large for a double is invalid JSON, not an exception (fuzz finding)") {
    d.Write("sending.json", "{\"id\": \"sending\", \"version\": 4444474e04442}");
    auto errors = bot::CheckFlowDir(d.dir.string());
    REQUIRE_FALSE(errors.empty());
    CHECK(errors.front().file == (d.dir / "sending.json").string());
    CHECK(errors.front().reason.find("not valid JSON") != std::string::npos);
  }
  SECTION("two files with one id") {
    fs::copy_file(d.dir / "webmail.json", d.dir / "webmail-copy.json");
    auto errors = bot::CheckFlowDir(d.dir.string());
    bool dup = false;
    for (const auto& e : errors) dup |= e.path == "$.id" && e.reason.find("duplicate flow id 'webmail'") != std::string::npos;
    CHECK(dup);
  }
  SECTION("loading refuses what the check refuses") {
    d.Write("receiving.json", "[]");
    auto loaded = bot::LoadFlows(d.dir.string());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().message().find("receiving.json") != std::string::npos);
  }
}
