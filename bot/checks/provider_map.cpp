#include "bot/checks/provider_map.h"

#include <cctype>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace bot::checks {

namespace {

using json = nlohmann::json;
using Outcome = ProbeResult::Outcome;

struct MapError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& at, const std::string& why) { throw MapError(at + ": " + why); }

void Keys(const json& obj, const std::string& at, std::initializer_list<const char*> allowed) {
  if (!obj.is_object()) Fail(at, "expected an object");
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (const auto& [k, v] : obj.items()) {
    if (k == "$comment") continue;
    if (!ok.count(k)) Fail(at + "." + k, "unknown field");
  }
}

std::string Str(const json& obj, const std::string& at, const char* key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) Fail(at, std::string("missing '") + key + "'");
    return "";
  }
  if (!it->is_string() || it->get<std::string>().empty()) Fail(at + "." + key, "expected a non-empty string");
  return it->get<std::string>();
}

Outcome ParseOutcome(const json& obj, const std::string& at) {
  std::string o = Str(obj, at, "outcome", true);
  if (o == "pass") return Outcome::kPass;
  if (o == "fail") return Outcome::kFail;
  if (o == "unknown") return Outcome::kUnknown;
  Fail(at + ".outcome", "expected pass, fail or unknown");
}

MapRule ParseRule(const json& r, const std::string& at, bool condition_allowed) {
  Keys(r, at, {"path", "equals", "in", "missing", "at_least", "outcome", "detail"});
  MapRule rule;
  rule.outcome = ParseOutcome(r, at);
  rule.detail = Str(r, at, "detail", true);
  rule.path = Str(r, at, "path", false);
  int conditions = 0;
  if (r.contains("equals")) {
    rule.kind = MapRule::Kind::kEquals;
    rule.value = r["equals"];
    ++conditions;
  }
  if (r.contains("in")) {
    if (!r["in"].is_array() || r["in"].empty()) Fail(at + ".in", "expected a non-empty array");
    rule.kind = MapRule::Kind::kIn;
    rule.value = r["in"];
    ++conditions;
  }
  if (r.contains("missing")) {
    if (r["missing"] != true) Fail(at + ".missing", "expected true");
    rule.kind = MapRule::Kind::kMissing;
    ++conditions;
  }
  if (r.contains("at_least")) {
    rule.kind = MapRule::Kind::kAtLeast;
    rule.other_path = Str(r, at, "at_least", true);
    ++conditions;
  }
  if (conditions > 1) Fail(at, "one condition per rule (equals, in, missing or at_least)");
  if (conditions == 1 && !condition_allowed) Fail(at, "takes no condition");
  return rule;
}

Evidence ParseEvidence(const json& obj, const std::string& at) {
  std::string e = Str(obj, at, "evidence", true);
  if (e == "confirmed") return Evidence::kConfirmed;
  if (e == "3p") return Evidence::kThirdParty;
  if (e == "unconfirmed") return Evidence::kUnconfirmed;
  Fail(at + ".evidence", "expected confirmed, 3p or unconfirmed");
}

bool MentionsMailbox(const json& params) {
  if (params.is_string()) {
    const auto& s = params.get_ref<const std::string&>();
    return s.find("{@mailbox}") != std::string::npos || s.find("{@local}") != std::string::npos;
  }
  if (params.is_structured()) {
    for (const auto& v : params) {
      if (MentionsMailbox(v)) return true;
    }
  }
  return false;
}

MapCall ParseCall(const json& c, const std::string& at) {
  Keys(c, at, {"method", "params"});
  MapCall call;
  call.method = Str(c, at, "method", true);
  call.params = c.value("params", json::object());
  if (!call.params.is_object()) Fail(at + ".params", "expected an object");
  if (call.params.contains("credentials")) Fail(at + ".params.credentials", "credentials come from configuration");
  call.needs_mailbox = MentionsMailbox(call.params);
  return call;
}

