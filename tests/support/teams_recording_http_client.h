// A bot::HttpClient for Teams tests: records every request and answers from canned
// responses per URL (in order; the last one repeats), a default (404) for anything else.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bot/http.h"

namespace bot::testing {

class TeamsRecordingHttpClient final : public HttpClient {
 public:
  struct Call {
    std::string method;
    std::string url;
    Headers headers;
    std::string body;
    std::string Header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? std::string() : it->second;
    }
  };

  // Queues `response` for `url`. Once the last queued response has been served it repeats
  // until something new is queued, which then replaces it.
  void On(const std::string& url, HttpResponse response) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& queue = canned_[url];
    if (queue.size() == 1 && served_[url]) queue.clear();
    served_[url] = false;
    queue.push_back(std::move(response));
  }
  void OnJson(const std::string& url, int status, const std::string& body) {
    HttpResponse r;
    r.status = status;
    r.body = body;
    On(url, std::move(r));
  }
  // What URLs with nothing queued get; 404 unless set.
  void SetDefault(int status, const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    default_.status = status;
    default_.body = body;
  }
  void FailNext(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[url]++;
  }

  Result<HttpResponse> Send(const std::string& method, const std::string& url,
                            const Headers& headers, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({method, url, headers, body});
    if (failures_[url] > 0) {
      failures_[url]--;
      return Status::Unavailable("connection refused (test)");
    }
    auto it = canned_.find(url);
    if (it == canned_.end() || it->second.empty()) return default_;
    HttpResponse r = it->second.front();
    if (it->second.size() > 1) {
      it->second.pop_front();
    } else {
      served_[url] = true;
    }
    return r;
  }

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<Call> CallsTo(const std::string& url_prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Call> out;
    for (const auto& c : calls_) {
      if (c.url.rfind(url_prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<HttpResponse>> canned_;
  std::map<std::string, int> failures_;
  std::map<std::string, bool> served_;
  HttpResponse default_{404, "application/json", "{}", {}};
  std::vector<Call> calls_;
};

}  // namespace bot::testing
