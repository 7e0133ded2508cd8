#include "bot/checks/provider_checks.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace bot::checks {

namespace {

using json = nlohmann::json;
using Outcome = ProbeResult::Outcome;

MapVars VarsFor(const ProbeTarget& target) {
  MapVars v;
  v.mailbox = target.mailbox;
  v.domain = target.domain;
  v.local = target.mailbox.substr(0, target.mailbox.rfind('@'));
  return v;
}

// Why a call gave no reply, in words for an agent.
std::string Explain(const Status& s) {
  switch (s.code()) {
    case Status::Code::kUnauthenticated:
      return "The admin API rejected mailguide's credentials (" + s.message() + "): check MAILGUIDE_OPENSRS_USER and MAILGUIDE_OPENSRS_PASSWORD.";
    case Status::Code::kPermissionDenied:
      return "mailguide's admin login may not read this (" + s.message() + ").";
    case Status::Code::kNotFound:
      return "The admin API says the object does not exist (" + s.message() + ").";
    default:
      return "The admin API could not answer (" + s.message() + ").";
  }
}

bool Matches(const MapRule& rule, const json* value, const json& reply, const MapVars& vars) {
  switch (rule.kind) {
    case MapRule::Kind::kAlways: return true;
    case MapRule::Kind::kMissing: return value == nullptr || value->is_null();
    case MapRule::Kind::kEquals: return value && *value == rule.value;
    case MapRule::Kind::kIn:
      return value && std::find(rule.value.begin(), rule.value.end(), *value) != rule.value.end();
    case MapRule::Kind::kAtLeast: {
      const json* other = LookupPath(reply, rule.other_path, vars);
      return value && other && value->is_number() && other->is_number() && value->get<double>() >= other->get<double>();
    }
  }
  return false;
}

struct PartResult {
  Outcome outcome = Outcome::kUnknown;
  std::string detail;
  bool info = false;  // a summary: evidence only
};

PartResult EvaluatePart(const MapPart& part, const ProviderMap& map,
                        const std::map<std::string, Result<OpenSrsReply>>& replies, const MapVars& base) {
  PartResult r;
  if (!part.unsupported.empty()) {
    r.detail = part.unsupported;
    return r;
  }
  const MapCall& call = map.calls.at(part.call);
  auto it = replies.find(part.call);
  if (it == replies.end()) {
    if (part.summary) {
      r.info = true;
      return r;
    }
    r.detail = "This needs a mailbox address (" + call.method + "), and only the domain " + base.domain + " was given.";
    return r;
  }
  const Result<OpenSrsReply>& reply = it->second;
  if (part.summary) {
    r.info = true;
    if (!reply.ok()) return r;
    const json* list = LookupPath(reply->body, part.summary->list, base);
    if (!list || !list->is_array() || list->empty()) return r;
    std::vector<std::string> items;
    size_t from = list->size() > static_cast<size_t>(part.summary->last) ? list->size() - part.summary->last : 0;
    for (size_t i = from; i < list->size(); ++i) items.push_back(RenderTemplate(part.summary->each, (*list)[i], base));
    std::string text = part.summary->prefix;
    for (size_t i = 0; i < items.size(); ++i) text += (i ? "; " : "") + items[i];
    r.detail = text + ".";
    return r;
  }
  MapVars vars = base;
  vars.method = call.method;
  if (!reply.ok()) {
    if (reply.status().code() == Status::Code::kNotFound && part.not_found) {
      r.outcome = part.not_found->outcome;
      r.detail = RenderTemplate(part.not_found->detail, json::object(), vars);
    } else {
      r.detail = Explain(reply.status());
    }
    return r;
  }
  const json& body = reply->body;
  const std::string audit = reply->audit.empty() ? "" : " [audit " + reply->audit + "]";
  for (const MapRule& rule : part.rules) {
    const std::string path = rule.path.empty() ? part.path : rule.path;
    const json* value = path.empty() ? nullptr : LookupPath(body, path, vars);
    if (!Matches(rule, value, body, vars)) continue;
    vars.path = path;
    vars.value = value ? PlainText(*value) : "missing";
    r.outcome = rule.outcome;
    r.detail = RenderTemplate(rule.detail, body, vars);
    if (part.evidence == Evidence::kUnconfirmed && r.outcome != Outcome::kUnknown) {
      r.outcome = Outcome::kUnknown;
      if (r.detail.find("unconfirmed") == std::string::npos) {
        r.detail += " The meaning of " + path + " is unconfirmed, so this does not decide the check.";
      }
    }
    return r;
  }
  const json* value = part.path.empty() ? nullptr : LookupPath(body, part.path, vars);
  r.detail = call.method + " " + part.path + " is " + (value ? PlainText(*value) : std::string("missing")) +
             ", which the mapping (flows/checks/opensrs.json) does not cover" + audit + ".";
  return r;
}

}  // namespace

ProviderChecks::ProviderChecks(std::shared_ptr<const OpenSrsClient> client, ProviderMap map, std::string role,
                               std::shared_ptr<InFlight> in_flight)
    : client_(std::move(client)),
      map_(std::move(map)),
      role_(std::move(role)),
      in_flight_(in_flight ? std::move(in_flight) : std::make_shared<InFlight>()) {}

std::vector<std::string> ProviderChecks::ProbeIds() const {
  std::vector<std::string> ids;
  for (const auto& p : map_.probes) ids.push_back(p.id);
  return ids;
}

std::vector<ProbeResult> ProviderChecks::AllUnknown(const ProviderMap& map, const std::string& reason) {
  std::vector<ProbeResult> out;
  for (const auto& p : map.probes) out.push_back({p.id, Outcome::kUnknown, reason});
  return out;
}

