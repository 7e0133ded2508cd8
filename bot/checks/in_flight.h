// Counts the background threads a check run leaves behind when it returns at its deadline
// (an HTTP call or a DNS job that has not finished yet), so a short-lived process such as
// `mailguide check` can wait for them before it exits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace bot::checks {

class InFlight {
 public:
  // Held by a background thread for as long as it runs.
  class Token {
   public:
    explicit Token(std::shared_ptr<InFlight> owner) : owner_(std::move(owner)) {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      ++owner_->count_;
    }
    ~Token() {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      if (--owner_->count_ == 0) owner_->cv_.notify_all();
    }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;

   private:
    std::shared_ptr<InFlight> owner_;
  };

  // True when nothing is running any more; false when `until` came first.
  bool WaitIdle(std::chrono::steady_clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, until, [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

}  // namespace bot::checks
