// Small text helpers shared by the core and the adapters: ASCII case, whitespace and JSON quoting.
#pragma once

#include <string>
#include <string_view>

namespace bot {

// `s` without leading and trailing ASCII whitespace.
std::string Trim(std::string_view s);

// `s` with ASCII letters in lower case; other bytes (UTF-8 included) unchanged.
std::string Lower(std::string_view s);

// `text` as a JSON string, quotes included, byte for byte as nlohmann::json writes it: invalid
// UTF-8 is replaced, never thrown. Plain printable ASCII is quoted directly (a dump costs
// ~5,000 instructions, and request logs and button values quote several strings each).
std::string JsonQuote(std::string_view text);

// Appends JsonQuote(text) to `out`.
void AppendJsonQuoted(std::string& out, std::string_view text);

}  // namespace bot
