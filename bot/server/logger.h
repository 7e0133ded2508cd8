// Logger: the one log of `mailguide serve`. Every line is one JSON object (ts, level, then the
// fields), written whole to stderr, so journald, Docker and Kubernetes collectors can parse it.
// Requests get one info line each (see Telemetry); nothing here ever logs a message body.
// Per-request info lines reach stderr in batches, at most kFlushDelay after they were logged (a
// write per request line cost ~6% of the slash-command rate); every other line (start-up, state
// changes, warnings) goes out at once, with everything logged before it, so an operator watching
// the log sees "listening" when it happens. A crash can lose the last kFlushDelay of request lines.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

namespace bot {

class Logger {
 public:
  // Receives one complete line, without the trailing newline. Default: stderr.
  using Sink = std::function<void(const std::string& line)>;

  static constexpr std::chrono::milliseconds kFlushDelay{100};
  static constexpr size_t kFlushBytes = 16 * 1024;

  // A sink gets every line as it is logged; only the default (stderr) is batched.
  explicit Logger(Sink sink = {});
  ~Logger();  // writes what is still batched
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // {"ts":..., "level":level, ...fields}, written at once. Thread-safe: lines never interleave.
  void Write(const std::string& level, const nlohmann::ordered_json& fields);
  // The same, with the fields already serialised: `members` is the inside of a JSON object
  // ("\"a\":1,\"b\":\"x\""), for the per-request line, which is written for every request:
  // batched when `level` is "info".
  void WriteMembers(const std::string& level, std::string_view members);

  // {"ts":..., "level":level, "component":component, "msg":msg}.
  void Message(const std::string& level, const std::string& component, const std::string& msg);
  void Info(const std::string& component, const std::string& msg) { Message("info", component, msg); }
  void Warn(const std::string& component, const std::string& msg) { Message("warn", component, msg); }

  // For components that take a `std::function<void(const std::string&)> log`: each call
  // becomes a `level` message of `component`. The Logger must outlive the function.
  std::function<void(const std::string&)> For(std::string component, std::string level = "warn");

  // Writes the batched lines to stderr now.
  void Flush();

 private:
  void Emit(const std::string& level, std::string_view members, bool may_batch);
  void FlushLocked();
  void RunFlusher();

  Sink sink_;
  std::mutex mu_;
  std::string batch_;             // guarded by mu_: lines not yet on stderr
  std::condition_variable wake_;  // a first line was batched, or stopping_
  bool stopping_ = false;         // guarded by mu_
  std::thread flusher_;           // started with the first batched line
};

// Now as RFC 3339 UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string Rfc3339Now();

}  // namespace bot
