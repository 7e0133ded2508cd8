// SlackServerFixture: the real bot::Server over HTTPS on an OS-assigned loopback port, with
// the real SlackAdapter talking to a FakeSlackApi, and an HTTPS client that trusts the
// test certificate and signs requests like Slack. Stops everything it started.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/slack/slack_adapter.h"
#include "adapters/slack/slack_signature.h"
#include "bot/server/httplib_client.h"
#include "bot/server/server.h"
#include "bot/server/tls.h"
#include "support/fake_slack_api.h"
#include "support/process.h"
#include "support/test_log.h"

namespace bot::testing {

inline constexpr const char* kSlackTestSecret = "3f1d9c0e7a5b4e21a8c6d0f2b9e47a15";

// A self-signed pair in a scratch directory, valid for 127.0.0.1 and localhost.
struct TestCertificate {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem";
  std::string key = dir.path() + "/key.pem";
  TestCertificate() {
    Status s = GenerateSelfSignedCertificate(cert, key, {"localhost"}, {"127.0.0.1"}, 2);
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
};

struct SlackServerOptions {
  TurnHandler handler;                               // unset: record and reply with one echo
  Clock slack_clock = UnixNow;                       // the adapter's "now" for signatures
  std::chrono::milliseconds inline_budget{2500};
  int workers = 2;
  size_t max_body_bytes = 1 << 20;
  bool start_adapter = true;                         // call auth.test at start
};

class SlackServerFixture {
 public:
  explicit SlackServerFixture(SlackServerOptions o = {}) : options_(std::move(o)) {
    api_ = std::make_unique<FakeSlackApi>(cert_.cert, cert_.key);
    HttplibClientOptions co;
    co.ca_cert_file = cert_.cert;  // verification stays on: the fake is trusted explicitly
    http_ = std::make_unique<HttplibClient>(co);

    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.tls_cert = cert_.cert;
    so.tls_key = cert_.key;
    so.workers = options_.workers;
    so.inline_budget = options_.inline_budget;
    so.max_body_bytes = options_.max_body_bytes;
    so.log = [this](const std::string& line) { AddLog(line); };
    server_ = std::make_unique<Server>(so);

    slack::SlackAdapterOptions ao;
    ao.signing_secret = kSlackTestSecret;
    ao.bot_token = api_->token();
    ao.api_url = api_->api_url();
    ao.backoff = std::chrono::milliseconds(20);
    ao.clock = options_.slack_clock;
    ao.log = [this](const std::string& line) { AddLog("slack: " + line); };
    ao.defer = [this](const std::string& key, std::function<void()> task) { server_->Defer(key, std::move(task)); };
    adapter_ = std::make_unique<slack::SlackAdapter>(ao, *http_);
    if (options_.start_adapter) start_status_ = adapter_->Start();

    TurnHandler handler = options_.handler;
    if (!handler) {
      handler = [](const Message& m, const Progress&) -> Result<TurnResult> {
        Reply r;
        r.title = "Echo";
        r.paragraphs = {"You said: " + m.text};
        r.step_token = "tok-1";
        r.choices = {{"Yes", "yes", Choice::Style::kPrimary}, {"No", "no", Choice::Style::kDefault}};
        return TurnResult{{r}, TurnStatus::kWaiting};
      };
    }
    TurnHandler recording = [this, handler](const Message& m, const Progress& progress) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        messages_.push_back(m);
      }
      return handler(m, progress);
    };
    for (const char* path : {"/slack/events", "/slack/commands", "/slack/interactivity"}) {
      server_->Mount(path, *adapter_, recording);
    }
    Status s = server_->Start();
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }

  ~SlackServerFixture() { server_->Stop(); }

  Server& server() { return *server_; }
  slack::SlackAdapter& adapter() { return *adapter_; }
  FakeSlackApi& api() { return *api_; }
  const Status& start_status() const { return start_status_; }
  int port() const { return server_->port(); }
  const std::string& cert_path() const { return cert_.cert; }

  std::vector<Message> messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::vector<std::string> logs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return logs_;
  }

  // An HTTPS client that verifies the server against the test certificate.
  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port());
    c->set_ca_cert_path(cert_.cert.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(10);
    return c;
  }

  // POSTs `body` signed as Slack would at `timestamp` (default: now).
  httplib::Result PostSigned(const std::string& path, const std::string& body, const std::string& content_type,
                             httplib::Headers extra = {}, std::string timestamp = "") const {
    if (timestamp.empty()) timestamp = std::to_string(UnixNow());
    extra.emplace("X-Slack-Request-Timestamp", timestamp);
    extra.emplace("X-Slack-Signature", slack::ComputeSlackSignature(kSlackTestSecret, timestamp, body));
    return Client()->Post(path.c_str(), extra, body, content_type.c_str());
  }
  httplib::Result PostJson(const std::string& body, httplib::Headers extra = {}) const {
    return PostSigned("/slack/events", body, "application/json", std::move(extra));
  }
  httplib::Result PostForm(const std::string& body, httplib::Headers extra = {}) const {
    return PostSigned("/slack/events", body, "application/x-www-form-urlencoded", std::move(extra));
  }

 private:
  void AddLog(const std::string& line) {
    AppendTestLog("slack-server", line);
    std::lock_guard<std::mutex> lock(mu_);
    logs_.push_back(line);
  }

  SlackServerOptions options_;
  TestCertificate cert_;
  std::unique_ptr<FakeSlackApi> api_;
  std::unique_ptr<HttplibClient> http_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<slack::SlackAdapter> adapter_;
  Status start_status_;
  mutable std::mutex mu_;
  std::vector<Message> messages_;
  std::vector<std::string> logs_;
};

}  // namespace bot::testing
