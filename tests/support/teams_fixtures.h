// Reads tests/fixtures/teams/<name> as raw bytes (signatures are computed over exactly these).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "support/paths.h"

namespace bot::testing {

inline std::string ReadTeamsFixture(const std::string& name) {
  std::string path = FixturesDir() + "/teams/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  // Fixture files end with a newline an editor adds; requests in them do not.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace bot::testing
