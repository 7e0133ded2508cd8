// Where tests find the repository's own files and the read-only reference folder ../shared.
#pragma once

#include <cstdlib>
#include <string>

namespace bot::testing {

// The source tree's root (flows/, tests/fixtures/ ...).
inline std::string SourceDir() { return MAILGUIDE_SOURCE_DIR; }
inline std::string FlowsDir() { return SourceDir() + "/flows"; }
inline std::string FixturesDir() { return SourceDir() + "/tests/fixtures"; }
// ../shared beside the checkout, or $MAILGUIDE_SHARED_DIR. May not exist: tests that need it
// say in one line that they were skipped.
inline std::string SharedDir() {
  const char* env = std::getenv("MAILGUIDE_SHARED_DIR");
  return (env && *env) ? env : SourceDir() + "/../shared";
}
// The built mailguide executable, for tests that run it as a process.
inline std::string MailguideBinary() { return MAILGUIDE_BINARY; }

}  // namespace bot::testing
