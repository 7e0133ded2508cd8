#include "adapters/web/web_access.h"

#include <cctype>

#include "bot/text.h"

namespace bot::web {

namespace {

// "host:port", "[v6]:port" or "host" → host, lower case, brackets dropped.
std::string HostPart(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return Lower(std::string(authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1)));
  }
  const size_t colon = authority.find(':');
  return Lower(std::string(authority.substr(0, colon)));
}

bool IsLoopbackName(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0 ||
         (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool TokenEquals(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is looked at whatever `given` holds.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0 && !expected.empty();
}

std::string PresentedToken(const HttpRequest& request) {
  const std::string auth = Trim(request.Header("Authorization"));
  if (auth.size() > 7 && Lower(auth.substr(0, 7)) == "bearer ") return Trim(std::string_view(auth).substr(7));
  const std::string cookies = request.Header("Cookie");
  std::string_view rest = cookies;
  while (!rest.empty()) {
    const size_t semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(pair.substr(0, eq)) == kTokenCookie) return PercentDecode(Trim(pair.substr(eq + 1)));
  }
  return "";
}

Status CheckAccess(const HttpRequest& request, const WebAccess& access) {
  const std::string host = request.Header("Host");
  if (access.token.empty()) {
    if (!IsLoopbackName(HostPart(host))) {
      return Status::PermissionDenied("the token-less web chat answers only requests addressed to loopback");
    }
  } else if (!TokenEquals(PresentedToken(request), access.token)) {
    return Status::Unauthenticated("the web chat needs MAILGUIDE_WEBCHAT_TOKEN (Authorization: Bearer or the login cookie)");
  }
  // A browser names the page that made a request; only the chat's own pages may call it.
  const std::string origin = request.Header("Origin");
  if (!origin.empty()) {
    const size_t scheme = origin.find("://");
    const std::string authority = Lower(scheme == std::string::npos ? origin : origin.substr(scheme + 3));
    if (authority != Lower(host)) return Status::PermissionDenied("cross-origin request to the web chat refused");
  }
  return Status::Ok();
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

std::string QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view rest = target.substr(q + 1);
  const size_t hash = rest.find('#');
  rest = rest.substr(0, hash);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    }
  }
  return "";
}

std::string TokenCookie(const std::string& token, bool secure) {
  std::string encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : token) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return std::string(kTokenCookie) + "=" + encoded + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

}  // namespace bot::web