// Splits at dots outside brackets: "users[user=a.b@c.d].status" → {"users[user=a.b@c.d]", "status"}.
std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : path) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == '.' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string ReplaceVars(std::string s, const MapVars& v) {
  const std::pair<const char*, const std::string*> table[] = {
      {"{@mailbox}", &v.mailbox}, {"{@local}", &v.local}, {"{@domain}", &v.domain}, {"{@reason}", &v.reason},
      {"{@value}", &v.value},     {"{@path}", &v.path},   {"{@method}", &v.method}};
  for (const auto& [key, val] : table) {
    size_t pos = 0;
    const std::string k = key;
    while ((pos = s.find(k, pos)) != std::string::npos) {
      s.replace(pos, k.size(), *val);
      pos += val->size();
    }
  }
  return s;
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string UtcDate(const json& v) {
  if (!v.is_number()) return PlainText(v);
  std::time_t t = static_cast<std::time_t>(v.get<double>());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

std::string PlainText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

json SubstituteParams(const json& params, const MapVars& vars) {
  if (params.is_string()) return ReplaceVars(params.get<std::string>(), vars);
  if (params.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : params.items()) out[k] = SubstituteParams(v, vars);
    return out;
  }
  if (params.is_array()) {
    json out = json::array();
    for (const auto& v : params) out.push_back(SubstituteParams(v, vars));
    return out;
  }
  return params;
}

const json* LookupPath(const json& root, const std::string& path, const MapVars& vars) {
  const json* cur = &root;
  for (const std::string& segment : SplitPath(path)) {
    std::string name = segment, selector;
    if (size_t open = segment.find('['); open != std::string::npos && segment.back() == ']') {
      name = segment.substr(0, open);
      selector = ReplaceVars(segment.substr(open + 1, segment.size() - open - 2), vars);
    }
    if (!name.empty()) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(name);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    }
    if (selector.empty()) continue;
    if (!cur->is_array()) return nullptr;
    if (selector.find_first_not_of("0123456789") == std::string::npos) {
      size_t index = std::stoul(selector);
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
      continue;
    }
    size_t eq = selector.find('=');
    if (eq == std::string::npos) return nullptr;
    const std::string key = selector.substr(0, eq), want = selector.substr(eq + 1);
    const json* found = nullptr;
    for (const auto& element : *cur) {
      if (!element.is_object()) continue;
      auto it = element.find(key);
      if (it != element.end() && it->is_string() && EqualsIgnoreCase(it->get<std::string>(), want)) {
        found = &element;
        break;
      }
    }
    if (!found) return nullptr;
    cur = found;
  }
  return cur;
}

std::string RenderTemplate(const std::string& text, const json& root, const MapVars& vars) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    std::string inner = text.substr(open + 1, close - open - 1);
    if (!inner.empty() && inner[0] == '@') {
      out += ReplaceVars("{" + inner + "}", vars);
    } else {
      bool date = false;
      if (inner.size() > 5 && inner.ends_with("|date")) {
        date = true;
        inner.resize(inner.size() - 5);
      }
      const json* v = LookupPath(root, inner, vars);
      out += v ? (date ? UtcDate(*v) : PlainText(*v)) : "?";
    }
    pos = close + 1;
  }
  out += text.substr(pos);
  return out;
}

