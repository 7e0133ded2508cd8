// FakeSlackApi: a loopback HTTPS server speaking the Slack Web API's JSON (auth.test,
// chat.postMessage, chat.update, chat.postEphemeral) and accepting response_url posts under
// /response/<id>. Records every call; can be told to answer 429 with Retry-After or ok:false.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace bot::testing {

struct ApiCall {
  std::string path;           // "/api/chat.postMessage", "/response/abc"
  std::string authorization;
  nlohmann::json body;        // null when not JSON
  int status = 200;           // what the fake answered
  std::chrono::steady_clock::time_point at;
};

class FakeSlackApi {
 public:
  FakeSlackApi(const std::string& cert_path, const std::string& key_path)
      : server_(cert_path.c_str(), key_path.c_str()) {
    server_.set_tcp_nodelay(true);
    server_.Post(R"(/api/([A-Za-z.]+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string method = req.matches[1];
      ApiCall call = Record(req);
      nlohmann::json answer;
      int retry_after = -1;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (auto it = rate_limits_.find(method); it != rate_limits_.end() && it->second.first > 0) {
          --it->second.first;
          retry_after = it->second.second;
        } else if (auto f = failures_.find(method); f != failures_.end() && !f->second.empty()) {
          answer = {{"ok", false}, {"error", f->second}};
          f->second.clear();
        }
      }
      if (retry_after >= 0) {
        res.status = 429;
        res.set_header("Retry-After", std::to_string(retry_after));
        res.set_content(R"({"ok":false,"error":"ratelimited"})", "application/json");
        call.status = 429;
        Push(std::move(call));
        return;
      }
      if (answer.is_null()) {
        if (call.authorization != "Bearer " + token_) {
          answer = {{"ok", false}, {"error", "invalid_auth"}};
        } else if (method == "auth.test") {
          answer = {{"ok", true}, {"user_id", "U0BOT"}, {"bot_id", "B0BOT"}, {"team_id", "T0001ABCD"}, {"url", "https://example.slack.com/"}};
        } else if (method == "chat.postMessage" || method == "chat.update") {
          answer = {{"ok", true}, {"channel", call.body.value("channel", "")}, {"ts", NextTs()}};
        } else if (method == "chat.postEphemeral") {
          answer = {{"ok", true}, {"message_ts", NextTs()}};
        } else {
          answer = {{"ok", false}, {"error", "unknown_method"}};
        }
      }
      res.set_content(answer.dump(), "application/json");
      Push(std::move(call));
    });
    server_.Post(R"(/response/([A-Za-z0-9_-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      res.set_content("ok", "text/plain");
      Push(Record(req));
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }

  ~FakeSlackApi() {
    while (!server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }

  std::string base_url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string api_url() const { return base_url() + "/api"; }
  std::string response_url(const std::string& id) const { return base_url() + "/response/" + id; }
  const std::string& token() const { return token_; }

  // The next `times` calls of `method` answer 429 with Retry-After: `seconds`.
  void RateLimit(const std::string& method, int times, int seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    rate_limits_[method] = {times, seconds};
  }
  // The next call of `method` answers {"ok":false,"error":error}.
  void FailNext(const std::string& method, const std::string& error) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[method] = error;
  }

  std::vector<ApiCall> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<ApiCall> CallsTo(const std::string& path_prefix) const {
    std::vector<ApiCall> out;
    for (auto& c : calls()) {
      if (c.path.rfind(path_prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }
  // Waits until `done(calls)` holds, or `timeout` passes; returns whether it held.
  bool WaitFor(const std::function<bool(const std::vector<ApiCall>&)>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(calls_); });
  }
  bool WaitForCalls(const std::string& path_prefix, size_t n,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return WaitFor([&](const std::vector<ApiCall>& calls) {
      size_t k = 0;
      for (auto& c : calls) k += c.path.rfind(path_prefix, 0) == 0 && c.status == 200;
      return k >= n;
    }, timeout);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }

 private:
  ApiCall Record(const httplib::Request& req) {
    ApiCall call;
    call.path = req.path;
    call.authorization = req.get_header_value("Authorization");
    call.body = nlohmann::json::parse(req.body, nullptr, false);
    if (call.body.is_discarded()) call.body = nullptr;
    call.at = std::chrono::steady_clock::now();
    return call;
  }
  void Push(ApiCall call) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(std::move(call));
    }
    cv_.notify_all();
  }
  std::string NextTs() {
    std::lock_guard<std::mutex> lock(ts_mu_);
    return "1700001000." + std::to_string(100000 + ++ts_);
  }

  httplib::SSLServer server_;
  std::thread thread_;
  int port_ = 0;
  std::string token_ = "xoxb-test-token";
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ApiCall> calls_;
  std::map<std::string, std::pair<int, int>> rate_limits_;
  std::map<std::string, std::string> failures_;
  std::mutex ts_mu_;
  int ts_ = 0;
};

}  // namespace bot::testing
