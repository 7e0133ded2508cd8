// Finding SMTP codes in free text. See reference/smtp-codes.md §2–3 for the rules followed here:
// a basic code counts only where a reply starts, an enhanced code only right after a basic code,
// in a Status: field or as qmail's (#x.y.z); quoted original messages are not read.
#include "bot/smtp/bounce_parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace bot::smtp {
namespace {

constexpr int kMaxDepth = 12;           // MIME nesting
constexpr size_t kMaxReplyText = 1200;  // words kept per reply
constexpr size_t kMaxParts = 200;
constexpr size_t kMaxHits = 2000;         // codes kept per message; the rest is not scanned

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (Lower(s[i]) != Lower(prefix[i])) return false;
  return true;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && Lower(hay[i + j]) == Lower(needle[j])) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Code shapes.

// Length of an enhanced code starting at s[p] ("5.7.26" → 6), 0 when there is none. Checks only
// the right edge: no digit after it, and no ".<digit>" (IPs, versions).
size_t EnhancedLenAt(std::string_view s, size_t p) {
  if (p >= s.size()) return 0;
  char c = s[p];
  if (c != '2' && c != '4' && c != '5') return 0;
  size_t i = p + 1;
  if (i >= s.size() || s[i] != '.') return 0;
  ++i;
  size_t n = 0;
  while (i < s.size() && IsDigit(s[i]) && n < 4) ++i, ++n;
  if (n == 0 || n > 3) return 0;
  if (i >= s.size() || s[i] != '.') return 0;
  ++i;
  n = 0;
  while (i < s.size() && IsDigit(s[i]) && n < 4) ++i, ++n;
  if (n == 0 || n > 3) return 0;
  if (i < s.size()) {
    char d = s[i];
    if (IsDigit(d) || IsAlpha(d) || d == '_') return 0;
    if ((d == '.' || d == '-' || d == ',') && i + 1 < s.size() && IsDigit(s[i + 1])) return 0;
  }
  return i - p;
}

// True when s[p..p+3) is a basic reply code with a sane right edge.
bool BasicAt(std::string_view s, size_t p) {
  if (p + 3 > s.size()) return false;
  if (s[p] < '2' || s[p] > '5') return false;
  if (s[p + 1] < '0' || s[p + 1] > '5') return false;
  if (!IsDigit(s[p + 2])) return false;
  if (p + 3 == s.size()) return true;
  char d = s[p + 3];
  if (d == ' ' || d == '\t' || d == '\n') return true;
  if (d == '-') {
    // "550-5.7.26" or "550-Mailbox ..." but not "550-2231" or "555-0100".
    if (p + 4 >= s.size()) return true;
    if (!IsDigit(s[p + 4])) return true;
    return EnhancedLenAt(s, p + 4) > 0;
  }
  return false;
}

bool LeftEdgeOk(std::string_view s, size_t p) {
  if (p == 0) return true;
  char b = s[p - 1];
  if (IsAlnum(b)) return false;
  if (b == '.' || b == '/' || b == '_' || b == '=' || b == '+' || b == '@' || b == '$' ||
      b == '%' || b == '&' || b == ',' || b == '-' || b == '*' || b == '\\')
    return false;
  if (b == ':' && p >= 2 && IsDigit(s[p - 2])) return false;  // times: 14:03
  if (static_cast<unsigned char>(b) >= 0x80) return false;    // glued to non-ASCII text
  return true;
}

// Words that turn a number into a quantity, not a reply: "500 messages", "450 seconds".
bool FollowedByUnit(std::string_view s, size_t p) {
  size_t i = p;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  size_t e = i;
  while (e < s.size() && e - i < 12 && (IsAlpha(s[e]) || s[e] == '%')) ++e;
  std::string word = ToLower(s.substr(i, e - i));
  static constexpr std::array<std::string_view, 24> kUnits = {
      "bytes", "byte", "kb", "mb", "gb", "kib", "mib", "ms", "sec", "secs", "seconds", "minutes",
      "mins", "hours", "days", "messages", "recipients", "octets", "percent", "%", "times", "mails",
      "emails", "users"};
  for (auto u : kUnits)
    if (word == u) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Text lines gathered from the message (decoded, quoted material left out).

struct TextLine {
  std::string text;
  int line = 0;  // 1-based input line
};

struct Header {
  std::string name;   // lower case
  std::string value;  // unfolded
};

struct Gather {
  std::vector<TextLine> lines;
  std::string subject;
  std::string from;  // lower case
  bool feedback = false;
  bool auto_submitted = false;
  bool autoreply_subject = false;
  bool report = false;  // multipart/report delivery-status seen
  size_t parts = 0;
  size_t bytes = 0;
  std::vector<std::pair<size_t, size_t>> embedded;  // message/rfc822 parts (line ranges)
};

// Lines that start the returned original message (or its headers): stop reading there.
bool IsCutMarker(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.size() < 8) return false;
  std::string l = ToLower(t.substr(0, 160));
  static constexpr std::array<std::string_view, 21> kMarkers = {
      "below this line is a copy of the message",
      "this is a copy of the message",
      "original message headers",
      "original message follows",
      "original message header",
      "the header of the original message",
      "headers of the original message",
      "header of original message",
      "------ original message",
      "----- original message",
      "--- original message",
      "-----original message-----",
      "unsent message below",
      "message headers follow",
      "content-type: message/rfc822",
      "content-type: text/rfc822-headers",
      "content-type: message/rfc822-headers",
      "content-type: message/global",
      "--- the original message ---",
      "a copy of the original message",
      "returned message follows",
  };
  if (l == "original message:") return true;
  for (auto m : kMarkers)
    if (l.find(m) != std::string::npos) return true;
  return false;
}

