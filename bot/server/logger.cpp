#include "bot/server/logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace bot {

std::string Rfc3339Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Logger::Logger(Sink sink) : sink_(std::move(sink)) {}

void Logger::Write(const std::string& level, const nlohmann::ordered_json& fields) {
  nlohmann::ordered_json line;
  line["ts"] = Rfc3339Now();
  line["level"] = level;
  for (const auto& [k, v] : fields.items()) line[k] = v;
  // Invalid UTF-8 (a peer's bytes in an error message) is replaced, never thrown.
  const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_) {
    sink_(text);
  } else {
    std::fputs((text + "\n").c_str(), stderr);
    std::fflush(stderr);
  }
}

void Logger::Message(const std::string& level, const std::string& component, const std::string& msg) {
  Write(level, {{"component", component}, {"msg", msg}});
}

std::function<void(const std::string&)> Logger::For(std::string component, std::string level) {
  return [this, component = std::move(component), level = std::move(level)](const std::string& line) {
    Message(level, component, line);
  };
}

}  // namespace bot
