// Helpers shared by the fuzz targets: split one fuzzer input into several fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace bot::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// `input` cut at the first `n - 1` occurrences of `sep`; always exactly `n` parts (the
// missing ones empty), the last holding the rest.
inline std::vector<std::string_view> SplitN(std::string_view input, char sep, size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    const size_t at = input.find(sep);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + 1);
  }
  parts.push_back(input);
  while (parts.size() < n) parts.emplace_back();
  return parts;
}

// A failed property: abort so libFuzzer records the input.
[[noreturn]] inline void Fail() { __builtin_trap(); }

}  // namespace bot::fuzz

// Checks a property of the code under test; says which one failed before aborting.
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
      bot::fuzz::Fail();                                                                   \
    }                                                                                      \
  } while (0)

namespace bot::fuzz {

}  // namespace bot::fuzz