// Splits "a; b=c; boundary=\"x\"" parameters.
std::string HeaderParam(std::string_view value, std::string_view name) {
  std::string lower = ToLower(value);
  size_t pos = 0;
  while ((pos = lower.find(name, pos)) != std::string::npos) {
    bool left_ok = pos == 0 || lower[pos - 1] == ';' || IsSpace(lower[pos - 1]);
    size_t eq = pos + name.size();
    while (eq < lower.size() && IsSpace(lower[eq])) ++eq;
    if (left_ok && eq < lower.size() && lower[eq] == '=') {
      size_t v = eq + 1;
      while (v < value.size() && IsSpace(value[v])) ++v;
      if (v < value.size() && value[v] == '"') {
        size_t end = value.find('"', v + 1);
        if (end == std::string_view::npos) end = value.size();
        return std::string(value.substr(v + 1, end - v - 1));
      }
      size_t end = v;
      while (end < value.size() && value[end] != ';' && !IsSpace(value[end])) ++end;
      return std::string(value.substr(v, end - v));
    }
    pos += name.size();
  }
  return "";
}

bool IsFieldName(std::string_view line, size_t* colon) {
  size_t i = 0;
  while (i < line.size() && i < 80) {
    char c = line[i];
    if (c == ':') break;
    if (!(IsAlnum(c) || c == '-' || c == '_')) return false;
    ++i;
  }
  if (i == 0 || i >= line.size() || line[i] != ':') return false;
  if (colon) *colon = i;
  return true;
}

struct Lines {
  std::vector<std::string_view> v;
};

Lines SplitLines(std::string_view s) {
  Lines out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      out.v.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (start < s.size()) out.v.push_back(s.substr(start));
  return out;
}

// Parses a header block; returns the index of the first body line.
size_t ParseHeaders(const Lines& lines, size_t from, std::vector<Header>* headers) {
  size_t i = from;
  for (; i < lines.v.size(); ++i) {
    std::string_view l = lines.v[i];
    if (Trim(l).empty()) return i + 1;
    if ((l[0] == ' ' || l[0] == '\t') && !headers->empty()) {
      if (headers->back().value.size() < 4000) {
        headers->back().value += ' ';
        headers->back().value += std::string(Trim(l));
      }
      continue;
    }
    size_t colon = 0;
    if (!IsFieldName(l, &colon)) {
      if (StartsWithNoCase(l, "From ") && i == from) continue;  // mbox separator
      return i;  // not a header: the body starts here
    }
    headers->push_back({ToLower(l.substr(0, colon)), std::string(Trim(l.substr(colon + 1)))});
  }
  return i;
}

const Header* FindHeader(const std::vector<Header>& h, std::string_view name) {
  for (const auto& x : h)
    if (x.name == name) return &x;
  return nullptr;
}

