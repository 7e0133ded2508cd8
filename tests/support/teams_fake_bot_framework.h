// TeamsFakeBotFramework: one loopback HTTPS server playing every Microsoft endpoint the Teams
// bot talks to — OpenID metadata, the JWKS it points at, the client-credentials token
// endpoint and the Bot Connector (serviceUrl …/amer/). Records token requests and activities.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace bot::testing {

class TeamsFakeBotFramework {
 public:
  struct Activity {
    std::string method;         // POST (reply / append) or PUT (update)
    std::string path;           // decoded: /amer/v3/conversations/<id>/activities[/<id>]
    std::string authorization;
    nlohmann::json body;
    std::string id;             // the id this fake answered with (POST) or was asked to update (PUT)
  };

  TeamsFakeBotFramework(const std::string& cert, const std::string& key) : server_(cert.c_str(), key.c_str()) {
    server_.Get("/v1/.well-known/openidconfiguration", [this](const httplib::Request&, httplib::Response& res) {
      nlohmann::json meta = {{"issuer", "https://api.botframework.com"},
                             {"jwks_uri", base() + "/v1/.well-known/keys"},
                             {"id_token_signing_alg_values_supported", {"RS256"}}};
      res.set_content(meta.dump(), "application/json");
    });
    server_.Get("/v1/.well-known/keys", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++jwks_fetches_;
      res.set_content(jwks_.dump(), "application/json");
    });
    server_.Post(R"(/([^/]+)/oauth2/v2.0/token)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      token_requests_.push_back(req.matches[1].str() + " " + req.body);
      res.set_content(R"({"token_type":"Bearer","expires_in":3600,"access_token":"loopback-token"})",
                      "application/json");
    });
    auto connector = [this](const httplib::Request& req, httplib::Response& res) {
      Activity a;
      a.method = req.method;
      a.path = req.path;
      a.authorization = req.get_header_value("Authorization");
      a.body = nlohmann::json::parse(req.body, nullptr, false);
      std::lock_guard<std::mutex> lock(mu_);
      a.id = req.method == "PUT" ? req.matches[2].str() : "act-" + std::to_string(activities_.size() + 1);
      activities_.push_back(a);
      cv_.notify_all();
      res.status = req.method == "PUT" ? 200 : 201;
      res.set_content(nlohmann::json{{"id", a.id}}.dump(), "application/json");
    };
    server_.Post(R"(/amer/v3/conversations/([^/]+)/activities(?:/([^/]+))?)", connector);
    server_.Put(R"(/amer/v3/conversations/([^/]+)/activities/([^/]+))", connector);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("fake Bot Framework: cannot bind");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~TeamsFakeBotFramework() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  TeamsFakeBotFramework(const TeamsFakeBotFramework&) = delete;
  TeamsFakeBotFramework& operator=(const TeamsFakeBotFramework&) = delete;

  std::string base() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string openid_url() const { return base() + "/v1/.well-known/openidconfiguration"; }
  std::string token_url() const { return base() + "/{tenant}/oauth2/v2.0/token"; }
  std::string service_url() const { return base() + "/amer/"; }

  void SetJwks(nlohmann::json jwks) {
    std::lock_guard<std::mutex> lock(mu_);
    jwks_ = std::move(jwks);
  }

  // Waits until at least `n` activities arrived (or `timeout` passed) and returns them all.
  std::vector<Activity> WaitForActivities(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return activities_.size() >= n; });
    return activities_;
  }
  std::vector<Activity> activities() {
    std::lock_guard<std::mutex> lock(mu_);
    return activities_;
  }
  std::vector<std::string> token_requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return token_requests_;
  }
  int jwks_fetches() {
    std::lock_guard<std::mutex> lock(mu_);
    return jwks_fetches_;
  }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  nlohmann::json jwks_ = {{"keys", nlohmann::json::array()}};
  std::vector<Activity> activities_;
  std::vector<std::string> token_requests_;
  int jwks_fetches_ = 0;
};

}  // namespace bot::testing