Result<ProviderMap> ParseProviderMap(const json& doc) {
  try {
    Keys(doc, "$", {"version", "client", "calls", "token", "probes"});
    if (doc.value("version", 0) != 1) Fail("$.version", "expected 1");
    ProviderMap map;
    map.client = Str(doc, "$", "client", false);
    if (map.client.empty()) map.client = "mailguide";
    if (!doc.contains("calls") || !doc["calls"].is_object()) Fail("$.calls", "expected an object");
    for (const auto& [name, c] : doc["calls"].items()) map.calls.emplace(name, ParseCall(c, "$.calls." + name));

    if (doc.contains("token")) {
      const json& t = doc["token"];
      Keys(t, "$.token", {"method", "params", "token", "roles", "evidence"});
      MapCall c = ParseCall(json{{"method", t.value("method", "")}, {"params", t.value("params", json::object())}}, "$.token");
      MapToken token{c.method, c.params, Str(t, "$.token", "token", true), {}};
      if (!t.contains("roles") || !t["roles"].is_array()) Fail("$.token.roles", "expected an array of role names");
      for (const auto& r : t["roles"]) {
        if (!r.is_string()) Fail("$.token.roles", "expected strings");
        token.roles.push_back(r.get<std::string>());
      }
      ParseEvidence(t, "$.token");
      map.token = std::move(token);
    }

    if (!doc.contains("probes") || !doc["probes"].is_array()) Fail("$.probes", "expected an array");
    std::set<std::string> ids;
    for (size_t i = 0; i < doc["probes"].size(); ++i) {
      const json& p = doc["probes"][i];
      const std::string at = "$.probes[" + std::to_string(i) + "]";
      Keys(p, at, {"id", "ref", "parts"});
      MapProbe probe;
      probe.id = Str(p, at, "id", true);
      if (!ids.insert(probe.id).second) Fail(at + ".id", "probe '" + probe.id + "' appears twice");
      if (probe.id == "mx" || probe.id == "spf" || probe.id == "dmarc" || probe.id == "dkim") {
        Fail(at + ".id", "'" + probe.id + "' is a DNS check's id");
      }
      probe.ref = Str(p, at, "ref", false);
      if (!p.contains("parts") || !p["parts"].is_array() || p["parts"].empty()) Fail(at + ".parts", "expected a non-empty array");
      for (size_t j = 0; j < p["parts"].size(); ++j) {
        const json& q = p["parts"][j];
        const std::string pat = at + ".parts[" + std::to_string(j) + "]";
        Keys(q, pat, {"unsupported", "call", "evidence", "path", "rules", "not_found", "summary"});
        MapPart part;
        part.unsupported = Str(q, pat, "unsupported", false);
        if (!part.unsupported.empty()) {
          if (q.size() != 1 + (q.contains("$comment") ? 1 : 0)) Fail(pat, "an unsupported part has nothing else");
          probe.parts.push_back(std::move(part));
          continue;
        }
        part.call = Str(q, pat, "call", true);
        if (!map.calls.count(part.call)) Fail(pat + ".call", "no call named '" + part.call + "' in $.calls");
        part.evidence = ParseEvidence(q, pat);
        if (q.contains("summary")) {
          const json& s = q["summary"];
          Keys(s, pat + ".summary", {"list", "last", "each", "prefix"});
          MapSummary sum{Str(s, pat + ".summary", "list", true), s.value("last", 3),
                         Str(s, pat + ".summary", "each", true), s.value("prefix", std::string())};
          if (sum.last < 1 || sum.last > 20) Fail(pat + ".summary.last", "expected 1 to 20");
          if (q.contains("rules") || q.contains("path")) Fail(pat, "a summary part has no path or rules");
          part.summary = sum;
          probe.parts.push_back(std::move(part));
          continue;
        }
        part.path = Str(q, pat, "path", false);
        if (q.contains("not_found")) part.not_found = ParseRule(q["not_found"], pat + ".not_found", false);
        if (!q.contains("rules") || !q["rules"].is_array() || q["rules"].empty()) Fail(pat + ".rules", "expected a non-empty array");
        for (size_t k = 0; k < q["rules"].size(); ++k) {
          MapRule rule = ParseRule(q["rules"][k], pat + ".rules[" + std::to_string(k) + "]", true);
          if (rule.kind != MapRule::Kind::kAlways && rule.path.empty() && part.path.empty()) {
            Fail(pat + ".rules[" + std::to_string(k) + "]", "a condition needs a path (on the rule or the part)");
          }
          part.rules.push_back(std::move(rule));
        }
        probe.parts.push_back(std::move(part));
      }
      map.probes.push_back(std::move(probe));
    }
    return map;
  } catch (const MapError& e) {
    return Status::InvalidArgument(e.what());
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("$: ") + e.what());
  }
}

Result<ProviderMap> LoadProviderMap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("the provider mapping " + path + " cannot be read");
  std::stringstream s;
  s << in.rdbuf();
  json doc = json::parse(s.str(), nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  auto map = ParseProviderMap(doc);
  if (!map.ok()) return Status::InvalidArgument(path + ": " + map.status().message());
  return map;
}

}  // namespace bot::checks
