// RecordingHttpClient: a bot::HttpClient for tests that records every request and answers
// with canned responses (default: 200 {"ok":true}). No network.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "bot/http.h"

namespace bot::testing {

struct RecordedRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
};

class RecordingHttpClient final : public HttpClient {
 public:
  // The next Send answers with `response` (queued in order); Unavailable when `fail`.
  void Enqueue(HttpResponse response) {
    std::lock_guard<std::mutex> lock(mu_);
    canned_.push_back({std::move(response), false});
  }
  void EnqueueJson(int status, const std::string& body) {
    HttpResponse r;
    r.status = status;
    r.body = body;
    Enqueue(std::move(r));
  }
  void EnqueueNetworkFailure() {
    std::lock_guard<std::mutex> lock(mu_);
    canned_.push_back({HttpResponse{}, true});
  }

  Result<HttpResponse> Send(const std::string& method, const std::string& url, const Headers& headers,
                            const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back({method, url, headers, body});
    if (canned_.empty()) {
      HttpResponse ok;
      ok.body = R"({"ok":true,"channel":"C0123456789","ts":"1700000999.000100"})";
      return ok;
    }
    auto [response, fail] = canned_.front();
    canned_.pop_front();
    if (fail) return Status::Unavailable("connection refused (canned)");
    return response;
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::deque<std::pair<HttpResponse, bool>> canned_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace bot::testing
