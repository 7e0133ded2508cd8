// The core's text helpers: trimming, ASCII lower case, and JSON quoting that matches
// nlohmann::json byte for byte.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "bot/text.h"

TEST_CASE("Trim and Lower touch ASCII only", "[text]") {
  CHECK(bot::Trim(" \t a b \r\n") == "a b");
  CHECK(bot::Trim("   ").empty());
  CHECK(bot::Lower("MiXeD É") == "mixed É");
}

TEST_CASE("JsonQuote writes what nlohmann::json writes, for plain and awkward text alike", "[text]") {
  const std::string samples[] = {"",
                                 "plain ascii 123",
                                 "a \"quote\" and a \\ backslash",
                                 "tab\there, newline\nhere",
                                 std::string("nul\0byte", 8),
                                 "\x7f delete",
                                 "caf\u00e9 \u2014 \U0001F600",
                                 "\xff\xfe broken UTF-8",
                                 "cut \xe2\x82"};
  for (const std::string& s : samples) {
    INFO(s);
    const std::string expected =
        nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    CHECK(bot::JsonQuote(s) == expected);
    std::string appended = "x";
    bot::AppendJsonQuoted(appended, s);
    CHECK(appended == "x" + expected);
  }
}
