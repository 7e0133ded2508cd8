#include "adapters/web/web_pages.h"

#include <nlohmann/json.hpp>

#include "adapters/web/web_assets.h"
#include "adapters/web/web_map.h"
#include "adapters/web/web_outcomes.h"
#include "adapters/web/web_render.h"

namespace bot::web {

namespace {

// The pages load nothing but their own script and stylesheet.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

HttpResponse Page(int status, const std::string& html) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = html;
  r.headers.emplace("Content-Security-Policy", kCsp);
  r.headers.emplace("X-Content-Type-Options", "nosniff");
  r.headers.emplace("Referrer-Policy", "no-referrer");  // a ?token= must not leak in a Referer
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}

HttpResponse Text(int status, const std::string& content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  r.headers.emplace("X-Content-Type-Options", "nosniff");
  return r;
}

std::string LoginBody(const std::string& action, bool wrong) {
  std::string out = "<div class=\"login\"><h1>mailguide web chat</h1><p>This chat listens on a shared address, so it "
                    "needs the token set in <code>MAILGUIDE_WEBCHAT_TOKEN</code>.</p>";
  if (wrong) out += "<p class=\"error\" role=\"alert\">That token is not right.</p>";
  out += "<form method=\"get\" action=\"" + EscapeHtml(action) +
         "\"><label for=\"token\">Token</label><input id=\"token\" name=\"token\" type=\"password\" "
         "autocomplete=\"current-password\" required autofocus><button type=\"submit\" class=\"send\">Open the "
         "chat</button></form></div>";
  return out;
}

}  // namespace

std::string PageShell(const std::string& title, const std::string& active, const std::string& body,
                      const std::string& script) {
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
      EscapeHtml(title) +
      " — mailguide</title><link rel=\"stylesheet\" href=\"/web/app.css\"></head><body><a class=\"skip\" "
      "href=\"#main\">Skip to content</a><header class=\"top\"><a class=\"brand\" href=\"/\">mailguide</a>"
      "<nav aria-label=\"Pages\"><ul>";
  const std::pair<const char*, const char*> links[] = {{"/", "Chat"}, {"/map", "Flow map"}, {"/outcomes", "Outcomes"}};
  for (const auto& [href, label] : links) {
    html += "<li><a href=\"" + std::string(href) + "\"" + (active == href ? " aria-current=\"page\"" : "") + ">" +
            label + "</a></li>";
  }
  html += "</ul></nav></header><main id=\"main\"" + std::string(active == "/" ? " class=\"narrow\"" : "") + ">" +
          body + "</main>";
  if (!script.empty()) html += "<script src=\"" + EscapeHtml(script) + "\"></script>";
  return html + "</body></html>";
}

WebPages::WebPages(const Content& content, SessionStore& store, WebPagesOptions options)
    : content_(content), store_(store), options_(std::move(options)), map_body_(RenderMapBody(content.flows)) {}

std::vector<std::pair<std::string, PageHandler>> WebPages::Routes() const {
  std::vector<std::pair<std::string, PageHandler>> out;
  for (const char* path : {"/", "/map", "/outcomes", "/outcomes.json", "/web/app.css", "/web/app.js"}) {
    out.emplace_back(path, [this](const HttpRequest& r) { return Handle(r); });
  }
  return out;
}

HttpResponse WebPages::Handle(const HttpRequest& request) const {
  const std::string_view path = PathOf(request.path);
  // The assets are the same for everyone and secret to no one: no token needed.
  if (path == "/web/app.css") {
    HttpResponse r = Text(200, "text/css; charset=utf-8", std::string(AppCssAsset()));
    r.headers.emplace("Cache-Control", "no-cache");
    return r;
  }
  if (path == "/web/app.js") {
    HttpResponse r = Text(200, "text/javascript; charset=utf-8", std::string(AppJsAsset()));
    r.headers.emplace("Cache-Control", "no-cache");
    return r;
  }
  const bool json = path == "/outcomes.json";
  if (path != "/" && path != "/map" && path != "/outcomes" && !json) return Text(404, "text/plain", "not found\n");
  if (HttpResponse refused = Gate(request, json); refused.status != 0) return refused;
  if (path == "/") return Chat(request);
  if (path == "/map") return Map(request);
  if (path == "/outcomes") return Outcomes(request);
  return OutcomesJsonPage(request);
}

HttpResponse WebPages::Gate(const HttpRequest& request, bool json) const {
  Status s = CheckAccess(request, options_.access);
  if (s.ok()) return HttpResponse{0, "", "", {}};
  const std::string path(PathOf(request.path));
  if (s.code() == Status::Code::kUnauthenticated) {
    const std::string given = QueryParam(request.path, "token");
    if (!given.empty() && TokenEquals(given, options_.access.token)) {
      // Keep the token out of the address bar, history and logs from here on.
      HttpResponse r = Page(303, "");
      r.headers.emplace("Location", path);
      r.headers.emplace("Set-Cookie", TokenCookie(given, options_.secure_cookie));
      return r;
    }
    if (json) return Text(401, "application/json", "{\"error\":\"the web chat token is required\"}");
    return Page(401, PageShell("Sign in", "", LoginBody(path, !given.empty())));
  }
  if (json) return Text(403, "application/json", "{\"error\":\"forbidden\"}");
  return Text(403, "text/plain", s.message() + "\n");
}

HttpResponse WebPages::Chat(const HttpRequest&) const {
  return Page(200, PageShell("Chat", "/", std::string(ChatHtmlAsset()), "/web/app.js"));
}

HttpResponse WebPages::Map(const HttpRequest&) const { return Page(200, PageShell("Flow map", "/map", map_body_)); }

HttpResponse WebPages::Outcomes(const HttpRequest& request) const {
  Result<Period> period = ParsePeriod(request.path, options_.clock());
  if (!period.ok()) {
    return Page(400, PageShell("Outcomes", "/outcomes", RenderOutcomesBody(Period{}, {}, period.status().message())));
  }
  auto records = store_.Outcomes(period->since, period->until);
  if (!records.ok()) {
    return Page(503, PageShell("Outcomes", "/outcomes",
                               RenderOutcomesBody(*period, {}, "The session store cannot be read: " +
                                                                   records.status().message())));
  }
  return Page(200, PageShell("Outcomes", "/outcomes",
                             RenderOutcomesBody(*period, SummarizeOutcomes(content_.flows, *records), "")));
}

HttpResponse WebPages::OutcomesJsonPage(const HttpRequest& request) const {
  Result<Period> period = ParsePeriod(request.path, options_.clock());
  if (!period.ok()) {
    return Text(400, "application/json", nlohmann::json{{"error", period.status().message()}}.dump());
  }
  auto records = store_.Outcomes(period->since, period->until);
  if (!records.ok()) {
    return Text(503, "application/json", nlohmann::json{{"error", records.status().message()}}.dump());
  }
  HttpResponse r = Text(200, "application/json",
                        OutcomesJson(*period, SummarizeOutcomes(content_.flows, *records)).dump(2));
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}

}  // namespace bot::web
