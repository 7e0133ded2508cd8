// The suite's log files: when CTest runs the tests it sets MAILGUIDE_TEST_LOG_DIR (see
// tests/CMakeLists.txt), and every fixture that captures a server's or a process's log lines
// also appends them here, so that the last test (tests/check_test_logs.sh) can grep every
// log the suite produced for the test secrets. Outside CTest this does nothing.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

namespace bot::testing {

// "" when unset.
inline std::string TestLogDir() {
  const char* dir = std::getenv("MAILGUIDE_TEST_LOG_DIR");
  return dir ? std::string(dir) : std::string();
}

// Appends `text` (a newline is added when missing) to DIR/<name>-<pid>.log.
inline void AppendTestLog(const std::string& name, const std::string& text) {
  static std::mutex mu;
  const std::string dir = TestLogDir();
  if (dir.empty() || text.empty()) return;
  std::lock_guard<std::mutex> lock(mu);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream out(dir + "/" + name + "-" + std::to_string(::getpid()) + ".log", std::ios::app | std::ios::binary);
  out << text;
  if (text.back() != '\n') out << '\n';
}

}  // namespace bot::testing
