#include "bot/server/work_queue.h"

#include <algorithm>
#include <exception>
#include <iostream>

namespace bot {

void KeyedWorkQueue::Report(const std::string& line) const {
  if (log_) {
    log_(line);
  } else {
    std::cerr << "server: " << line << "\n";
  }
}

KeyedWorkQueue::KeyedWorkQueue(int workers, size_t max_pending, std::function<void(const std::string&)> log)
    : max_pending_(max_pending), log_(std::move(log)) {
  for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { Work(); });
}

KeyedWorkQueue::~KeyedWorkQueue() { Shutdown(); }

bool KeyedWorkQueue::Post(const std::string& key, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || pending_ >= max_pending_) return false;
    auto [it, inserted] = queues_.try_emplace(key);
    // A key already in queues_ is either running or in ready_: it will get to this task.
    it->second.push_back(std::move(task));
    if (inserted) ready_.push_back(key);
    ++pending_;
  }
  cv_.notify_one();
  return true;
}

void KeyedWorkQueue::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return !ready_.empty() || (stopping_ && pending_ == 0); });
    if (ready_.empty()) return;  // stopping and drained
    const std::string key = std::move(ready_.front());
    ready_.pop_front();
    auto it = queues_.find(key);
    std::function<void()> task = std::move(it->second.front());
    it->second.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      Report(std::string("a queued task failed: ") + e.what());
    } catch (...) {
      Report("a queued task failed with an unknown exception");
    }
    lock.lock();
    --pending_;
    it = queues_.find(key);
    if (it->second.empty()) {
      queues_.erase(it);
    } else {
      ready_.push_back(key);  // behind other keys: one busy conversation cannot starve the rest
      cv_.notify_one();
    }
    if (stopping_ && pending_ == 0) cv_.notify_all();
  }
}

void KeyedWorkQueue::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  threads_.clear();
}

size_t KeyedWorkQueue::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

}  // namespace bot