// Decoded text of a part, as lines with approximate input line numbers.
void AddText(Gather& g, std::string_view body, int first_line, const std::string& cte,
             bool html, bool stop_at_cut) {
  std::vector<TextLine> out;
  if (cte == "quoted-printable") {
    Lines lines = SplitLines(body);
    std::string logical;
    int start_line = first_line;
    bool open = false;
    for (size_t i = 0; i < lines.v.size(); ++i) {
      std::string_view l = lines.v[i];
      if (!open) start_line = first_line + static_cast<int>(i);
      bool soft = !l.empty() && l.back() == '=';
      if (soft) l.remove_suffix(1);
      logical.append(l);
      if (logical.size() > 20000) soft = false;
      if (soft) {
        open = true;
        continue;
      }
      open = false;
      std::string decoded = DecodeQuotedPrintable(logical);
      for (auto& part : SplitLines(decoded).v) out.push_back({std::string(part), start_line});
      if (decoded.empty()) out.push_back({"", start_line});
      logical.clear();
    }
    if (!logical.empty()) out.push_back({DecodeQuotedPrintable(logical), start_line});
  } else if (cte == "base64") {
    std::string decoded = DecodeBase64(body);
    for (char& c : decoded)
      if (c == '\r') c = '\n';
    for (auto& part : SplitLines(decoded).v) out.push_back({std::string(part), first_line});
  } else {
    Lines lines = SplitLines(body);
    for (size_t i = 0; i < lines.v.size(); ++i)
      out.push_back({std::string(lines.v[i]), first_line + static_cast<int>(i)});
  }
  if (html) {
    // Strip tags; block ends become line breaks. Line numbers stay those of the source line.
    std::vector<TextLine> text;
    bool in_tag = false, in_style = false;
    std::string tag;
    for (auto& tl : out) {
      std::string cur;
      for (size_t i = 0; i < tl.text.size(); ++i) {
        char c = tl.text[i];
        if (in_tag) {
          if (c == '>') {
            in_tag = false;
            std::string t = ToLower(tag);
            if (t.rfind("style", 0) == 0 || t.rfind("script", 0) == 0) in_style = true;
            if (t.rfind("/style", 0) == 0 || t.rfind("/script", 0) == 0) in_style = false;
            if (t.rfind("br", 0) == 0 || t.rfind("/p", 0) == 0 || t.rfind("/div", 0) == 0 ||
                t.rfind("/tr", 0) == 0 || t.rfind("/li", 0) == 0 || t.rfind("p", 0) == 0 ||
                t.rfind("/h", 0) == 0 || t.rfind("/td", 0) == 0 || t.rfind("/pre", 0) == 0) {
              text.push_back({cur, tl.line});
              cur.clear();
            }
          } else if (tag.size() < 40) {
            tag += c;
          }
          continue;
        }
        if (c == '<') {
          in_tag = true;
          tag.clear();
          continue;
        }
        if (in_style) continue;
        if (c == '&') {
          static constexpr std::array<std::pair<std::string_view, char>, 7> kEnt = {{
              {"&nbsp;", ' '}, {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'},
              {"&quot;", '"'}, {"&#39;", '\''}, {"&#160;", ' '}}};
          bool done = false;
          for (auto& [name, ch] : kEnt) {
            if (tl.text.compare(i, name.size(), name) == 0) {
              cur += ch;
              i += name.size() - 1;
              done = true;
              break;
            }
          }
          if (done) continue;
        }
        cur += c;
      }
      text.push_back({cur, tl.line});
    }
    out.swap(text);
  }
  for (auto& tl : out) {
    if (g.bytes > kMaxInputBytes * 2) break;
    if (stop_at_cut && IsCutMarker(tl.text)) break;
    g.bytes += tl.text.size();
    g.lines.push_back(std::move(tl));
  }
}

void WalkEntity(Gather& g, const Lines& lines, size_t begin, size_t end, int depth, bool top);

std::string ContentTypeOf(const std::vector<Header>& h) {
  const Header* ct = FindHeader(h, "content-type");
  if (!ct) return "";
  std::string v = ToLower(ct->value);
  size_t semi = v.find(';');
  return std::string(Trim(std::string_view(v).substr(0, semi)));
}

void WalkMultipart(Gather& g, const Lines& lines, size_t begin, size_t end, int depth,
                   const std::string& boundary, bool alternative) {
  std::string open = "--" + boundary;
  std::vector<std::pair<size_t, size_t>> parts;
  size_t part_start = std::string::npos;
  for (size_t i = begin; i < end; ++i) {
    std::string_view l = lines.v[i];
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
    if (l.size() >= open.size() && l.compare(0, open.size(), open) == 0) {
      std::string_view rest = l.substr(open.size());
      if (rest.empty() || rest == "--") {
        if (part_start != std::string::npos) parts.push_back({part_start, i});
        part_start = rest.empty() ? i + 1 : std::string::npos;
        if (rest == "--") break;
      }
    }
  }
  if (part_start != std::string::npos) parts.push_back({part_start, end});
  if (parts.empty()) {
    // No boundary found: read it as plain text.
    WalkEntity(g, lines, begin, end, kMaxDepth, false);
    return;
  }
  if (alternative) {
    // Same content twice: prefer the plain-text alternative, count the codes once.
    size_t chosen = parts.size();
    for (size_t k = 0; k < parts.size(); ++k) {
      std::vector<Header> h;
      ParseHeaders(lines, parts[k].first, &h);
      std::string ct = ContentTypeOf(h);
      if (ct.empty() || ct == "text/plain") {
        chosen = k;
        break;
      }
    }
    if (chosen == parts.size()) chosen = 0;
    WalkEntity(g, lines, parts[chosen].first, parts[chosen].second, depth + 1, false);
    return;
  }
  for (auto& [b, e] : parts) {
    if (++g.parts > kMaxParts) break;
    WalkEntity(g, lines, b, e, depth + 1, false);
  }
}

std::string Body(const Lines& lines, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    out.append(lines.v[i]);
    out += '\n';
  }
  return out;
}

bool LooksLikeEmailHeaders(const std::vector<Header>& h) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "received", "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
      "return-path", "delivered-to", "x-original-to", "reply-to"};
  int known = 0;
  for (const auto& x : h)
    for (auto n : kNames)
      if (x.name == n) ++known;
  return known >= 2 || (known >= 1 && h.size() >= 3);
}

void WalkEntity(Gather& g, const Lines& lines, size_t begin, size_t end, int depth, bool top) {
  if (begin >= end) return;
  std::vector<Header> headers;
  size_t body = begin;
  bool has_headers = false;
  if (depth < kMaxDepth) {
    size_t colon = 0;
    // A part (or a pasted email) begins with header fields; a pasted fragment may not.
    size_t first = begin;
    if (top && StartsWithNoCase(lines.v[first], "From ") ) ++first;
    if (first < end && (IsFieldName(lines.v[first], &colon) || (!top && Trim(lines.v[first]).empty()))) {
      std::vector<Header> h;
      size_t b = ParseHeaders(lines, first, &h);
      if (b > end) b = end;
      bool email = top ? LooksLikeEmailHeaders(h) : true;
      if (!top && !h.empty()) {
        // Inside MIME, only treat it as headers when a Content-* field is there, or the block
        // ends with a blank line (the normal case).
        email = true;
      }
      if (email) {
        headers.swap(h);
        body = b;
        has_headers = true;
      }
    }
  }
  std::string ct = has_headers ? ContentTypeOf(headers) : "";
  std::string cte;
  if (const Header* x = FindHeader(headers, "content-transfer-encoding")) cte = ToLower(Trim(x->value));
  if (top && has_headers) {
    if (const Header* s = FindHeader(headers, "subject")) {
      g.subject = s->value;
      std::string l = ToLower(s->value);
      for (std::string_view k : {"auto:", "automatic reply", "autoreply", "auto-reply", "auto reply",
                                 "out of office", "out of the office", "vacation", "away from"}) {
        if (l.find(k) != std::string::npos) g.autoreply_subject = true;
      }
    }
    if (const Header* f = FindHeader(headers, "from")) g.from = ToLower(f->value);
    if (const Header* a = FindHeader(headers, "auto-submitted"))
      if (ContainsNoCase(a->value, "auto-replied")) g.auto_submitted = true;
    if (FindHeader(headers, "x-autoreply") || FindHeader(headers, "x-autorespond")) g.auto_submitted = true;
  }
  if (ct.rfind("multipart/", 0) == 0 && depth < kMaxDepth) {
    const Header* h = FindHeader(headers, "content-type");
    std::string boundary = h ? HeaderParam(h->value, "boundary") : "";
    std::string report_type = h ? ToLower(HeaderParam(h->value, "report-type")) : "";
    if (report_type == "feedback-report") g.feedback = true;
    if (report_type == "delivery-status") g.report = true;
    if (boundary.empty()) {
      // Broken folding ("boundary=" on an unindented line): take the first "--x" line as the boundary.
      for (size_t i = body; i < end && i < body + 40; ++i) {
        std::string_view l = Trim(lines.v[i]);
        if (l.size() > 3 && l[0] == '-' && l[1] == '-') {
          boundary = std::string(l.substr(2));
          break;
        }
      }
    }
    if (!boundary.empty()) {
      WalkMultipart(g, lines, body, end, depth, boundary, ct == "multipart/alternative");
      return;
    }
  }
  if (ct == "message/feedback-report") {
    g.feedback = true;
    return;
  }
  if (ct == "message/rfc822" && g.embedded.size() < 4) g.embedded.push_back({body, end});
  if (ct == "message/rfc822" || ct == "text/rfc822-headers" || ct == "message/rfc822-headers" ||
      ct == "message/global" || ct == "message/global-headers" || ct == "message/partial" ||
      ct == "message/external-body") {
    return;  // the returned original: not the bounce's own words
  }
  bool dsn = ct == "message/delivery-status" || ct == "message/global-delivery-status";
  bool text_like = ct.empty() || ct.rfind("text/", 0) == 0 || dsn;
  if (!text_like) return;  // images, attachments
  std::string b = Body(lines, body, end);
  AddText(g, b, static_cast<int>(body) + 1, cte, ct == "text/html", !dsn);
}

