#include "bot/server/logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "bot/text.h"

namespace bot {

std::string Rfc3339Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  // The date and time change once a second; formatting them costs more than the rest of a
  // request's log line, so each thread keeps the last second's.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[64];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  std::string out = cached;
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
  return out;
}

Logger::Logger(Sink sink) : sink_(std::move(sink)) {}

Logger::~Logger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Flush();
}

void Logger::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  FlushLocked();
}

void Logger::FlushLocked() {
  if (batch_.empty()) return;
  std::fwrite(batch_.data(), 1, batch_.size(), stderr);
  std::fflush(stderr);
  batch_.clear();
}

void Logger::RunFlusher() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // Asleep while nothing is batched; then lets lines gather for kFlushDelay.
    wake_.wait(lock, [this] { return stopping_ || !batch_.empty(); });
    wake_.wait_for(lock, kFlushDelay, [this] { return stopping_; });
    FlushLocked();
  }
}

void Logger::Write(const std::string& level, const nlohmann::ordered_json& fields) {
  // Invalid UTF-8 (a peer's bytes in an error message) is replaced, never thrown.
  std::string members = fields.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // "{...}" → "...": an empty object leaves nothing.
  members = members.size() > 2 ? members.substr(1, members.size() - 2) : std::string();
  Emit(level, members, /*may_batch=*/false);
}

void Logger::WriteMembers(const std::string& level, std::string_view members) {
  Emit(level, members, /*may_batch=*/level == "info");
}

void Logger::Emit(const std::string& level, std::string_view members, bool may_batch) {
  std::string text = "{\"ts\":\"" + Rfc3339Now() + "\",\"level\":" + JsonQuote(level);
  if (!members.empty()) {
    text += ',';
    text += members;
  }
  text += '}';
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_) {
    sink_(text);
    return;
  }
  const bool first = batch_.empty();
  batch_ += text;
  batch_ += '\n';
  if (!may_batch || batch_.size() >= kFlushBytes || stopping_) {
    FlushLocked();
    return;
  }
  if (!flusher_.joinable()) flusher_ = std::thread([this] { RunFlusher(); });
  if (first) wake_.notify_one();
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
