// SlackAdapter: the Slack front end of the server. Verifies request signatures, decodes
// Events API / slash-command / interactivity requests into Messages, renders replies as
// Block Kit and sends them through the Web API or a response_url, with Slack's retry rules.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adapters/slack/slack_json.h"
#include "bot/adapter.h"
#include "bot/clock.h"
#include "bot/http.h"

namespace bot::slack {

struct SlackAdapterOptions {
  std::string signing_secret;                 // Basic Information → Signing Secret
  std::string bot_token;                      // xoxb-…
  std::string api_url = "https://slack.com/api";
  int max_attempts = 4;                       // per outbound call, the first one included
  std::chrono::milliseconds backoff{500};     // after a transient failure; doubles each time
  std::chrono::seconds max_retry_after{60};   // a longer 429 Retry-After gives up instead
  Clock clock = UnixNow;
  // One line per event worth an operator's attention; default: stderr. Never gets secrets.
  std::function<void(const std::string&)> log;
  // Waits between attempts; default std::this_thread::sleep_for. Tests record instead.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Runs work after the HTTP acknowledgement (the share button needs no engine turn but an
  // outbound call). The server passes its worker queue; default: run at once.
  std::function<void(const std::string& key, std::function<void()> task)> defer;
};

// Thread-safe: Verify/Decode run on HTTP threads while Deliver runs on workers.
class SlackAdapter final : public Adapter {
 public:
  // `http` must outlive the adapter.
  SlackAdapter(SlackAdapterOptions options, HttpClient& http);

  const char* Name() const override { return "slack"; }

  // Calls auth.test to learn the bot's own user and bot ids (so it never answers itself).
  // Unauthenticated for a bad token, Unavailable when Slack cannot be reached; the adapter
  // still works without it, dropping bot messages by bot_id and subtype only.
  Status Start();
  BotIdentity identity() const;

  Status Verify(const HttpRequest& request) override;
  Result<Inbound> Decode(const HttpRequest& request) override;
  HttpResponse RenderInline(const Message& message, const TurnResult& turn) override;
  Status Deliver(const Message& message, const TurnResult& turn) override;
  // A thread message (or a click's response_url) that Deliver later rewrites with the answer;
  // for a slash command a separate ephemeral note, since Slack does not reliably let a command
  // replace its own reply (slack.md, response_url caveat).
  bool ShowProgress(const Message& message, const Reply& interim) override;

  // One Web API call (POST api_url/method, JSON, bot token) with 429 Retry-After honoured and
  // transient failures retried with backoff. The response body when "ok" is true; otherwise
  // a Status naming Slack's error code (logged once, in one line, with a hint).
  Result<nlohmann::json> CallApi(const std::string& method, const nlohmann::json& args);
  // A JSON POST to a response_url, with the same retry rules.
  Status PostToResponseUrl(const std::string& url, const nlohmann::json& body);

 private:
  struct Share {
    // The answer as JSON text, shared with its cache entry: kept as a tree, 2,000 remembered
    // answers took ~10 KB each (tests/bench/README.md); parsed only when someone shares.
    std::shared_ptr<const std::string> message;
    int64_t created_at = 0;
  };
  // An answer rendered for a slash command's HTTP response: the body around its share id,
  // and the copy that "Share in channel" posts. Cacheable answers (TurnResult::cacheable)
  // keep theirs, so a repeated lookup costs a string concatenation, not a render.
  struct Rendered {
    std::string head, tail;
    std::shared_ptr<const std::string> shared;
  };
  struct Click {
    ClickContext context;
    int64_t created_at = 0;
  };
  struct Interim {  // a "Checking…" message posted in a thread, to be replaced by the answer
    std::string channel, ts;
    int64_t created_at = 0;
  };

  Result<HttpResponse> SendWithRetry(const std::string& what, const std::string& url,
                                     const Headers& headers, const std::string& body);
  void Log(const std::string& line) const;
  void Sleep(std::chrono::milliseconds d) const;

  std::shared_ptr<const Rendered> Render(const Message& message, const TurnResult& turn) const;
  void RememberShare(std::shared_ptr<const std::string> shared, const std::string& id);
  void HandleShare(const Message& message, const ClickContext& click);
  // Each takes the message to send by value: it becomes the request body, so callers move
  // their rendered message in rather than have it copied.
  Status Replace(const Message& message, const ClickContext* click, SlackMessage m);
  Status PostEphemeral(const Message& message, SlackMessage m);
  Status PostInThread(const Message& message, SlackMessage m);
  Status Update(const Interim& interim, SlackMessage m);
  nlohmann::json ShareBlock(const std::string& share_id) const;

  SlackAdapterOptions options_;
  HttpClient& http_;
  mutable std::mutex mu_;
  BotIdentity identity_;                   // guarded by mu_
  std::map<std::string, Share> shares_;    // guarded by mu_; share id → answer
  // guarded by mu_; workspace, thread, command and text of a cacheable answer → its rendering
  std::unordered_map<std::string, std::shared_ptr<const Rendered>> rendered_;
  std::map<std::string, Click> clicks_;    // guarded by mu_; Message::event_id → where it came from
  int64_t shares_pruned_at_ = -1;          // guarded by mu_; the clock when shares_ was last swept
  std::map<std::string, Interim> interims_;  // guarded by mu_; Message::event_id → its interim
  int64_t clicks_pruned_at_ = -1;          // guarded by mu_; the clock when clicks_ was last swept
  int64_t interims_pruned_at_ = -1;        // guarded by mu_
};

}  // namespace bot::slack
