// KeyedWorkQueue: one conversation's tasks run in order, others in parallel, and shutdown
// finishes everything queued.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "bot/server/work_queue.h"

TEST_CASE("runs one key's tasks in order and drains on shutdown", "[server]") {
  bot::KeyedWorkQueue q(4);
  std::mutex mu;
  std::map<std::string, std::vector<int>> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string key = "k" + std::to_string(i % 5);
    REQUIRE(q.Post(key, [&, key, i] {
      std::lock_guard<std::mutex> lock(mu);
      seen[key].push_back(i);
    }));
  }
  q.Shutdown();
  CHECK(q.pending() == 0);
  for (auto& [key, order] : seen) {
    CHECK(order.size() == 40);
    CHECK(std::is_sorted(order.begin(), order.end()));
  }
  CHECK(!q.Post("late", [] {}));
}

TEST_CASE("runs different keys in parallel while one key is busy", "[server]") {
  bot::KeyedWorkQueue q(2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, other_ran = false;
  q.Post("busy", [&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  std::atomic<bool> second_busy_ran{false};
  q.Post("busy", [&] { second_busy_ran = true; });
  q.Post("other", [&] {
    std::lock_guard<std::mutex> lock(mu);
    other_ran = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return other_ran; }));
    CHECK(!second_busy_ran);  // queued behind the blocked task of its own key
    release = true;
  }
  cv.notify_all();
  q.Shutdown();
  CHECK(second_busy_ran);
}

TEST_CASE("survives a task that throws", "[server]") {
  bot::KeyedWorkQueue q(1);
  std::atomic<int> ran{0};
  q.Post("k", [] { throw std::runtime_error("boom"); });
  q.Post("k", [&] { ++ran; });
  q.Shutdown();
  CHECK(ran == 1);
}
