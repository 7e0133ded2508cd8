// KeyedWorkQueue: a fixed pool of worker threads where tasks that share a key (a
// conversation) run one at a time in the order they were posted, and different keys run in
// parallel. The server acknowledges a webhook, then posts the turn here.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bot {

// Thread-safe.
class KeyedWorkQueue {
 public:
  // Starts `workers` threads; at most `max_pending` tasks wait at once. A task that throws is
  // reported to `log` (default: stderr).
  explicit KeyedWorkQueue(int workers, size_t max_pending = 10000,
                          std::function<void(const std::string&)> log = {});
  KeyedWorkQueue(const KeyedWorkQueue&) = delete;
  KeyedWorkQueue& operator=(const KeyedWorkQueue&) = delete;
  ~KeyedWorkQueue();  // Shutdown()

  // Queues `task` behind every earlier task of `key`. False (task dropped) when the queue is
  // shutting down or full. A task that throws is caught and counted, never kills a worker.
  bool Post(const std::string& key, std::function<void()> task);

  // Refuses new tasks, runs every queued one, then joins the workers. Idempotent.
  void Shutdown();

  size_t pending() const;

 private:
  void Work();
  void Report(const std::string& line) const;

  const size_t max_pending_;
  const std::function<void(const std::string&)> log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<std::function<void()>>> queues_;  // key → its waiting tasks
  std::deque<std::string> ready_;  // keys with waiting tasks and no task running
  size_t pending_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bot
