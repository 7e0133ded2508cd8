// --config FILE for `mailguide serve`: a JSON object with the MAILGUIDE_* settings, keys in
// lower case without the prefix ("listen", "store", "slack_signing_secret_file"; the full
// "mailguide_listen" spelling is accepted too). Values are strings, numbers or booleans (true
// is "1"); null leaves a setting unset. Precedence, lowest first: the file, the environment,
// command-line flags. Unknown keys are an error naming them, so a typo never goes unnoticed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "bot/server/config.h"
#include "bot/status.h"

namespace bot {

// Every MAILGUIDE_* key LoadConfig reads (…_FILE variants included), sorted.
std::vector<std::string> KnownConfigKeys();

// The settings in `json_text` as MAILGUIDE_* keys. InvalidArgument, naming `source`, for text
// that is not a JSON object, a value that is an array or object, a setting given twice, or
// unknown keys ("unknown keys: lisen, stor"); never quotes a value.
Result<std::map<std::string, std::string>> ParseConfigJson(const std::string& json_text, const std::string& source);
// ParseConfigJson over the file at `path` (InvalidArgument when it cannot be read).
Result<std::map<std::string, std::string>> ReadConfigFile(const std::string& path);

// A lookup over fixed values.
ConfigLookup MapLookup(std::map<std::string, std::string> values);
// The first lookup, in order, that has a non-empty value for the key wins.
ConfigLookup LayeredLookup(std::vector<ConfigLookup> highest_first);

}  // namespace bot
