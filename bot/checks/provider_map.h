// The mapping from the admin API's replies to the guide's checks, as data
// (flows/checks/opensrs.json): which call, which field, which values pass or fail, and how sure
// the reference is of each field. A field that turns out different is an edit to that file.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/probe.h"
#include "bot/status.h"

namespace bot::checks {

enum class Evidence { kConfirmed, kThirdParty, kUnconfirmed };

struct MapRule {
  enum class Kind { kAlways, kEquals, kIn, kMissing, kAtLeast };
  Kind kind = Kind::kAlways;
  std::string path;          // "" = the part's path
  nlohmann::json value;      // kEquals: the value; kIn: an array of values
  std::string other_path;    // kAtLeast: value >= the number at this path
  ProbeResult::Outcome outcome = ProbeResult::Outcome::kUnknown;
  std::string detail;        // a template (see Render)
};

struct MapSummary {
  std::string list;    // path of an array in the reply
  int last = 3;        // how many of its last elements
  std::string each;    // template per element, its paths relative to the element
  std::string prefix;
};

struct MapPart {
  std::string unsupported;  // non-empty: the API cannot decide this; the text says what to do instead
  std::string call;         // a key of ProviderMap::calls
  Evidence evidence = Evidence::kConfirmed;
  std::string path;
  std::vector<MapRule> rules;
  std::optional<MapRule> not_found;  // outcome when the call says the object does not exist (error 2)
  std::optional<MapSummary> summary; // evidence only: never changes the outcome
};

struct MapProbe {
  std::string id;
  std::string ref;  // the reference's check number (W1, R4 ...)
  std::vector<MapPart> parts;
};

struct MapCall {
  std::string method;
  nlohmann::json params;  // an object with placeholders
  bool needs_mailbox = false;
};

struct MapToken {
  std::string method;
  nlohmann::json params;
  std::string token_path;
  std::vector<std::string> roles;  // logins with these roles may generate tokens
};

struct ProviderMap {
  std::string client;
  std::map<std::string, MapCall> calls;
  std::vector<MapProbe> probes;
  std::optional<MapToken> token;
};

// Strict: unknown keys, bad values and dangling call names are errors naming the JSON path.
Result<ProviderMap> ParseProviderMap(const nlohmann::json& doc);
Result<ProviderMap> LoadProviderMap(const std::string& path);

// Placeholders: {@mailbox} {@local} {@domain} {@reason}, and in rule details also {@value}
// {@path} {@method}.
struct MapVars {
  std::string mailbox, local, domain, reason;
  std::string value, path, method;  // set while rendering a rule
};

// Replaces placeholders in every string of `params` (recursively).
nlohmann::json SubstituteParams(const nlohmann::json& params, const MapVars& vars);
// Reads a dotted path: "attributes.service_webmail", "users[user={@mailbox}].status",
// "changes[0].msg". nullptr when any step is missing.
const nlohmann::json* LookupPath(const nlohmann::json& root, const std::string& path, const MapVars& vars);
// Fills a template: {@var}, {dotted.path} from `root`, {path|date} for an epoch as a UTC date.
std::string RenderTemplate(const std::string& text, const nlohmann::json& root, const MapVars& vars);
// A JSON scalar as plain text: strings unquoted, others as JSON.
std::string PlainText(const nlohmann::json& value);

}  // namespace bot::checks
