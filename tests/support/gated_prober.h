// GatedProber: a bot::Prober whose probes wait until the test opens the gate, then answer
// what the test scripted. Shows what a platform does while automatic checks are running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "bot/probe.h"

namespace bot::testing {

class GatedProber final : public Prober {
 public:
  explicit GatedProber(std::vector<ProbeResult> results) : results_(std::move(results)) {}

  std::vector<ProbeResult> Run(const ProbeTarget&, std::chrono::milliseconds) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++running_;
    cv_.notify_all();
    // Bounded, so a failing test ends instead of hanging.
    cv_.wait_for(lock, std::chrono::seconds(20), [this] { return open_; });
    --running_;
    return results_;
  }

  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int running() {
    std::lock_guard<std::mutex> lock(mu_);
    return running_;
  }
  // Waits until `n` probe runs are held at the gate.
  bool WaitRunning(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return running_ >= n; });
  }

 private:
  std::vector<ProbeResult> results_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int running_ = 0;
};

}  // namespace bot::testing
