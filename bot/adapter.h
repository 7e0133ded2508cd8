// Adapter: what every HTTP platform front end (Slack, Teams, web) provides to the server.
// The server calls Verify, then Decode, then either answers inline (slash commands, Teams
// outgoing webhooks) or acknowledges at once and calls Deliver from a worker.
#pragma once

#include "bot/engine.h"
#include "bot/http.h"
#include "bot/message.h"
#include "bot/status.h"

namespace bot {

struct Inbound {
  enum class Kind {
    kMessage,  // a turn for the engine
    kRespond,  // answer with `response` and do nothing else (url_verification, ssl_check)
    kIgnore,   // 200 and nothing else (our own messages, event types we don't handle)
  };
  Kind kind = Kind::kIgnore;
  Message message;
  HttpResponse response;
  bool reply_inline = false;  // kMessage: run the engine now and answer in the HTTP response
};

class Adapter {
 public:
  Adapter() = default;
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;
  virtual ~Adapter() = default;

  virtual const char* Name() const = 0;

  // Authenticity, before anything parses the body. Unauthenticated → 401,
  // PermissionDenied → 403. Never logs or echoes secrets.
  virtual Status Verify(const HttpRequest& request) = 0;

  // The request as the core's Inbound. InvalidArgument → 400 with a one-line reason.
  virtual Result<Inbound> Decode(const HttpRequest& request) = 0;

  // The HTTP response carrying the engine's replies, for inline answers.
  virtual HttpResponse RenderInline(const Message& message, const TurnResult& turn) = 0;

  // Sends the replies through the platform's API; called from a worker thread.
  virtual Status Deliver(const Message& message, const TurnResult& turn) = 0;

  // Shows `interim` ("Checking example.com…") while the rest of the turn runs; Deliver then
  // puts the turn's first reply in its place where the platform allows. Called from a worker
  // thread, at most once per turn, before Deliver. False when this platform cannot show it:
  // the answer then simply comes when it is ready (an inline turn keeps its request waiting).
  virtual bool ShowProgress(const Message& message, const Reply& interim) {
    (void)message;
    (void)interim;
    return false;
  }
};

}  // namespace bot