// ---------------------------------------------------------------------------------------------
// Preparing the raw input.

std::string Normalize(std::string_view in) {
  if (in.size() > kMaxInputBytes) in = in.substr(0, kMaxInputBytes);
  std::string out;
  out.reserve(in.size());
  bool jis = false;  // inside ISO-2022-JP double-byte text: its bytes are not our digits
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\x1b' && i + 2 < in.size()) {
      if (in[i + 1] == '$' && (in[i + 2] == 'B' || in[i + 2] == '@')) {
        jis = true;
        i += 2;
        out += ' ';
        continue;
      }
      if (in[i + 1] == '(' && (in[i + 2] == 'B' || in[i + 2] == 'J')) {
        jis = false;
        i += 2;
        out += ' ';
        continue;
      }
    }
    if (c == '\r') {
      if (i + 1 < in.size() && in[i + 1] == '\n') continue;
      c = '\n';
    }
    if (c == '\n') jis = false;
    if (jis) {
      out += '\x7f';
      continue;
    }
    if (c == '\0') c = ' ';
    out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scanning the gathered lines.

struct Buffer {
  std::string text;                 // lines joined with '\n'
  std::vector<size_t> line_start;   // offset of each gathered line
  std::vector<int> line_no;         // input line of each gathered line
  int LineAt(size_t pos) const {
    auto it = std::upper_bound(line_start.begin(), line_start.end(), pos);
    size_t idx = static_cast<size_t>(it - line_start.begin());
    return idx == 0 ? 1 : line_no[idx - 1];
  }
  size_t IndexAt(size_t pos) const {
    auto it = std::upper_bound(line_start.begin(), line_start.end(), pos);
    size_t idx = static_cast<size_t>(it - line_start.begin());
    return idx == 0 ? 0 : idx - 1;
  }
};

// Where a reply may start: the text before the code on its line is empty, only quote/transcript
// marks, or ends with a marker that introduces a server's words.
bool ReplyStartContext(std::string_view line_prefix) {
  // Only the end of the prefix matters; looking further would make long lines quadratic.
  constexpr size_t kWindow = 96;
  bool cut = line_prefix.size() > kWindow;
  std::string_view p = cut ? line_prefix.substr(line_prefix.size() - kWindow) : line_prefix;
  while (!p.empty() && (IsSpace(p.back()) || p.back() == '\'' || p.back() == '"' || p.back() == '(' ||
                        p.back() == '[' || p.back() == '<' || p.back() == '#' || p.back() == '`'))
    p.remove_suffix(1);
  if (p.empty()) return !cut;
  bool marks_only = !cut;
  for (char c : p)
    if (!(c == '<' || c == '>' || c == '#' || c == '|' || c == '*' || c == '-' || IsSpace(c) || c == '\'' ||
          c == '"' || c == '(' || c == '[' || c == ']' || c == ')')) marks_only = false;
  if (marks_only) {
    // ">>> RCPT TO" lines are what the client sent; never a reply.
    return p.find(">>>") == std::string_view::npos;
  }
  char last = p.back();
  if (last == ':' || last == ';') {
    if (p.size() >= 2 && IsDigit(p[p.size() - 2])) return false;  // "at 14:03:"
    return true;
  }
  if (last == '>' && p.size() >= 2 && (p[p.size() - 2] == '-' || p[p.size() - 2] == '<' || p[p.size() - 2] == '>')) {
    // "SERVER -> CLIENT", "<<<", "->": but not ">>>"
    return p.find(">>>") == std::string_view::npos || p.find("<<<") != std::string_view::npos;
  }
  std::string tail = ToLower(p.substr(p.size() > 24 ? p.size() - 24 : 0));
  for (std::string_view w : {"returned", "said", "replied", "response", "answered", "error", "reason",
                             "reply", "smtp", "with", "code", "responsecode"}) {
    if (tail.size() >= w.size() && tail.compare(tail.size() - w.size(), w.size(), w) == 0) {
      size_t b = tail.size() - w.size();
      if (b == 0 || !IsAlpha(tail[b - 1])) return true;
    }
  }
  return false;
}

