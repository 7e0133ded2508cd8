// Lenient reads of platform payloads: a member of the wrong type, or a payload that is not
// an object, reads as empty. Slack and Teams add fields over time, and decoding must not
// depend on more of their shape than it uses.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bot::json_read {

// The string member `key` of `j`, or "".
std::string Str(const nlohmann::json& j, const char* key);

// The object member `key` of `j`, or a null value.
const nlohmann::json& Obj(const nlohmann::json& j, const char* key);

// The boolean member `key` of `j`, or false.
bool Bool(const nlohmann::json& j, const char* key);

}  // namespace bot::json_read
