// Load and abuse (issue 7, point 7): `mailguide serve` as a real process takes 800 requests
// at once, half of them forged — every forged one is refused with 401, every valid one is
// answered with 200 — and its memory is flat afterwards: after a first round that warms the
// pools, the allocator and the store, the resident set after further rounds of 800 stays
// within max(8 MiB, 10 %) of the one after the second round. MAILGUIDE_ABUSE_ROUNDS=N runs N
// rounds instead of 4 (for a longer look at the trend).
// The rounds come from 40 loopback addresses (20 connections each, under the per-address cap).
#include <catch2/catch.hpp>
#include <sstream>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/slack/slack_signature.h"
#include "adapters/teams/teams_hmac.h"
#include "bot/clock.h"
#include "support/paths.h"
#include "support/process.h"
#include "support/raw_tls.h"
#include "support/teams_fixtures.h"
#include "support/test_log.h"

namespace {

constexpr const char* kSigningSecret = "hardening-signing-secret-5d1e9b";
constexpr const char* kBotToken = "xoxb-hardening-token-77c2a0";
constexpr const char* kWebhookSecret = "aGFyZGVuaW5nLXRlYW1zLXdlYmhvb2stc2VjcmV0IQ==";

// `mailguide serve` with stderr in a log file (under the suite's log directory when set).
class ServedMailguide {
 public:
  explicit ServedMailguide(std::vector<std::string> env) {
    const std::string dir = bot::testing::TestLogDir().empty() ? data_.path() : bot::testing::TestLogDir();
    std::filesystem::create_directories(dir);
    log_path_ = dir + "/serve-abuse-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_) + ".log";
    env.push_back("MAILGUIDE_LISTEN=127.0.0.1:0");
    env.push_back("MAILGUIDE_DATA_DIR=" + data_.path());
    env.push_back("MAILGUIDE_FLOWS=" + bot::testing::FlowsDir());
    std::vector<std::string> argv_s = {bot::testing::MailguideBinary(), "serve"};
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) ::dup2(fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~ServedMailguide() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  std::string Log() const { return bot::testing::ReadFile(log_path_); }
  int WaitListening() {
    const std::regex re(R"(listening on https://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 400; ++i) {
      std::smatch m;
      const std::string log = Log();
      if (std::regex_search(log, m, re)) return std::stoi(m[1].str());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  int Terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static inline int counter_ = 0;
  bot::testing::TempDir data_;
  std::string log_path_;
  pid_t pid_ = -1;
};

struct RoundResult {
  int valid_ok = 0, valid_wrong = 0, forged_401 = 0, forged_wrong = 0;
  std::vector<std::string> wrong;  // a few examples
  double seconds = 0;
};

// Request i of a round: even ones are valid, odd ones forged; Slack and the Teams webhook alternate.
std::string RequestFor(int i, int round) {
  const bool forged = i % 2 == 1;
  const bool slack = (i / 2) % 2 == 0;
  if (slack) {
    const std::string body = R"({"type":"url_verification","challenge":"c)" + std::to_string(i) + "\"}";
    const std::string ts = std::to_string(bot::UnixNow());
    const std::string sig = bot::slack::ComputeSlackSignature(forged ? "not-the-secret" : kSigningSecret, ts, body);
    return bot::testing::HttpPost("/slack/events", "application/json", body,
                                  "X-Slack-Request-Timestamp: " + ts + "\r\nX-Slack-Signature: " + sig + "\r\n");
  }
  nlohmann::json a = nlohmann::json::parse(bot::testing::ReadTeamsFixture("webhook_message.json"));
  a["id"] = "r" + std::to_string(round) + "-" + std::to_string(i);
  a["from"]["id"] = "29:user-" + std::to_string(i % 97);
  a["text"] = "<at>mailguide</at> 550 5.1.1";
  const std::string body = a.dump();
  std::string auth = *bot::teams::ComputeWebhookAuthorization(kWebhookSecret, body);
  if (forged) auth[auth.size() - 3] = auth[auth.size() - 3] == 'A' ? 'B' : 'A';
  return bot::testing::HttpPost("/teams/webhook", "application/json", body, "Authorization: " + auth + "\r\n");
}

RoundResult Round(int port, int n, int round) {
  std::vector<std::string> requests;
  for (int i = 0; i < n; ++i) requests.push_back(RequestFor(i, round));
  std::vector<bot::testing::RawResponse> answers(static_cast<size_t>(n));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (!go) std::this_thread::yield();
      answers[static_cast<size_t>(i)] =
          bot::testing::RawHttps("127.0.0." + std::to_string(50 + i % 40), port, requests[static_cast<size_t>(i)]);
    });
  }
  while (ready < n) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
  RoundResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int i = 0; i < n; ++i) {
    const auto& a = answers[static_cast<size_t>(i)];
    const bool forged = i % 2 == 1;
    const bool right = forged ? a.status == 401 : a.status == 200;
    (forged ? (right ? r.forged_401 : r.forged_wrong) : (right ? r.valid_ok : r.valid_wrong))++;
    if (!right && r.wrong.size() < 5) {
      r.wrong.push_back("#" + std::to_string(i) + ": " + std::to_string(a.status) + " " + a.error + " " +
                        a.body.substr(0, 120));
    }
  }
  return r;
}

}  // namespace

