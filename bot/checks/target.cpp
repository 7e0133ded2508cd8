#include "bot/checks/target.h"

#include <cctype>

namespace bot::checks {

bool IsHostName(const std::string& name, std::string* why) {
  auto fail = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (name.empty()) return fail("the domain is empty");
  if (name.size() > 253) return fail("the domain is longer than 253 characters");
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) return fail("'" + name + "' has an empty label (two dots in a row, or a leading dot)");
    if (label.size() > 63) return fail("'" + name + "' has a label longer than 63 characters");
    for (char c : label) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0x80) return fail("'" + name + "' is not ASCII: give the xn-- form of the domain");
      if (!std::isalnum(u) && c != '-' && c != '_') {
        return fail("'" + name + "' contains '" + std::string(1, c) + "', which no domain name has");
      }
    }
    if (label.front() == '-' || label.back() == '-') return fail("'" + name + "' has a label that starts or ends with '-'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

Result<ProbeTarget> ParseTarget(const std::string& raw) {
  size_t b = 0, e = raw.size();
  while (b < e && std::isspace(static_cast<unsigned char>(raw[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(raw[e - 1]))) --e;
  std::string text = raw.substr(b, e - b);
  if (text.empty()) return Status::InvalidArgument("give a domain (example.com) or a mailbox (alice@example.com)");
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument("'" + text + "' contains a space: give one domain or one mailbox");
    }
  }
  ProbeTarget t;
  std::string domain = text;
  size_t at = text.rfind('@');
  if (at != std::string::npos) {
    std::string local = text.substr(0, at);
    domain = text.substr(at + 1);
    if (local.empty()) return Status::InvalidArgument("'" + text + "' has nothing before the '@'");
    if (local.size() > 64) return Status::InvalidArgument("'" + text + "' has a local part longer than 64 characters");
    for (char c : local) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0x80 || c == '@' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
          c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
        return Status::InvalidArgument("'" + text + "' is not a plain mailbox address (local@domain)");
      }
    }
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos) {
      return Status::InvalidArgument("'" + text + "' has a misplaced dot before the '@'");
    }
    t.mailbox = local;  // completed below with the normalised domain
  }
  for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  std::string why;
  if (!IsHostName(domain, &why)) return Status::InvalidArgument(why);
  if (domain.find('.') == std::string::npos) {
    return Status::InvalidArgument("'" + domain + "' is not a full domain name (expected something like example.com)");
  }
  if (domain.find('_') != std::string::npos) {
    return Status::InvalidArgument("'" + domain + "' contains '_', which a mail domain does not have");
  }
  t.domain = domain;
  if (!t.mailbox.empty()) t.mailbox += "@" + domain;
  return t;
}

std::string TargetText(const ProbeTarget& target) { return target.mailbox.empty() ? target.domain : target.mailbox; }

}  // namespace bot::checks