ProbeResult ProviderChecks::Evaluate(const MapProbe& probe, const ProviderMap& map,
                                     const std::map<std::string, Result<OpenSrsReply>>& replies, const MapVars& vars) {
  std::vector<PartResult> parts;
  for (const auto& part : probe.parts) parts.push_back(EvaluatePart(part, map, replies, vars));
  bool any_fail = false, any_unknown = false, any_decided = false;
  for (const auto& p : parts) {
    if (p.info) continue;
    any_decided = true;
    any_fail |= p.outcome == Outcome::kFail;
    any_unknown |= p.outcome == Outcome::kUnknown;
  }
  ProbeResult result;
  result.id = probe.id;
  result.outcome = !any_decided ? Outcome::kUnknown
                   : any_fail   ? Outcome::kFail
                   : any_unknown ? Outcome::kUnknown
                                 : Outcome::kPass;
  // Lead with what decided: failures first, then the undecided parts, then the passes (only
  // when nothing failed); summaries last.
  std::vector<std::string> lines;
  for (Outcome o : {Outcome::kFail, Outcome::kUnknown, Outcome::kPass}) {
    if (result.outcome == Outcome::kFail && o != Outcome::kFail) continue;
    for (const auto& p : parts) {
      if (!p.info && p.outcome == o && !p.detail.empty() &&
          std::find(lines.begin(), lines.end(), p.detail) == lines.end()) {
        lines.push_back(p.detail);
      }
    }
  }
  for (const auto& p : parts) {
    if (p.info && !p.detail.empty()) lines.push_back(p.detail);
  }
  for (const auto& l : lines) result.detail += (result.detail.empty() ? "" : " ") + l;
  return result;
}

std::vector<ProbeResult> ProviderChecks::Run(const ProbeTarget& target,
                                             std::chrono::steady_clock::time_point deadline) const {
  const MapVars vars = VarsFor(target);

  // The calls the probes need, each once.
  std::vector<std::string> needed;
  for (const auto& probe : map_.probes) {
    for (const auto& part : probe.parts) {
      if (part.call.empty() || std::find(needed.begin(), needed.end(), part.call) != needed.end()) continue;
      if (map_.calls.at(part.call).needs_mailbox && target.mailbox.empty()) continue;
      needed.push_back(part.call);
    }
  }

  // One thread per call. A call that outlives the deadline finishes on its own: the shared
  // state and the client stay alive until it does.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, std::optional<Result<OpenSrsReply>>> done;
    size_t finished = 0;
  };
  auto shared = std::make_shared<Shared>();
  for (const auto& name : needed) shared->done[name];
  for (const auto& name : needed) {
    const MapCall& call = map_.calls.at(name);
    json params = SubstituteParams(call.params, vars);
    std::string subject = target.mailbox.empty() || !call.needs_mailbox ? target.domain : target.mailbox;
    auto token = std::make_unique<InFlight::Token>(in_flight_);
    std::thread([shared, client = client_, name, method = call.method, params = std::move(params), subject,
                 token = std::move(token)] {
      Result<OpenSrsReply> reply = client->Call(method, params, subject);
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->done[name].emplace(std::move(reply));
      ++shared->finished;
      shared->cv.notify_all();
    }).detach();
  }
  std::map<std::string, Result<OpenSrsReply>> replies;
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    shared->cv.wait_until(lock, deadline, [&] { return shared->finished == needed.size(); });
    for (auto& [name, reply] : shared->done) {
      if (reply) {
        replies.emplace(name, *reply);
      } else {
        replies.emplace(name, Status::Unavailable(map_.calls.at(name).method + ": no answer before the deadline"));
      }
    }
  }

  std::vector<ProbeResult> results;
  for (const auto& probe : map_.probes) results.push_back(Evaluate(probe, map_, replies, vars));
  return results;
}

Result<MailboxToken> ProviderChecks::GenerateToken(const std::string& mailbox, const std::string& reason) const {
  if (!map_.token) return Status::PermissionDenied("the provider mapping names no token method");
  const auto& roles = map_.token->roles;
  if (std::find(roles.begin(), roles.end(), role_) == roles.end()) {
    std::string allowed;
    for (const auto& r : roles) allowed += (allowed.empty() ? "" : ", ") + r;
    return Status::PermissionDenied("mailguide's admin login has the role " + role_ +
                                    ", which may not generate email tokens (roles that may: " + allowed + ")");
  }
  if (mailbox.find('@') == std::string::npos) return Status::InvalidArgument("a token is for a mailbox (alice@example.com)");
  if (reason.empty()) return Status::InvalidArgument("say why the token is needed (e.g. the ticket number)");
  MapVars vars;
  vars.mailbox = mailbox;
  vars.local = mailbox.substr(0, mailbox.rfind('@'));
  vars.domain = mailbox.substr(mailbox.rfind('@') + 1);
  vars.reason = reason;
  auto reply = client_->Call(map_.token->method, SubstituteParams(map_.token->params, vars), mailbox);
  if (!reply.ok()) return reply.status();
  const json* token = LookupPath(reply->body, map_.token->token_path, vars);
  if (!token || !token->is_string() || token->get<std::string>().empty()) {
    return Status::Internal(map_.token->method + ": the reply has no " + map_.token->token_path +
                            (reply->audit.empty() ? "" : " [audit " + reply->audit + "]"));
  }
  MailboxToken out{token->get<std::string>(), reply->audit, 0};
  if (auto it = reply->body.find("duration"); it != reply->body.end() && it->is_number_integer()) {
    out.duration_hours = it->get<int>();
  }
  return out;
}

}  // namespace bot::checks