struct Hit {
  ParsedReply r;
  size_t pos = 0;       // offset of the first code char in the buffer
  size_t end = 0;       // offset just past the code(s)
  bool hyphen = false;  // "550-..." continuation marker
  size_t line_index = 0;
  size_t text_end = 0;  // offset where the reply's words end
};

std::string ReplyTextAfter(const Buffer& b, size_t end, size_t* text_end) {
  // The rest of the line plus following indented lines (wrapped reply, folded field).
  std::string out;
  size_t i = end;
  const std::string& s = b.text;
  size_t nl = s.find('\n', i);
  if (nl == std::string::npos) nl = s.size();
  out.append(s, i, std::min(nl - i, kMaxReplyText));
  int extra = 0;
  while (nl < s.size() && extra < 12 && out.size() < kMaxReplyText) {
    size_t next = nl + 1;
    if (next >= s.size()) break;
    size_t nend = s.find('\n', next);
    if (nend == std::string::npos) nend = s.size();
    std::string_view l(s.data() + next, nend - next);
    if (l.empty() || !(l[0] == ' ' || l[0] == '\t')) break;
    std::string_view t = Trim(l);
    if (t.empty()) break;
    out += ' ';
    out.append(t.substr(0, kMaxReplyText - std::min(kMaxReplyText, out.size())));
    nl = nend;
    ++extra;
  }
  if (text_end) *text_end = nl;
  return out;
}

bool IsSuccessClass(const ParsedReply& r) {
  char c = !r.basic.empty() ? r.basic[0] : (!r.enhanced.empty() ? r.enhanced[0] : '0');
  return c == '2' || c == '3';
}

char ClassOf(const ParsedReply& r) {
  if (!r.basic.empty()) return r.basic[0];
  if (!r.enhanced.empty()) return r.enhanced[0];
  return '0';
}

bool GenericEnhanced(const std::string& e) {
  return e.size() >= 5 && e.compare(1, 4, ".0.0") == 0 && e.size() == 5;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool IsBasicCode(std::string_view s) {
  return s.size() == 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '5' && IsDigit(s[2]);
}

bool IsEnhancedCode(std::string_view s) {
  return !s.empty() && EnhancedLenAt(s, 0) == s.size();
}

std::string DecodeQuotedPrintable(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '=') {
      {
        int h = i + 1 < in.size() ? hex(in[i + 1]) : -1;
        int l = i + 2 < in.size() ? hex(in[i + 2]) : -1;
        if (h >= 0 && l >= 0) {
          char d = static_cast<char>(h * 16 + l);
          i += 2;
          if (d == '\r') {
            // =0D=0A is one line break.
            if (i + 3 < in.size() && in[i + 1] == '=' && in[i + 2] == '0' && (in[i + 3] == 'A' || in[i + 3] == 'a')) i += 3;
            d = '\n';
          }
          out += d;
          continue;
        }
      }
      if (i + 1 == in.size()) continue;  // a soft break left at the end
    }
    out += c;
  }
  return out;
}

