#include "bot/server/config_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace bot {

std::vector<std::string> KnownConfigKeys() {
  // LoadConfig asks for every key it knows, set or not: record what it asks.
  static const std::vector<std::string> keys = [] {
    std::set<std::string> asked;
    ConfigLookup record = [&asked](const std::string& key) -> std::optional<std::string> {
      asked.insert(key);
      return std::nullopt;
    };
    (void)LoadConfig(record, [](const std::string&) -> Result<std::string> { return std::string(); });
    return std::vector<std::string>(asked.begin(), asked.end());
  }();
  return keys;
}

Result<std::map<std::string, std::string>> ParseConfigJson(const std::string& json_text, const std::string& source) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument(source + ": not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument(source + ": expected a JSON object of settings");
  const std::vector<std::string> known = KnownConfigKeys();
  std::map<std::string, std::string> out;
  std::vector<std::string> unknown, problems;
  std::set<std::string> seen_null;
  for (const auto& [name, value] : doc.items()) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::toupper(c); });
    if (key.rfind("MAILGUIDE_", 0) != 0) key = "MAILGUIDE_" + key;
    if (!std::binary_search(known.begin(), known.end(), key)) {
      unknown.push_back(name);
      continue;
    }
    if (out.count(key) || seen_null.count(key)) {
      problems.push_back(name + ": given twice (with and without the mailguide_ prefix)");
      continue;
    }
    if (value.is_null()) {
      seen_null.insert(key);
    } else if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else if (value.is_boolean()) {
      out[key] = value.get<bool>() ? "1" : "0";
    } else if (value.is_number_integer() || value.is_number_unsigned()) {
      out[key] = value.dump();
    } else {
      problems.push_back(name + ": expected a string, a whole number or a boolean");
    }
  }
  if (!unknown.empty()) {
    std::string m = std::string("unknown key") + (unknown.size() == 1 ? " " : "s ");
    for (size_t i = 0; i < unknown.size(); ++i) m += (i ? ", " : "") + unknown[i];
    m += " (keys are the MAILGUIDE_* names in lower case without the prefix, e.g. \"listen\"; see "
         "deploy/mailguide.env.example)";
    problems.insert(problems.begin(), m);
  }
  if (!problems.empty()) {
    std::string m = source + ": ";
    for (size_t i = 0; i < problems.size(); ++i) m += (i ? "; " : "") + problems[i];
    return Status::InvalidArgument(m);
  }
  return out;
}

Result<std::map<std::string, std::string>> ReadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("--config " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfigJson(text.str(), "--config " + path);
}

ConfigLookup MapLookup(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& key) -> std::optional<std::string> {
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

ConfigLookup LayeredLookup(std::vector<ConfigLookup> highest_first) {
  return [layers = std::move(highest_first)](const std::string& key) -> std::optional<std::string> {
    for (const auto& layer : layers) {
      if (auto v = layer(key); v && !v->empty()) return v;
    }
    return std::nullopt;
  };
}

}  // namespace bot
