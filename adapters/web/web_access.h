// Who may use the web chat: the token check (Authorization: Bearer or the cookie the login sets),
// and the origin checks that keep other web sites out of a token-less loopback chat. Pure
// functions over bot::HttpRequest, shared by the adapter (POST /web/api/turn) and the pages.
#pragma once

#include <string>
#include <string_view>

#include "bot/http.h"
#include "bot/status.h"

namespace bot::web {

// The cookie GET /?token=… sets: HttpOnly, SameSite=Strict, path /.
inline constexpr const char* kTokenCookie = "mailguide_webchat";

struct WebAccess {
  // MAILGUIDE_WEBCHAT_TOKEN. When set, every web request needs it; when empty (allowed only
  // on a loopback listen address, as LoadConfig enforces) none does, but then the Host header
  // must name loopback, so a page on another site cannot reach the chat by DNS rebinding.
  std::string token;
};

// Ok; Unauthenticated when the token is required and missing or wrong; PermissionDenied for a
// foreign Host (token-less mode) or an Origin that is not the Host the request was sent to.
Status CheckAccess(const HttpRequest& request, const WebAccess& access);

// The token the request carries: "Authorization: Bearer T" or the cookie; "" when none.
std::string PresentedToken(const HttpRequest& request);

// Compares in time that depends only on the lengths, not on where the strings differ.
bool TokenEquals(std::string_view given, std::string_view expected);

// The percent-decoded value of query parameter `name` in a request target ("/x?a=1&b=2"); ""
// when absent.
std::string QueryParam(std::string_view target, std::string_view name);
// The target without its query string.
std::string_view PathOf(std::string_view target);

// The Set-Cookie value that stores `token` for the chat's pages.
std::string TokenCookie(const std::string& token, bool secure);

}  // namespace bot::web
