// `mailguide serve` as a process: configuration errors exit 2 with every problem on one
// line; a started server answers /healthz over its self-signed TLS and exits 0 on SIGTERM.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <regex>

#include "support/paths.h"
#include "support/process.h"

namespace {

using bot::testing::TempDir;

// A running `mailguide serve`, killed if the test did not stop it itself.
class ServeProcess {
 public:
  ServeProcess(const std::string& cwd, const std::vector<std::string>& env) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      if (chdir(cwd.c_str()) != 0) _exit(127);
      std::vector<std::string> storage = env;
      std::vector<char*> envp;
      for (auto& e : storage) envp.push_back(e.data());
      envp.push_back(nullptr);
      std::string binary = bot::testing::MailguideBinary();
      char* argv[] = {binary.data(), const_cast<char*>("serve"), nullptr};
      execve(binary.c_str(), argv, envp.data());
      _exit(127);
    }
    close(fds[1]);
    err_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(err_);
  }

  // Reads stderr until a line matches `pattern` (returns its first group) or 20 s pass.
  std::string WaitForLine(const std::string& pattern) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      size_t nl;
      while ((nl = buffer_.find('\n')) != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        log_ += line + "\n";
        std::smatch m;
        if (std::regex_search(line, m, re)) return m.size() > 1 ? m[1].str() : line;
      }
      pollfd p{err_, POLLIN, 0};
      if (poll(&p, 1, 200) > 0) {
        char chunk[4096];
        ssize_t n = read(err_, chunk, sizeof chunk);
        if (n <= 0) break;
        buffer_.append(chunk, static_cast<size_t>(n));
      }
    }
    return "";
  }

  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  std::string buffer_;
  std::string log_;
};

}  // namespace

TEST_CASE("serve exits 2 naming every configuration problem on one line", "[server]") {
  auto r = bot::testing::RunMailguide({"serve"}, "",
                                      {"MAILGUIDE_LISTEN=nowhere", "MAILGUIDE_SLACK_SIGNING_SECRET=only-the-secret"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("MAILGUIDE_LISTEN") != std::string::npos);
  CHECK(r.err.find("MAILGUIDE_SLACK_BOT_TOKEN") != std::string::npos);
  CHECK(r.err.find("only-the-secret") == std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("serve generates a certificate, answers /healthz and exits 0 on SIGTERM", "[server]") {
  TempDir dir;
  ServeProcess serve(dir.path(), {"MAILGUIDE_LISTEN=127.0.0.1:0", "MAILGUIDE_STORE=memory",
                                  "MAILGUIDE_DATA_DIR=" + dir.path() + "/var",
                                  "MAILGUIDE_FLOWS=" + bot::testing::FlowsDir()});
  const std::string port = serve.WaitForLine(R"(listening on https://127\.0\.0\.1:(\d+))");
  INFO(serve.log());
  REQUIRE(!port.empty());
  CHECK(serve.log().find("self-signed certificate") != std::string::npos);
  CHECK(serve.log().find("slack: off") != std::string::npos);
  httplib::SSLClient client("127.0.0.1", std::stoi(port));
  client.set_ca_cert_path((dir.path() + "/var/tls/self-signed.crt").c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto slack = client.Post("/slack/events", "{}", "application/json");
  REQUIRE(slack);
  CHECK(slack->status == 404);  // Slack is off without its secrets
  CHECK(serve.Terminate() == 0);
}
