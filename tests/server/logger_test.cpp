// Logger's batching of stderr: request lines arrive within the flush delay, any other line (a
// start-up message, a warning) takes every earlier line out with it at once, and nothing batched
// is lost when the logger goes away.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "bot/server/logger.h"

namespace {

// Points stderr at a temporary file for the life of the object.
class CapturedStderr {
 public:
  CapturedStderr() {
    std::fflush(stderr);
    saved_ = dup(2);
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    file_ = f;
    REQUIRE(dup2(fileno(file_), 2) == 2);
  }
  ~CapturedStderr() {
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    std::fclose(file_);
  }
  std::string Text() const {
    std::fflush(stderr);
    std::string out;
    char buf[4096];
    for (off_t at = 0;;) {
      const ssize_t n = pread(fileno(file_), buf, sizeof buf, at);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      at += n;
    }
    return out;
  }
  // Waits (up to `limit`) until `needle` has been written.
  bool WaitFor(const std::string& needle, std::chrono::milliseconds limit = std::chrono::seconds(5)) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (Text().find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

// What Telemetry writes for each request.
void RequestLine(bot::Logger& log, const std::string& path) { log.WriteMembers("info", "\"path\":\"" + path + "\""); }

}  // namespace

TEST_CASE("batched request lines reach stderr on their own, whole and in order", "[logger]") {
  CapturedStderr err;
  bot::Logger log;
  RequestLine(log, "/first");
  RequestLine(log, "/second");
  REQUIRE(err.WaitFor("/second"));
  const std::string text = err.Text();
  CHECK(text.find("\"path\":\"/first\"") < text.find("\"path\":\"/second\""));
  CHECK(text.back() == '\n');
}

TEST_CASE("a warning is written at once, after every request line batched before it", "[logger]") {
  CapturedStderr err;
  bot::Logger log;
  RequestLine(log, "/before");
  log.Warn("test", "trouble");
  const std::string text = err.Text();  // no waiting: the warning flushed
  REQUIRE(text.find("\"msg\":\"trouble\"") != std::string::npos);
  CHECK(text.find("\"path\":\"/before\"") < text.find("\"msg\":\"trouble\""));
}

TEST_CASE("an info message such as 'listening' is written at once, not batched", "[logger]") {
  CapturedStderr err;
  bot::Logger log;
  RequestLine(log, "/before");
  log.Info("serve", "listening");
  const std::string text = err.Text();  // no waiting: a tool watching for it sees it now
  REQUIRE(text.find("\"msg\":\"listening\"") != std::string::npos);
  CHECK(text.find("\"path\":\"/before\"") < text.find("\"msg\":\"listening\""));
}

TEST_CASE("request lines still batched are written when the logger is destroyed", "[logger]") {
  CapturedStderr err;
  {
    bot::Logger log;
    for (int i = 0; i < 50; ++i) RequestLine(log, "/line" + std::to_string(i));
  }
  const std::string text = err.Text();
  for (int i = 0; i < 50; ++i) CHECK(text.find("\"path\":\"/line" + std::to_string(i) + "\"") != std::string::npos);
}
