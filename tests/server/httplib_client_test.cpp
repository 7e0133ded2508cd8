// HttplibClient against a loopback HTTP server: connections are reused per origin, a
// connection the server closed is reopened, and errors name the host, never the URL.
#include <httplib.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bot/server/httplib_client.h"

namespace {

// Answers every POST with its body, remembering the client port of each request: one port,
// one connection.
class EchoServer {
 public:
  EchoServer() {
    server_.set_keep_alive_max_count(100);  // httplib's default closes after 5 requests
    server_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ports_.insert(req.remote_port);
        ++requests_;
      }
      if (req.get_header_value("X-Close") == "1") res.set_header("Connection", "close");
      res.set_content(req.body, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~EchoServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/echo"; }
  size_t connections() {
    std::lock_guard<std::mutex> lock(mu_);
    return ports_.size();
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::set<int> ports_;
  int requests_ = 0;
};

}  // namespace

TEST_CASE("sequential requests to one origin share one kept-alive connection", "[server][client]") {
  EchoServer server;
  bot::HttplibClient client;
  for (int i = 0; i < 5; ++i) {
    auto res = client.Send("POST", server.url(), {{"Content-Type", "text/plain"}}, "hello " + std::to_string(i));
    REQUIRE(res.ok());
    CHECK(res->status == 200);
    CHECK(res->body == "hello " + std::to_string(i));
  }
  CHECK(server.requests() == 5);
  CHECK(server.connections() == 1);

  SECTION("with pooling off, each request opens its own") {
    EchoServer other;
    bot::HttplibClientOptions o;
    o.max_idle_per_origin = 0;
    bot::HttplibClient fresh(o);
    for (int i = 0; i < 3; ++i) REQUIRE(fresh.Send("POST", other.url(), {}, "x").ok());
    CHECK(other.connections() == 3);
  }
  SECTION("a connection the server closes is not reused") {
    REQUIRE(client.Send("POST", server.url(), {{"X-Close", "1"}}, "bye").ok());
    REQUIRE(client.Send("POST", server.url(), {}, "again").ok());
    CHECK(server.connections() == 2);
  }
}

TEST_CASE("concurrent requests each get a connection; errors name the host only", "[server][client]") {
  EchoServer server;
  bot::HttplibClient client;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += client.Send("POST", server.url(), {}, "x").ok();
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 40);
  CHECK(server.connections() <= 4 + 4);  // at most one per request in flight, plus replacements

  auto refused = client.Send("POST", "http://127.0.0.1:1/secret-path-token", {}, "x");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == bot::Status::Code::kUnavailable);
  CHECK(refused.status().message().find("127.0.0.1") != std::string::npos);
  CHECK(refused.status().message().find("secret-path-token") == std::string::npos);
}
