// TeamsWebhookChat: one person typing in one Teams channel thread to an outgoing webhook, over
// plain HTTP to a `mailguide serve` process: builds the activity from the webhook fixture (a new
// activity id per message unless one is given), signs it with the webhook's HMAC and returns
// the inline answer, so a test can read the bot's reply from the HTTP response itself.
#pragma once

#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "adapters/teams/teams_hmac.h"
#include "support/teams_fixtures.h"

namespace bot::testing {

// base64("mailguide-ops-test-webhook-token!")
inline constexpr const char* kTeamsWebhookTestSecret = "bWFpbGd1aWRlLW9wcy10ZXN0LXdlYmhvb2stdG9rZW4h";

struct WebhookAnswer {
  int status = 0;         // 0: no HTTP answer at all
  std::string body;       // the activity the bot answered with ("" for a repeated delivery)
  std::string request_id; // X-Request-Id
  bool Says(const std::string& text) const { return body.find(text) != std::string::npos; }
};

class TeamsWebhookChat {
 public:
  explicit TeamsWebhookChat(std::string thread = "1485983194839", std::string user = "29:1XJKJMvc5GBtc2Jw")
      : thread_(std::move(thread)), user_(std::move(user)) {}

  // The activity for `text`; `id` "" picks a fresh one.
  std::string Activity(const std::string& text, std::string id = "") {
    if (id.empty()) id = thread_ + "-" + std::to_string(++n_);
    nlohmann::json a = nlohmann::json::parse(ReadTeamsFixture("webhook_message.json"));
    a["id"] = id;
    a["text"] = "<at>mailguide</at> " + text;
    a.erase("attachments");
    a["from"]["id"] = user_;
    a["conversation"]["id"] = "19:253b1f341670408fb6fe51050b6e5ceb@thread.skype;messageid=" + thread_;
    return a.dump();
  }

  WebhookAnswer Post(int port, const std::string& body) const {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    auto auth = teams::ComputeWebhookAuthorization(kTeamsWebhookTestSecret, body);
    httplib::Headers h{{"Authorization", auth.ok() ? *auth : ""}};
    auto res = c.Post("/teams/webhook", h, body, "application/json");
    WebhookAnswer out;
    if (!res) return out;
    out.status = res->status;
    out.body = res->body;
    out.request_id = res->get_header_value("X-Request-Id");
    return out;
  }

  WebhookAnswer Say(int port, const std::string& text) { return Post(port, Activity(text)); }

 private:
  std::string thread_, user_;
  int n_ = 0;
};

}  // namespace bot::testing
