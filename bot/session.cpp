#include "bot/session.h"

#include <nlohmann/json.hpp>

namespace bot {

namespace {

using nlohmann::json;

// Encoding format version, stored as "e". Bump it when a field changes meaning; Decode
// rejects versions it does not know rather than guessing.
constexpr int kEncodingVersion = 1;

constexpr Session::Phase kPhases[] = {
    Session::Phase::kChoosingSection, Session::Phase::kChoosingPanel, Session::Phase::kAskingTarget,
    Session::Phase::kAsking,
    Session::Phase::kAfterFail,       Session::Phase::kEscalating,    Session::Phase::kDone,
};

// Typed field readers: a missing field keeps its default, a field of the wrong type is an
// error. They return false and fill `error` instead of letting nlohmann throw.
bool ReadString(const json& j, const char* name, std::string& out, std::string& error) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_string()) {
    error = std::string("field \"") + name + "\" must be a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool ReadInt(const json& j, const char* name, int64_t& out, std::string& error) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_number_integer()) {
    error = std::string("field \"") + name + "\" must be an integer";
    return false;
  }
  out = it->get<int64_t>();
  return true;
}

}  // namespace

std::string Session::Detail(const std::string& field) const {
  const std::string step_id = "detail:" + field;
  // The latest answer wins: "back" pops answers, but a re-asked detail may appear twice.
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->step == step_id) return it->value;
  }
  return "";
}

const char* PhaseName(Session::Phase phase) {
  switch (phase) {
    case Session::Phase::kChoosingSection: return "choosing_section";
    case Session::Phase::kChoosingPanel: return "choosing_panel";
    case Session::Phase::kAskingTarget: return "asking_target";
    case Session::Phase::kAsking: return "asking";
    case Session::Phase::kAfterFail: return "after_fail";
    case Session::Phase::kEscalating: return "escalating";
    case Session::Phase::kDone: return "done";
  }
  return "unknown";
}

// Short keys keep a typical 10-answer conversation well under 2 KB. The phase is stored by
// name, not number, so reordering the enum never reinterprets stored sessions.
std::string EncodeSession(const Session& s) {
  // Built member by member: an initializer list makes a temporary array per member, and
  // this runs on every turn (tests/bench/README.md, "Profiling a click").
  json history(json::value_t::array);
  for (const Answer& a : s.history) {
    json entry(json::value_t::array);
    entry.push_back(a.step);
    entry.push_back(a.value);
    history.push_back(std::move(entry));
  }
  json j(json::value_t::object);
  json::object_t& o = *j.get_ptr<json::object_t*>();
  o.emplace("e", kEncodingVersion);
  o.emplace("k", s.key);
  o.emplace("f", s.flow);
  o.emplace("fv", s.flow_version);
  o.emplace("p", s.panel);
  o.emplace("ph", PhaseName(s.phase));
  o.emplace("s", s.step);
  o.emplace("h", std::move(history));
  o.emplace("o", s.owner);
  o.emplace("out", s.outcome);
  o.emplace("os", s.outcome_step);
  o.emplace("v", s.version);
  o.emplace("t", s.turn);
  o.emplace("c", s.created_at);
  o.emplace("u", s.updated_at);
  // User text may hold invalid UTF-8; replacing it beats throwing out of an encoder that
  // cannot fail.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Session> DecodeSession(std::string_view bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("stored session is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("stored session is not a JSON object");

  std::string error;
  int64_t encoding = 0;
  if (!ReadInt(j, "e", encoding, error)) return Status::InvalidArgument("stored session: " + error);
  if (encoding != kEncodingVersion) {
    return Status::InvalidArgument("stored session has encoding version " + std::to_string(encoding) +
                                   ", this mailguide reads version " +
                                   std::to_string(kEncodingVersion));
  }

  Session s;
  std::string phase;
  const bool fields_ok =
      ReadString(j, "k", s.key, error) && ReadString(j, "f", s.flow, error) &&
      ReadString(j, "fv", s.flow_version, error) && ReadString(j, "p", s.panel, error) &&
      ReadString(j, "ph", phase, error) && ReadString(j, "s", s.step, error) &&
      ReadString(j, "o", s.owner, error) && ReadString(j, "out", s.outcome, error) &&
      ReadString(j, "os", s.outcome_step, error) && ReadInt(j, "v", s.version, error) &&
      ReadInt(j, "t", s.turn, error) && ReadInt(j, "c", s.created_at, error) &&
      ReadInt(j, "u", s.updated_at, error);
  if (!fields_ok) return Status::InvalidArgument("stored session: " + error);
  if (s.key.empty()) return Status::InvalidArgument("stored session has no key");

  bool phase_known = false;
  for (Session::Phase p : kPhases) {
    if (phase == PhaseName(p)) {
      s.phase = p;
      phase_known = true;
    }
  }
  if (!phase_known) return Status::InvalidArgument("stored session has unknown phase \"" + phase + "\"");

  if (auto it = j.find("h"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("stored session: field \"h\" must be an array");
    for (const json& entry : *it) {
      if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_string()) {
        return Status::InvalidArgument("stored session: each history entry must be [step, value]");
      }
      s.history.push_back(Answer{entry[0].get<std::string>(), entry[1].get<std::string>()});
    }
  }
  return s;
}

}  // namespace bot