std::string DecodeBase64(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

namespace {

ParsedBounce Scan(Gather& g) {
  ParsedBounce result;

  // Join the gathered lines into one buffer (wrapped pairs may cross a line end).
  Buffer b;
  for (auto& tl : g.lines) {
    b.line_start.push_back(b.text.size());
    b.line_no.push_back(tl.line);
    b.text += tl.text;
    b.text += '\n';
  }
  const std::string& s = b.text;

  // DSN fields: which lines belong to a Diagnostic-Code / Status field, and Action values.
  size_t n = g.lines.size();
  std::vector<char> diag_line(n, 0);
  std::vector<char> status_line(n, 0);
  bool action_failed = false, action_delayed = false, action_delivered = false;
  std::string first_status, diag_text;
  {
    int field = 0;  // 0 none, 1 diagnostic, 2 status
    for (size_t i = 0; i < n; ++i) {
      std::string_view l = g.lines[i].text;
      if (!l.empty() && (l[0] == ' ' || l[0] == '\t') && field != 0) {
        if (field == 1) diag_line[i] = 1;
        continue;
      }
      field = 0;
      std::string_view t = Trim(l);
      if (StartsWithNoCase(t, "diagnostic-code:")) {
        field = 1;
        diag_line[i] = 1;
      } else if (StartsWithNoCase(t, "status:")) {
        field = 2;
        status_line[i] = 1;
      } else if (StartsWithNoCase(t, "action:")) {
        std::string v = ToLower(Trim(t.substr(7)));
        if (v.rfind("failed", 0) == 0) action_failed = true;
        else if (v.rfind("delayed", 0) == 0) action_delayed = true;
        else if (v.rfind("delivered", 0) == 0 || v.rfind("relayed", 0) == 0 || v.rfind("expanded", 0) == 0)
          action_delivered = true;
      } else if (StartsWithNoCase(t, "feedback-type:")) {
        g.feedback = true;
      }
    }
  }

  // Find the codes.
  std::vector<Hit> hits;
  size_t consumed_until = 0;
  for (size_t p = 0; p < s.size() && hits.size() < kMaxHits; ++p) {
    if (!IsDigit(s[p]) || p < consumed_until) continue;
    if (!LeftEdgeOk(s, p)) {
      // '#' before an enhanced code is fine ("#5.1.1"); LeftEdgeOk already allows '#'.
      continue;
    }
    size_t li = b.IndexAt(p);
    size_t ls = b.line_start[li];
    std::string_view prefix(s.data() + ls, p - ls);
    bool in_status = status_line[li] && Trim(prefix).size() <= 7 + 1 && StartsWithNoCase(Trim(prefix), "status:");
    bool start_ctx = ReplyStartContext(prefix) || diag_line[li];
    bool hash = p > 0 && s[p - 1] == '#';

    // "ERROR_CODE :550, ERROR_CODE :5.1.1" (Zoho): a comma may end a code right after a colon.
    bool comma_code = p + 3 < s.size() && s[p + 3] == ',' && start_ctx && !Trim(prefix).empty() &&
                      IsBasicCode(std::string_view(s).substr(p, 3));
    // "550: 5.2.2 ..." and, at the start of a line, "550: : User unknown".
    bool colon_code = p + 5 < s.size() && s[p + 3] == ':' && s[p + 4] == ' ' &&
                      (EnhancedLenAt(s, p + 5) > 0 || Trim(prefix).empty()) &&
                      IsBasicCode(std::string_view(s).substr(p, 3));
    if (BasicAt(s, p) || comma_code || colon_code) {
      // Look for the enhanced code after it: spaces, one line break, or the hyphen.
      size_t q = p + 3;
      bool hyphen = q < s.size() && s[q] == '-';
      // "was: 450 450 4.2.2" (a repeated code) and "550: 5.2.2" (a colon after the code).
      if (q + 4 <= s.size() && s[q] == ' ' && s.compare(q + 1, 3, s, p, 3) == 0 && q + 4 < s.size() && s[q + 4] == ' ')
        q += 4;
      else if (q + 1 < s.size() && s[q] == ':' && s[q + 1] == ' ')
        q += 1;
      size_t r = q;
      int newlines = 0;
      while (r < s.size() && (s[r] == ' ' || s[r] == '\t' || s[r] == '-' || s[r] == '\n' || s[r] == '#' ||
                              s[r] == '\'' || s[r] == '"') &&
             r - q < 12) {
        if (s[r] == '\n' && ++newlines > 1) break;
        ++r;
      }
      size_t elen = (r < s.size() && newlines <= 1) ? EnhancedLenAt(s, r) : 0;
      if (elen > 0 && r > 0 && (IsDigit(s[r - 1]) || s[r - 1] == '.')) elen = 0;
      bool pair = elen > 0;
      if (pair && s[p] != s[r] && !(s[p] == '5' && s[r] == '4') && !(s[p] == '4' && s[r] == '5')) {
        // "250 5.1.1"? keep the pair only when both are failures or both succeed.
        pair = (s[p] == '2' || s[p] == '3') == (s[r] == '2');
        if (!pair) elen = 0;
      }
      bool accept = false;
      if (in_status) accept = true;
      else if (start_ctx) accept = pair || !FollowedByUnit(s, p + 3);
      else if (pair) accept = true;  // "... go to 550 5.7.26 https://..." (flattened reply)
      if (accept) {
        Hit h;
        h.r.basic = s.substr(p, 3);
        if (pair) h.r.enhanced = s.substr(r, elen);
        h.r.line = b.LineAt(p);
        h.r.origin = start_ctx || in_status ? ParsedReply::Origin::kReply : ParsedReply::Origin::kLoose;
        h.r.diagnostic = diag_line[li] != 0;
        h.pos = p;
        h.end = pair ? r + elen : p + 3;
        h.hyphen = hyphen;
        h.line_index = li;
        h.r.text = ReplyTextAfter(b, h.end, &h.text_end);
        hits.push_back(std::move(h));
        consumed_until = hits.back().end;
        continue;
      }
    }
    size_t elen = EnhancedLenAt(s, p);
    if (elen > 0) {
      bool paren = p > 0 && s[p - 1] == '(' && p + elen < s.size() && s[p + elen] == ')';
      if (in_status || hash || start_ctx || paren) {
        Hit h;
        h.r.enhanced = s.substr(p, elen);
        h.r.line = b.LineAt(p);
        h.r.origin = in_status ? ParsedReply::Origin::kStatus
                               : (hash ? ParsedReply::Origin::kHash : ParsedReply::Origin::kReply);
        h.r.diagnostic = diag_line[li] != 0;
        h.pos = p;
        h.end = p + elen;
        h.line_index = li;
        h.r.text = ReplyTextAfter(b, h.end, &h.text_end);
        // qmail writes its reason first: "Sorry, I couldn't find a mail exchanger (#5.4.4)".
        if (hash) h.r.text = std::string(Trim(prefix)) + " " + h.r.text;
        if (in_status && first_status.empty()) first_status = h.r.enhanced;
        hits.push_back(std::move(h));
        consumed_until = p + elen;
      }
    }
  }

  // Merge continuation lines: the same code on consecutive lines is one reply.
  std::vector<Hit> merged;
  for (auto& h : hits) {
    if (!merged.empty()) {
      Hit& prev = merged.back();
      // "550 sorry, no mailbox here by that name (#5.1.1)", "501 Rcpt-To ...: 5.7.1 This system is
      // not configured to relay": an enhanced code inside a reply's words belongs to that reply.
      // And the reverse: "5.3.0 - Other mail system problem 550-'Unknown user...'".
      bool within = (h.pos < prev.text_end || (h.r.origin == ParsedReply::Origin::kHash &&
                                               h.line_index <= prev.line_index + 2)) &&
                    prev.r.origin != ParsedReply::Origin::kStatus &&
                    h.r.origin != ParsedReply::Origin::kStatus;
      auto cls = [](const std::string& c) { return c.empty() ? '0' : c[0]; };
      if (within && prev.r.enhanced.empty() && !prev.r.basic.empty() && h.r.basic.empty() &&
          !h.r.enhanced.empty() && (cls(prev.r.basic) == cls(h.r.enhanced))) {
        prev.r.enhanced = h.r.enhanced;
        continue;
      }
      if (within && prev.r.basic.empty() && !prev.r.enhanced.empty() && !h.r.basic.empty() &&
          cls(prev.r.enhanced) == cls(h.r.basic)) {
        prev.r.basic = h.r.basic;
        if (!h.r.enhanced.empty()) prev.r.enhanced = h.r.enhanced;
        prev.r.text = h.r.text;
        prev.text_end = std::max(prev.text_end, h.text_end);
        continue;
      }
      bool same = prev.r.basic == h.r.basic && prev.r.enhanced == h.r.enhanced && !h.r.basic.empty() &&
                  prev.r.origin != ParsedReply::Origin::kStatus && h.r.origin != ParsedReply::Origin::kStatus;
      int prev_line = static_cast<int>(prev.line_index);
      int cur_line = static_cast<int>(h.line_index);
      if (same && (prev.hyphen || cur_line - prev_line <= 1)) {
        if (prev.r.text.size() < kMaxReplyText) prev.r.text += " " + h.r.text.substr(0, kMaxReplyText);
        prev.hyphen = h.hyphen;
        prev.r.diagnostic = prev.r.diagnostic || h.r.diagnostic;
        continue;
      }
    }
    merged.push_back(std::move(h));
  }

  // Amazon SES notifications are JSON: {"notificationType":"Delivery"|"Bounce"|"Complaint", ...}.
  if (ContainsNoCase(s, "\"notificationType\":\"Delivery\"")) action_delivered = true;
  if (ContainsNoCase(s, "\"notificationType\":\"Bounce\"")) action_failed = true;
  if (ContainsNoCase(s, "\"notificationType\":\"Complaint\"")) g.feedback = true;

  // Words of a delivery failure (an NDR with no code at all still says it failed).
  static constexpr std::array<std::string_view, 30> kFailureWords = {
      "could not be delivered", "couldn't be delivered", "delivery has failed", "delivery failed",
      "failed permanently", "permanent error", "permanent fatal error", "undeliverable", "undelivered",
      "did not reach", "returned mail", "mail delivery failed", "delivery failure", "unable to deliver",
      "not be delivered", "was not delivered", "message not delivered", "could not deliver",
      "delivery to the following recipient", "failure notice", "non remis", "nondeliverable",
      "non-delivery", "message you sent", "address not found", "delivery status notification (failure)",
      "fatal errors", "failed to deliver", "cannot be delivered", "returned to sender"};
  std::string subj_from = ToLower(g.subject) + " " + g.from;
  bool failure_words = false;
  for (auto w : kFailureWords)
    if (subj_from.find(w) != std::string::npos || ContainsNoCase(std::string_view(s).substr(0, 20000), w))
      failure_words = true;
  bool from_daemon = g.from.find("mailer-daemon") != std::string::npos || g.from.find("postmaster") != std::string::npos ||
                     g.from.find("mail delivery") != std::string::npos;

  // Kind of message.
  std::string subject_l = ToLower(g.subject);
  bool delay_words = subject_l.find("delay") != std::string::npos ||
                     subject_l.find("warning: could not send") != std::string::npos ||
                     subject_l.find("still being retried") != std::string::npos ||
                     ContainsNoCase(s, "delay reason:") || ContainsNoCase(s, "this is a warning message only") ||
                     ContainsNoCase(s, "will retry until") || ContainsNoCase(s, "** delivery incomplete **") ||
                     ContainsNoCase(s, "will continue trying") || ContainsNoCase(s, "will keep trying");
  bool any_failure_code = false;
  for (auto& h : merged)
    if (!IsSuccessClass(h.r)) any_failure_code = true;
  if (g.feedback) result.kind = ParsedBounce::Kind::kFeedback;
  else if (action_failed) result.kind = ParsedBounce::Kind::kFailure;
  else if (action_delayed) result.kind = ParsedBounce::Kind::kDelay;
  else if (action_delivered) result.kind = ParsedBounce::Kind::kDelivered;
  else if ((g.autoreply_subject || (g.auto_submitted && !from_daemon)) && !any_failure_code && !g.report &&
           !failure_words)
    result.kind = ParsedBounce::Kind::kAutoReply;
  else if (delay_words && std::none_of(merged.begin(), merged.end(), [](const Hit& h) {
             return ClassOf(h.r) == '5';
           }))
    result.kind = ParsedBounce::Kind::kDelay;
  else if (any_failure_code || g.report || failure_words || (from_daemon && !g.subject.empty()))
    result.kind = ParsedBounce::Kind::kFailure;

  // Primary: the final permanent failure (in a delay warning: the transient reply).
  int best = -1, best_score = -1000;
  bool want_transient = result.kind == ParsedBounce::Kind::kDelay;
  bool has_diag = false;
  for (auto& h : merged) has_diag = has_diag || (h.r.diagnostic && !h.r.basic.empty());
  for (size_t i = 0; i < merged.size(); ++i) {
    const ParsedReply& r = merged[i].r;
    if (IsSuccessClass(r)) continue;
    char cls = ClassOf(r);
    int score = 0;
    if ((cls == '4') == want_transient) score += 20;
    switch (r.origin) {
      case ParsedReply::Origin::kReply: score += r.basic.empty() ? 7 : 10; break;
      case ParsedReply::Origin::kLoose: score += 8; break;
      case ParsedReply::Origin::kHash: score += 7; break;
      case ParsedReply::Origin::kStatus: score += 6; break;
    }
    if (r.diagnostic) score += 4;
    if (!r.enhanced.empty()) score += 1;
    if (!r.enhanced.empty() && !GenericEnhanced(r.enhanced)) score += 1;
    std::string lt = ToLower(r.text.substr(0, 200));
    // Follow-ups of an earlier refusal: pipelining's "503 need RCPT", "554 no valid recipients",
    // Sendmail's own "554 5.0.0 Service unavailable", a closing 221.
    bool follow_up = r.basic == "503" || r.basic == "221" || lt.find("no valid recipients") != std::string::npos ||
                     lt.find("need rcpt") != std::string::npos || lt.find("need mail") != std::string::npos ||
                     (GenericEnhanced(r.enhanced) && lt.find("service unavailable") != std::string::npos);
    if (follow_up) score -= r.diagnostic ? 3 : 25;
    if (score > best_score) {
      best_score = score;
      best = static_cast<int>(i);
    }
  }
  if (best < 0 && result.kind != ParsedBounce::Kind::kAutoReply && result.kind != ParsedBounce::Kind::kFeedback) {
    // Only successes: a delivered report (or a pasted "250 2.0.0 OK") names its own code.
    for (size_t i = 0; i < merged.size(); ++i) {
      if (merged[i].r.origin != ParsedReply::Origin::kLoose) {
        best = static_cast<int>(i);
        break;
      }
    }
  }

  // The primary's enhanced code from Status: when the reply itself has none.
  ParsedReply primary;
  if (best >= 0) {
    primary = merged[static_cast<size_t>(best)].r;
    // Status: fills in a missing or generic enhanced code ("550 5.0.0 ..." beside "Status: 5.3.0").
    // Missing: take Status: as written even when its class differs ("554 Blocked" with "Status: 4.0.0").
    if (!primary.basic.empty() && !first_status.empty() &&
        (primary.enhanced.empty() ||
         (first_status[0] == primary.basic[0] && GenericEnhanced(primary.enhanced) && !GenericEnhanced(first_status)))) {
      primary.enhanced = first_status;
    }
    if (primary.basic.empty() && !primary.enhanced.empty()) {
      // A Status:-only primary takes the basic code of a reply carrying the same enhanced code.
      for (auto& h : merged)
        if (h.r.enhanced == primary.enhanced && !h.r.basic.empty()) {
          primary.basic = h.r.basic;
          break;
        }
    }
  }

  // Drop repeats (human-readable part and DSN part say the same thing).
  std::vector<ParsedReply> out;
  int primary_index = -1;
  for (size_t i = 0; i < merged.size(); ++i) {
    const ParsedReply& r = merged[i].r;
    bool dup = false;
    for (size_t k = 0; k < out.size(); ++k) {
      auto& o = out[k];
      bool same = (o.basic == r.basic && o.enhanced == r.enhanced) ||
                  (r.basic.empty() && !r.enhanced.empty() && o.enhanced == r.enhanced) ||
                  (o.basic.empty() && !o.enhanced.empty() && o.enhanced == r.enhanced && !r.basic.empty());
      if (same) {
        if (o.basic.empty() && !r.basic.empty()) {
          o.basic = r.basic;
          o.line = r.line;
          o.text = r.text;
          o.origin = r.origin;
        }
        o.diagnostic = o.diagnostic || r.diagnostic;
        if (static_cast<int>(i) == best) primary_index = static_cast<int>(k);
        dup = true;
        break;
      }
    }
    if (dup) continue;
    if (static_cast<int>(i) == best) primary_index = static_cast<int>(out.size());
    out.push_back(r);
  }
  // A Status:-only entry whose code a later reply repeats was merged above; the primary's codes win.
  if (primary_index >= 0) {
    auto& o = out[static_cast<size_t>(primary_index)];
    std::string line_text = o.text;
    int line = o.line;
    o = primary;
    o.line = line;
    if (o.text.empty()) o.text = line_text;
  }
  result.replies = std::move(out);
  result.primary = primary_index;
  result.status_field = first_status;

  // The diagnostic text of the primary (or the first Diagnostic-Code).
  for (size_t i = 0; i < n; ++i) {
    if (!diag_line[i]) continue;
    std::string_view t = Trim(g.lines[i].text);
    if (StartsWithNoCase(t, "diagnostic-code:")) {
      if (!diag_text.empty()) {
        if (best >= 0 && merged[static_cast<size_t>(best)].r.diagnostic &&
            merged[static_cast<size_t>(best)].line_index < i)
          break;
        diag_text.clear();
      }
      t.remove_prefix(16);
    }
    if (diag_text.size() < 2000) {
      diag_text += ' ';
      diag_text.append(Trim(t));
    }
  }
  result.diagnostic = std::string(Trim(diag_text));

  // Words for classification.
  result.text = g.subject;
  result.text += '\n';
  result.text += s.substr(0, kMaxInputBytes);

  // Only codes, no other words?
  {
    bool only = !result.replies.empty();
    for (size_t i = 0; i < s.size() && only; ++i) {
      char c = s[i];
      if (!(IsDigit(c) || c == '.' || c == '-' || IsSpace(c))) only = false;
    }
    result.only_codes = only;
  }
  return result;
}

}  // namespace

ParsedBounce ParseBounce(std::string_view input) {
  std::string norm = Normalize(input);
  Lines lines = SplitLines(norm);
  Gather g;
  WalkEntity(g, lines, 0, lines.v.size(), 0, true);
  ParsedBounce result = Scan(g);
  if (result.replies.empty() && result.diagnostic.empty()) {
    // A bounce forwarded as an attachment (a gateway wrapping the real NDR): read the attached
    // message when it is itself a delivery report.
    for (auto [b, e] : g.embedded) {
      Gather inner;
      WalkEntity(inner, lines, b, e, 1, true);
      std::string subj = ToLower(inner.subject);
      bool bounce = inner.report || subj.find("returned") != std::string::npos ||
                    subj.find("undeliver") != std::string::npos || subj.find("failure") != std::string::npos ||
                    subj.find("delivery status") != std::string::npos;
      if (!bounce) continue;
      ParsedBounce r2 = Scan(inner);
      if (!r2.replies.empty() || !r2.diagnostic.empty()) {
        r2.text = result.text + "\n" + r2.text;
        return r2;
      }
    }
  }
  return result;
}

}  // namespace bot::smtp
