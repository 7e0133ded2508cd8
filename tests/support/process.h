// Runs the built mailguide binary as a separate process, the way a person or a script
// would: arguments, environment, standard input; returns the exit code and both outputs.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/paths.h"
#include "support/test_log.h"

namespace bot::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A fresh scratch directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mailguide-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `env` entries are "NAME=value". The process runs in `cwd` (a scratch dir by default).
inline ProcessResult RunMailguide(const std::vector<std::string>& args, const std::string& input = "",
                                  const std::vector<std::string>& env = {}, const std::string& cwd = "") {
  TempDir scratch;
  std::string in = scratch.path() + "/in", out = scratch.path() + "/out", err = scratch.path() + "/err";
  std::ofstream(in, std::ios::binary) << input;
  std::string cmd = "cd " + ShellQuote(cwd.empty() ? scratch.path() : cwd) + " && env";
  for (const auto& e : env) cmd += " " + ShellQuote(e);
  cmd += " " + ShellQuote(MailguideBinary());
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " < " + ShellQuote(in) + " > " + ShellQuote(out) + " 2> " + ShellQuote(err);
  int status = std::system(cmd.c_str());
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  AppendTestLog("mailguide-cli", r.err);
  return r;
}

}  // namespace bot::testing
