#include "bot/http.h"

#include <algorithm>

namespace bot {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  // ASCII only, as header names are; std::tolower would consult the locale on every byte.
  auto lower = [](char c) { return static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&lower](char x, char y) { return lower(x) < lower(y); });
}

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

size_t HttpRequest::HeaderCount(const std::string& name) const { return headers.count(name); }

}  // namespace bot
