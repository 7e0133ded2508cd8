// Small text helpers shared by the core and the adapters: ASCII case and whitespace.
#pragma once

#include <string>
#include <string_view>

namespace bot {

// `s` without leading and trailing ASCII whitespace.
std::string Trim(std::string_view s);

// `s` with ASCII letters in lower case; other bytes (UTF-8 included) unchanged.
std::string Lower(std::string_view s);

}  // namespace bot
