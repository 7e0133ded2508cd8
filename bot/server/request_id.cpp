#include "bot/server/request_id.h"

#include <cctype>
#include <random>

namespace bot {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string id(16, '0');
  for (auto& c : id) {
    c = kHex[v & 0xF];
    v >>= 4;
  }
  return id;
}

std::string AcceptRequestId(const std::string& client_value) {
  if (client_value.empty() || client_value.size() > 64) return NewRequestId();
  for (unsigned char c : client_value) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return NewRequestId();
  }
  return client_value;
}

}  // namespace bot
