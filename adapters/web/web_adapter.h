// WebAdapter: the built-in chat page's front end of the server (POST /web/api/turn). The page
// sends one JSON turn (conversation id, text or command or clicked choice + step token); the
// turn runs through the same engine and store as Slack's and Teams', and the replies come
// back in the HTTP response as HTML fragments from web_render.h.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/web/web_access.h"
#include "bot/adapter.h"

namespace bot::web {

// The request body (application/json):
//   {"conversation": "c-…", "user": "u-…", "id": "m-…",
//    "text": "…" | "command": "smtp-code"|"mailguide", "text": "…" |
//    "choice": "yes", "step_token": "…" | "poll": true}
// `conversation` and `user` are the page's own ids from localStorage (1–64 of A–Z a–z 0–9 - _);
// `user` defaults to the conversation; `id` (optional) makes a resent turn a repeat. The answer:
//   {"status": "waiting"|"completed"|"ignored", "replies": [{"html": "<article…>",
//    "step_token": "…", "asks": true}]}
// An empty 200 means the turn missed the server's inline budget: its replies are kept, and the
// page fetches them with {"conversation": …, "poll": true}.
struct WebAdapterOptions {
  WebAccess access;
  std::string workspace = "local";  // ConversationRef::workspace of every web conversation
};

// Thread-safe.
class WebAdapter final : public Adapter {
 public:
  explicit WebAdapter(WebAdapterOptions options) : options_(std::move(options)) {}

  const char* Name() const override { return "web"; }

  // CheckAccess (token, Host, Origin).
  Status Verify(const HttpRequest& request) override;
  // InvalidArgument (400) for anything but a well-formed JSON turn as above.
  Result<Inbound> Decode(const HttpRequest& request) override;
  HttpResponse RenderInline(const Message& message, const TurnResult& turn) override;
  // Late replies (the turn missed the inline budget): kept for the page's next poll or turn.
  Status Deliver(const Message& message, const TurnResult& turn) override;

 private:
  std::vector<std::string> TakePending(const std::string& key);

  WebAdapterOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> pending_;  // guarded by mu_; key → reply JSON
};

}  // namespace bot::web
