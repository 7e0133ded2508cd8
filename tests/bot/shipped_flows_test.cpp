// The shipped flows are faithful to the guide: every numbered step of every section and
// panel appears, in the guide's order and wording. Reads the guide from ../shared/seed.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "bot/flow.h"
#include "support/paths.h"

namespace {

// section title -> panel ("rcp"/"mac") -> numbered steps, as written in the guide.
using GuideSteps = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

GuideSteps ParseGuide(const std::string& text, const std::vector<std::string>& titles) {
  GuideSteps out;
  std::istringstream in(text);
  std::string line, section, panel;
  static const std::regex kStep(R"(^\s+(\d+)\.\s+(.*\S)\s*$)");
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::find(titles.begin(), titles.end(), line) != titles.end()) {
      section = line;
      panel.clear();
    } else if (line == "Common SMTP error messages") {
      section.clear();
    } else if (line == "Diagnose in the RCP") {
      panel = "rcp";
    } else if (line == "Diagnose in the MAC") {
      panel = "mac";
    } else if (std::smatch m; !section.empty() && !panel.empty() && std::regex_match(line, m, kStep)) {
      out[section][panel].push_back(m[2]);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every guide step appears in order, in the guide's words, for every section and panel", "[flows]") {
  std::filesystem::path seed = bot::testing::SharedDir() + "/seed/000_5bd77ab47c6d88d9.txt";
  if (!std::filesystem::exists(seed)) {
    WARN("skipped: the guide is not at " << seed.string());
    return;
  }
  std::ifstream in(seed);
  std::stringstream text;
  text << in.rdbuf();
  auto flows = bot::LoadFlows(bot::testing::FlowsDir());
  REQUIRE(flows.ok());
  std::vector<std::string> titles;
  for (const auto& f : flows->flows) titles.push_back(f.title);
  GuideSteps guide = ParseGuide(text.str(), titles);
  REQUIRE(guide.size() == 3);
  for (const auto& f : flows->flows) {
    for (const char* panel : {"rcp", "mac"}) {
      const auto& expected = guide[f.title][panel];
      const auto& steps = f.FindPanel(panel)->steps;
      INFO(f.id << " / " << panel);
      REQUIRE(steps.size() == expected.size());
      for (size_t i = 0; i < steps.size(); ++i) CHECK(steps[i].check == expected[i]);
    }
  }
}

TEST_CASE("every step says what a failed check means and what to do", "[flows]") {
  auto flows = bot::LoadFlows(bot::testing::FlowsDir());
  REQUIRE(flows.ok());
  for (const auto& f : flows->flows) {
    for (const auto& [panel, p] : f.panels) {
      for (const auto& s : p.steps) {
        INFO(f.id << "/" << panel << "/" << s.id);
        CHECK(s.question.find('?') != std::string::npos);
        CHECK(s.on_fail.cause.size() > 20);
        CHECK(s.on_fail.fix.size() > 20);
      }
    }
  }
}