TEST_CASE("abuse: 800 requests at once, half forged: 401 for each forged, 200 for each valid, memory flat",
          "[hardening][abuse]") {
  ServedMailguide serve({"MAILGUIDE_SLACK_SIGNING_SECRET=" + std::string(kSigningSecret),
                         "MAILGUIDE_SLACK_BOT_TOKEN=" + std::string(kBotToken),
                         "MAILGUIDE_SLACK_API_URL=http://127.0.0.1:9/api",  // refused at once: no Slack here
                         "MAILGUIDE_TEAMS_WEBHOOK_SECRET=" + std::string(kWebhookSecret),
                         // Up to 256 handshakes run at once on two cores (in CI, under a
                         // sanitizer): each then takes seconds of wall time, past the 3 s
                         // defaults of the handshake deadline and of each wait within it (a
                         // client thread starved between its handshake messages). This test
                         // is about answers and memory; the deadlines have their own tests
                         // (slow_clients_test.cpp).
                         "MAILGUIDE_HANDSHAKE_TIMEOUT_MS=30000", "MAILGUIDE_READ_TIMEOUT_MS=30000",
                         // 20 a round per address, but a round's connections may still be
                         // counted open while the next round's arrive: room for two rounds.
                         "MAILGUIDE_MAX_CONNECTIONS_PER_IP=64"});
  const int port = serve.WaitListening();
  INFO(serve.Log());
  REQUIRE(port > 0);
  const auto start = std::chrono::steady_clock::now();

  // Round 1 warms the pools, the allocator's arenas and the store; rounds 2 and later must not
  // grow the resident set beyond the tolerance.
  std::vector<RoundResult> rounds;
  std::vector<long> rss;
  const char* rounds_env = std::getenv("MAILGUIDE_ABUSE_ROUNDS");
  const int kRounds = rounds_env ? std::max(2, std::atoi(rounds_env)) : 4;
  for (int i = 1; i <= kRounds; ++i) {
    rounds.push_back(Round(port, 800, i));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // queued turns finish
    rss.push_back(bot::testing::RssKiB(serve.pid()));
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string report = "abuse:";
  for (size_t i = 0; i < rounds.size(); ++i) {
    char line[200];
    std::snprintf(line, sizeof line, " round %zu %.2f s (%d ok, %d forged 401) RSS %ld KiB;", i + 1, rounds[i].seconds,
                  rounds[i].valid_ok, rounds[i].forged_401, rss[i]);
    report += line;
  }
  std::printf("%s %.1f s in all\n", report.c_str(), total);
  {
    // On a failure, say what the server closed or refused and why (its watchdog's lines).
    std::istringstream lines(serve.Log());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"server: ") != std::string::npos) UNSCOPED_INFO(line);
    }
  }
  for (const RoundResult& r : rounds) {
    for (const auto& w : r.wrong) UNSCOPED_INFO(w);
    CHECK(r.valid_ok == 400);
    CHECK(r.forged_401 == 400);
    CHECK(r.valid_wrong == 0);
    CHECK(r.forged_wrong == 0);
  }
#if defined(MAILGUIDE_SANITIZED)  // set by tests/CMakeLists.txt
  CHECK(total < 60);  // the sanitizer makes each handshake several times slower
  // AddressSanitizer's quarantine holds freed memory on purpose: RSS says nothing here.
  (void)rss;
#else
  CHECK(total < 30);
  REQUIRE(rss.front() > 0);
  const long tolerance = std::max(8L * 1024, rss[1] / 10);
  CHECK(rss.back() - rss[1] <= tolerance);
#endif
  CHECK(serve.Terminate() == 0);
  // Refusals are logged one line each, and no secret ever is.
  const std::string log = serve.Log();
  CHECK(log.find(kSigningSecret) == std::string::npos);
  CHECK(log.find(kWebhookSecret) == std::string::npos);
  CHECK(log.find(kBotToken) == std::string::npos);
}
