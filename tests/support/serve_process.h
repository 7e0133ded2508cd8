// ServeProcess: `mailguide serve` as a real child process for the operations tests (crash
// safety, replicas, config): explicit environment and arguments, stderr drained continuously
// by a thread (the JSON log must never fill the pipe and stall the server), waits on log lines
// with a deadline, and kill -9 or SIGTERM. The destructor kills and reaps whatever still runs.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/paths.h"

namespace bot::testing {

class ServeProcess {
 public:
  // `env` entries are "NAME=value" and are the child's whole environment; `args` follow the
  // binary ("serve" first).
  ServeProcess(std::vector<std::string> env, std::vector<std::string> args = {"serve"}, std::string cwd = "") {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::string binary = MailguideBinary();
    std::vector<std::string> argv_storage = {binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(fds[1], 2);
      if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
      execve(binary.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    close(fds[1]);
    err_fd_ = fds[0];
    reader_ = std::thread([this] { ReadLoop(); });
  }

  ~ServeProcess() {
    Kill9();
    if (reader_.joinable()) reader_.join();
    close(err_fd_);
  }

  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Waits until stderr has a line matching `pattern`; returns its first group (or the whole
  // match), or "" when the deadline passes or the process closes stderr first.
  std::string WaitForLine(const std::string& pattern, std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    const std::regex re(pattern);
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    cv_.wait_for(lock, deadline, [&] {
      std::smatch m;
      if (std::regex_search(log_, m, re)) {
        found = m.size() > 1 ? m[1].str() : m[0].str();
        return true;
      }
      return eof_;
    });
    return found;
  }

  // The bound port, from the "listening on http(s)://host:PORT" line; 0 if it never came.
  int WaitListening() {
    if (port_ == 0) {
      std::string p = WaitForLine(R"(listening on https?://[^:]+:(\d+))");
      port_ = p.empty() ? 0 : std::stoi(p);
    }
    return port_;
  }
  int port() const { return port_; }

  // Like a crash: SIGKILL, then reap. No-op once the process is gone.
  void Kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM and the exit code (-1 when killed by a signal).
  int Terminate() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Waits for the process to exit by itself (e.g. a configuration error); its exit code, or
  // -2 when it is still running at the deadline.
  int WaitExit(std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (pid_ > 0 && std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    return pid_ > 0 ? -2 : -1;
  }

  std::string Log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  // Every stderr line that is a JSON object.
  std::vector<nlohmann::json> JsonLines() const {
    std::vector<nlohmann::json> out;
    std::string all = Log();
    size_t start = 0;
    while (start < all.size()) {
      size_t nl = all.find('\n', start);
      if (nl == std::string::npos) break;
      auto j = nlohmann::json::parse(all.substr(start, nl - start), nullptr, false);
      if (j.is_object()) out.push_back(std::move(j));
      start = nl + 1;
    }
    return out;
  }

  // A plain-HTTP client for this process.
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }

 private:
  void ReadLoop() {
    char chunk[4096];
    for (;;) {
      ssize_t n = read(err_fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (n <= 0) {
        eof_ = true;
        cv_.notify_all();
        return;
      }
      log_.append(chunk, static_cast<size_t>(n));
      cv_.notify_all();
    }
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  int port_ = 0;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;
  bool eof_ = false;
};

// Polls `probe` until it returns true or `deadline` passes; true when it did.
template <typename F>
bool WaitUntil(F probe, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return probe();
}

// The value of `metric` (the whole series name with its labels, as rendered) in a /metrics
// text, or -1 when absent.
inline double MetricValue(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::stod(text.substr(at + series.size() + 1, text.find('\n', at) - at - series.size() - 1));
    }
    at += series.size();
  }
  return -1;
}

}  // namespace bot::testing
