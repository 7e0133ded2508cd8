// FakeOpenSrs: a loopback HTTP server speaking the OpenSRS Mail API's documented JSON
// (shared/reference/opensrs-email-api.md): POST /api/<method> with {"credentials", ...};
// replies always carry `success` and an `audit` id, failures `error` and `error_number`
// (1 bad credentials, 2 no such object), HTTP 400 for bad JSON and 404 for an unknown method.
// Holds a few users and domains; records every request.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bot::testing {

class FakeOpenSrs {
 public:
  using json = nlohmann::json;

  FakeOpenSrs(std::string user = "bot-admin@example.test", std::string password = "s3cret-Pa55")
      : user_(std::move(user)), password_(std::move(password)) {
    server_.Post(R"(/api/([a-z_]+))", [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req.matches[1], req.body, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("FakeOpenSrs: cannot bind a loopback port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenSrs() {
    server_.stop();
    thread_.join();
  }
  FakeOpenSrs(const FakeOpenSrs&) = delete;
  FakeOpenSrs& operator=(const FakeOpenSrs&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api"; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }

  // A get_user reply body (without success/audit), e.g. MailboxReply() below.
  void AddUser(const std::string& address, json get_user, std::string status = "active", json changes = json::array()) {
    std::lock_guard<std::mutex> lock(mu_);
    users_[address] = {std::move(get_user), std::move(status), std::move(changes)};
  }
  void AddDomain(const std::string& domain, bool disabled) {
    std::lock_guard<std::mutex> lock(mu_);
    domains_[domain] = disabled;
  }
  // Every reply waits this long first (a slow API).
  void SetDelay(std::chrono::milliseconds delay) { delay_ms_ = static_cast<int>(delay.count()); }
  // Every call answers this HTTP status with a non-JSON body (0 = normal).
  void SetHttpFailure(int status) { http_failure_ = status; }

  struct Call {
    std::string method;
    json body;  // as received, credentials included
  };
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  // The reference's §3.1 sample, with switches and counters to vary.
  static json MailboxReply(const std::string& webmail = "enabled", const std::string& smtpin = "enabled",
                           const std::string& smtprelay = "enabled", int sent = 12, int max = 500) {
    return json{{"type", "mailbox"},
                {"settable_attributes", {"aliases", "service_webmail", "smtp_sent_limit"}},
                {"attributes",
                 {{"name", "Jane Doe"},
                  {"delivery_local", true},
                  {"service_imap4", "enabled"},
                  {"service_pop3", "disabled"},
                  {"service_webmail", webmail},
                  {"service_smtpin", smtpin},
                  {"service_smtprelay", smtprelay},
                  {"service_smtprelay_webmail", "enabled"},
                  {"smtp_sent_limit", max}}},
                {"metadata",
                 {{"2fa_enabled", false},
                  {"createtime", 1690000000},
                  {"quota", {{"bytes_max", 5368709120LL}, {"bytes_used", 1288490188LL}, {"messages_max", 0}, {"messages_used", 10342}}},
                  {"smtp_limit", {{"max", max}, {"sent", sent}, {"free_passes", 1}, {"free_passes_remaining", 0}, {"when", json::object()}}}}}};
  }

 private:
  struct User {
    json get_user;
    std::string status;
    json changes;
  };

  std::string NextAudit() { return "fake" + std::to_string(++audit_) + "_0a1b2c3d"; }

  void Reply(httplib::Response& res, json body) {
    body["audit"] = NextAudit();
    res.status = 200;
    res.set_content(body.dump(), "application/json");
  }
  void Error(httplib::Response& res, int number, const std::string& text, json extra = json::object()) {
    extra["success"] = false;
    extra["error_number"] = number;
    extra["error"] = text;
    Reply(res, std::move(extra));
  }

  void Handle(const std::string& method, const std::string& raw, httplib::Response& res) {
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
    json body = json::parse(raw, nullptr, false);
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({method, body});
    if (http_failure_ != 0) {
      res.status = http_failure_;
      res.set_content("<html>upstream trouble</html>", "text/html");
      return;
    }
    if (body.is_discarded() || !body.is_object()) {
      res.status = 400;
      res.set_content(R"({"success":false,"error_number":5,"error":"Request badly formatted"})", "application/json");
      return;
    }
    static const std::vector<std::string> known = {"get_user", "get_domain", "search_users", "get_user_changes",
                                                   "generate_token", "authenticate", "echo"};
    if (std::find(known.begin(), known.end(), method) == known.end()) {
      res.status = 404;
      res.set_content(R"({"success":false,"error":"Unknown method"})", "application/json");
      return;
    }
    const json creds = body.value("credentials", json::object());
    if (!creds.is_object() || creds.value("user", "") != user_ ||
        (creds.value("password", "") != password_ && creds.value("token", "") != "session-token-1")) {
      Error(res, 1, "Invalid credentials supplied in request.");
      return;
    }
    if (method == "get_user") {
      auto it = users_.find(body.value("user", ""));
      if (it == users_.end()) {
        Error(res, 2, "The requested object does not exist",
              {{"settable_attributes", {"aliases"}}, {"metadata", {{"options", json::object()}, {"defaults", json::object()}}}});
        return;
      }
      json reply = it->second.get_user;
      reply["success"] = true;
      Reply(res, reply);
    } else if (method == "get_domain") {
      auto it = domains_.find(body.value("domain", ""));
      if (it == domains_.end()) {
        Error(res, 2, "The requested object does not exist",
              {{"settable_attribute", {"aliases"}}, {"metadata", {{"options", json::object()}, {"defaults", json::object()}}}});
        return;
      }
      Reply(res, {{"success", true},
                  {"settable_attribute", {"aliases", "disabled"}},
                  {"metadata", {{"inherit", {{"smtp_sent_limit", 1000}}}, {"createtime", 1600000000}}},
                  {"attributes", {{"disabled", it->second}, {"smtp_sent_limit", 500}}}});
    } else if (method == "search_users") {
      const json criteria = body.value("criteria", json::object());
      const std::string domain = criteria.value("domain", "");
      std::string prefix = criteria.value("match", "");
      if (!prefix.empty() && prefix.back() == '*') prefix.pop_back();
      json users = json::array();
      for (const auto& [address, u] : users_) {
        const std::string user_domain = address.substr(address.find('@') + 1);
        if (user_domain != domain || address.rfind(prefix, 0) != 0 || u.status == "deleted") continue;
        users.push_back({{"user", address}, {"type", "mailbox"}, {"workgroup", "staff"}, {"status", u.status}});
      }
      Reply(res, {{"success", true}, {"count", users.size()}, {"total_count", users.size()}, {"users", users}});
    } else if (method == "get_user_changes") {
      auto it = users_.find(body.value("user", ""));
      if (it == users_.end()) {
        Error(res, 2, "The requested object does not exist");
        return;
      }
      Reply(res, {{"success", true}, {"count", it->second.changes.size()}, {"changes", it->second.changes}});
    } else if (method == "generate_token") {
      if (!users_.count(body.value("user", ""))) {
        Error(res, 2, "The requested object does not exist");
        return;
      }
      if (body.value("reason", "").empty()) {
        Error(res, 5, "Request badly formatted: reason is required");
        return;
      }
      Reply(res, {{"success", true}, {"token", "d39b3ab55786e3a6161f860c3361e2aa"}, {"duration", body.value("duration", 24)}});
    } else {
      Reply(res, {{"success", true}});
    }
  }

  std::string user_, password_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, User> users_;
  std::map<std::string, bool> domains_;
  std::vector<Call> calls_;
  std::atomic<int> delay_ms_{0};
  std::atomic<int> http_failure_{0};
  int audit_ = 0;
};

}  // namespace bot::testing
