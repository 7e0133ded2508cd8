// The one Catch2 main of bot_tests (Debian ships Catch2 v2, which has no Catch2WithMain).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
