// The web chat's GET pages: the chat page (/), the flow map (/map), the outcomes page
// (/outcomes, /outcomes.json) and the static assets (/web/app.css, /web/app.js). Mounted
// only when MAILGUIDE_WEBCHAT=1; every page but the assets needs the token when one is set,
// and a page opened as /?token=T stores it in a cookie and redirects to itself without it.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/web/web_access.h"
#include "bot/clock.h"
#include "bot/content.h"
#include "bot/http.h"
#include "bot/session_store.h"

namespace bot::web {

struct WebPagesOptions {
  WebAccess access;
  bool secure_cookie = false;  // served over HTTPS: the token cookie gets Secure
  Clock clock = UnixNow;       // "today" for the outcome periods
};

using PageHandler = std::function<HttpResponse(const HttpRequest&)>;

// Thread-safe: handlers only read `content` and call the thread-safe store.
class WebPages {
 public:
  // `content` and `store` must outlive the pages.
  WebPages(const Content& content, SessionStore& store, WebPagesOptions options);

  // Every path with its handler, for Server::MountPage.
  std::vector<std::pair<std::string, PageHandler>> Routes() const;

  // Serves `request` by its path (the query string ignored); 404 for a path not in Routes().
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  HttpResponse Chat(const HttpRequest& request) const;
  HttpResponse Map(const HttpRequest& request) const;
  HttpResponse Outcomes(const HttpRequest& request) const;
  HttpResponse OutcomesJsonPage(const HttpRequest& request) const;
  // nullopt-like: status 0 when the request may proceed; otherwise the refusal to send.
  HttpResponse Gate(const HttpRequest& request, bool json) const;

  const Content& content_;
  SessionStore& store_;
  WebPagesOptions options_;
  std::string map_body_;  // the flow map, drawn once
};

// A whole HTML page around `body`: the header with the page links (`active` is "/",
// "/map" or "/outcomes") and the stylesheet; `script` adds <script src=…> when non-empty.
std::string PageShell(const std::string& title, const std::string& active, const std::string& body,
                      const std::string& script = "");

}  // namespace bot::web
