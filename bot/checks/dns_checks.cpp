#include "bot/checks/dns_checks.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace bot::checks {

namespace {

using Outcome = ProbeResult::Outcome;

ProbeResult Make(const char* id, Outcome outcome, std::string detail) {
  ProbeResult r;
  r.id = id;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// A record quoted for a detail line, shortened when long.
std::string Quote(const std::string& s, size_t max = 160) {
  return "\"" + (s.size() > max ? s.substr(0, max) + "…" : s) + "\"";
}

bool UnderOneOf(const std::string& host, const std::vector<std::string>& names) {
  if (names.empty()) return true;
  for (const auto& n : names) {
    if (host == n) return true;
    if (host.size() > n.size() && host.ends_with(n) && host[host.size() - n.size() - 1] == '.') return true;
  }
  return false;
}

// The lookup failed without saying anything about the name: "could not ... : <reason>".
ProbeResult Inconclusive(const char* id, const std::string& what, const DnsAnswer& a) {
  return Make(id, Outcome::kUnknown, "Could not " + what + ": " + a.Describe() + ".");
}

}  // namespace

// --- MX ---------------------------------------------------------------------------------------

ProbeResult CheckMx(const DnsResolver& dns, const std::string& domain, const DnsCheckOptions& options,
                    Deadline deadline, DnsStatus* domain_lookup) {
  DnsAnswer mx = dns.Resolve({domain, DnsType::kMx}, deadline);
  if (domain_lookup) *domain_lookup = mx.status;
  switch (mx.status) {
    case DnsStatus::kOk: break;
    case DnsStatus::kNxDomain:
      return Make("mx", Outcome::kFail, domain + " does not exist in DNS (NXDOMAIN), so no MX record is published.");
    case DnsStatus::kNoData:
      return Make("mx", Outcome::kFail, "No MX record is published for " + domain + " (NODATA).");
    default: return Inconclusive("mx", "look up the MX records of " + domain, mx);
  }
  std::vector<std::string> listed;
  for (const auto& r : mx.mx) listed.push_back(std::to_string(r.preference) + " " + (r.host.empty() ? "." : r.host));
  const std::string evidence = "MX " + Join(listed, ", ");
  if (std::any_of(mx.mx.begin(), mx.mx.end(), [](const MxRecord& r) { return r.host.empty(); })) {
    return Make("mx", Outcome::kFail, evidence + ": a null MX (RFC 7505) says " + domain + " accepts no mail.");
  }

  std::vector<std::string> foreign;
  for (const auto& r : mx.mx) {
    if (!UnderOneOf(r.host, options.mx_hosts)) foreign.push_back(r.host);
  }

  // Resolvable: every target has an A or an AAAA record.
  std::vector<DnsQuery> queries;
  for (const auto& r : mx.mx) {
    queries.push_back({r.host, DnsType::kA});
    queries.push_back({r.host, DnsType::kAaaa});
  }
  std::vector<DnsAnswer> addrs = dns.Resolve(queries, deadline);
  std::vector<std::string> unresolved, undecided, resolved;
  for (size_t i = 0; i < mx.mx.size(); ++i) {
    const DnsAnswer& a = addrs[2 * i];
    const DnsAnswer& aaaa = addrs[2 * i + 1];
    std::vector<std::string> ips = a.addresses;
    ips.insert(ips.end(), aaaa.addresses.begin(), aaaa.addresses.end());
    if (!ips.empty()) {
      resolved.push_back(mx.mx[i].host + " (" + Join(ips, ", ") + ")");
    } else if (IsConclusive(a.status) && IsConclusive(aaaa.status)) {
      unresolved.push_back(mx.mx[i].host + " (" + DnsStatusName(a.status == DnsStatus::kNxDomain ? a.status : aaaa.status) + ")");
    } else {
      undecided.push_back(IsConclusive(a.status) ? aaaa.Describe() : a.Describe());
    }
  }

  if (!foreign.empty()) {
    return Make("mx", Outcome::kFail,
                evidence + ": " + Join(foreign, ", ") + (foreign.size() == 1 ? " is" : " are") +
                    " not the provider's mail host (expected a host under " + Join(options.mx_hosts, " or ") + ").");
  }
  if (!unresolved.empty()) {
    return Make("mx", Outcome::kFail, evidence + ", but " + Join(unresolved, ", ") + " has no A or AAAA record.");
  }
  if (!undecided.empty()) {
    return Make("mx", Outcome::kUnknown,
                evidence + ", but could not resolve every target: " + Join(undecided, "; ") + ".");
  }
  return Make("mx", Outcome::kPass, evidence + "; resolves to " + Join(resolved, ", ") + ".");
}

// --- SPF --------------------------------------------------------------------------------------

bool IsSpfRecord(const std::string& txt) {
  std::string t = Lower(Trim(txt));
  return t == "v=spf1" || t.rfind("v=spf1 ", 0) == 0;
}

SpfRecordInfo ParseSpf(const std::string& record) {
  SpfRecordInfo info;
  std::string redirect;
  std::string text = Trim(record);
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    size_t end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    std::string term = text.substr(pos, end - pos);
    pos = end;
    if (term.empty()) continue;
    if (first) {  // "v=spf1"
      first = false;
      continue;
    }
    std::string lower = Lower(term);
    if (size_t eq = lower.find('='); eq != std::string::npos && lower.find(':') > eq) {  // a modifier
      if (lower.substr(0, eq) == "redirect") {
        redirect = lower.substr(eq + 1);
        ++info.lookups;
      }
      continue;
    }
    if (!lower.empty() && std::string("+-~?").find(lower[0]) != std::string::npos) lower.erase(0, 1);
    size_t sep = lower.find_first_of(":/");
    std::string name = lower.substr(0, sep);
    if (name == "include") {
      ++info.lookups;
      if (sep != std::string::npos && lower[sep] == ':') {
        std::string target = lower.substr(sep + 1);
        while (!target.empty() && target.back() == '.') target.pop_back();
        info.includes.push_back(target);
      }
    } else if (name == "a" || name == "mx" || name == "ptr" || name == "exists") {
      ++info.lookups;
    } else if (name == "all") {
      info.has_all = true;
    }
  }
  // RFC 7208 §6.1: redirect= is ignored when the record has an "all" mechanism.
  if (!redirect.empty() && !info.has_all) {
    while (!redirect.empty() && redirect.back() == '.') redirect.pop_back();
    info.includes.push_back(redirect);
  } else if (!redirect.empty()) {
    --info.lookups;
  }
  return info;
}

namespace {

struct SpfFetch {
  bool fetched = false;
  DnsAnswer answer;
  std::vector<std::string> records;  // the v=spf1 ones
};

constexpr int kSpfLookupLimit = 10;
constexpr int kSpfMaxDepth = 10;
constexpr size_t kSpfMaxFetches = 40;

struct SpfWalk {
  SpfWalk(const std::map<std::string, SpfFetch>& f, const std::string& p) : fetched(f), provider(p) {}
  const std::map<std::string, SpfFetch>& fetched;
  const std::string& provider;
  bool provider_seen = false;
  bool incomplete = false;
  bool loop = false;
  std::vector<std::string> permerrors;
  std::vector<std::string> undecided;

  // Lookups made while evaluating `record` (the record's own terms and everything below).
  int Count(const std::string& record, int depth, std::set<std::string>& path) {
    SpfRecordInfo info = ParseSpf(record);
    int total = info.lookups;
    for (const auto& target : info.includes) {
      if (!provider.empty() && target == provider) provider_seen = true;
      if (target.find('%') != std::string::npos) continue;  // a macro: cannot be expanded without a sender
      if (depth + 1 > kSpfMaxDepth || path.count(target)) {
        loop = true;
        return kSpfLookupLimit + 1;
      }
      auto it = fetched.find(target);
      if (it == fetched.end() || !it->second.fetched) {
        incomplete = true;
        continue;
      }
      const SpfFetch& f = it->second;
      if (!IsConclusive(f.answer.status)) {
        incomplete = true;
        undecided.push_back(f.answer.Describe());
        continue;
      }
      if (f.records.size() != 1) {
        permerrors.push_back(target + (f.records.empty() ? " publishes no SPF record (" + std::string(DnsStatusName(f.answer.status)) + ")"
                                                         : " publishes " + std::to_string(f.records.size()) + " SPF records"));
        continue;
      }
      path.insert(target);
      total += Count(f.records.front(), depth + 1, path);
      path.erase(target);
      if (total > kSpfLookupLimit * 4) return total;  // far past the limit: stop walking
    }
    return total;
  }
};

}  // namespace

ProbeResult CheckSpf(const DnsResolver& dns, const std::string& domain, const DnsCheckOptions& options,
                     Deadline deadline) {
  DnsAnswer txt = dns.Resolve({domain, DnsType::kTxt}, deadline);
  if (txt.status == DnsStatus::kNxDomain) {
    return Make("spf", Outcome::kFail, domain + " does not exist in DNS (NXDOMAIN), so no SPF record is published.");
  }
  if (!IsConclusive(txt.status)) return Inconclusive("spf", "look up the TXT records of " + domain, txt);
  std::vector<std::string> spf;
  for (const auto& t : txt.txt) {
    if (IsSpfRecord(t)) spf.push_back(Trim(t));
  }
  if (spf.empty()) return Make("spf", Outcome::kFail, "No SPF record (v=spf1) is published for " + domain + ".");
  if (spf.size() > 1) {
    std::vector<std::string> quoted;
    for (const auto& s : spf) quoted.push_back(Quote(s, 80));
    return Make("spf", Outcome::kFail,
                std::to_string(spf.size()) + " SPF records are published for " + domain + " (" + Join(quoted, ", ") +
                    "); there must be exactly one, so receivers treat SPF as broken (permerror).");
  }
  const std::string& record = spf.front();

  // Fetch every include/redirect target, level by level, each level in parallel.
  std::map<std::string, SpfFetch> fetched;
  std::vector<std::string> frontier = ParseSpf(record).includes;
  for (int depth = 0; depth < kSpfMaxDepth && !frontier.empty(); ++depth) {
    std::vector<DnsQuery> queries;
    std::vector<std::string> names;
    for (const auto& t : frontier) {
      if (t.find('%') != std::string::npos || fetched.count(t) || fetched.size() + names.size() >= kSpfMaxFetches) continue;
      if (std::find(names.begin(), names.end(), t) != names.end()) continue;
      names.push_back(t);
      queries.push_back({t, DnsType::kTxt});
    }
    std::vector<DnsAnswer> answers = dns.Resolve(queries, deadline);
    frontier.clear();
    for (size_t i = 0; i < names.size(); ++i) {
      SpfFetch f;
      f.fetched = true;
      f.answer = answers[i];
      for (const auto& t : answers[i].txt) {
        if (IsSpfRecord(t)) f.records.push_back(Trim(t));
      }
      if (f.records.size() == 1) {
        for (const auto& next : ParseSpf(f.records.front()).includes) frontier.push_back(next);
      }
      fetched.emplace(names[i], std::move(f));
    }
  }

  SpfWalk walk(fetched, options.spf_include);
  std::set<std::string> path{Lower(domain)};
  int lookups = walk.Count(record, 0, path);
  const std::string evidence = Quote(record);

  if (walk.loop) {
    return Make("spf", Outcome::kFail,
                evidence + ": its includes loop or nest deeper than " + std::to_string(kSpfMaxDepth) +
                    " levels, so receivers stop with an error (permerror).");
  }
  if (lookups > kSpfLookupLimit) {
    return Make("spf", Outcome::kFail,
                evidence + " needs " + std::to_string(lookups) + (walk.incomplete ? " or more" : "") +
                    " DNS lookups; the limit is 10 (RFC 7208 §4.6.4), so receivers treat it as an error (permerror).");
  }
  if (!walk.permerrors.empty()) {
    return Make("spf", Outcome::kFail,
                evidence + ": " + Join(walk.permerrors, "; ") + ", so receivers treat SPF as an error (permerror).");
  }
  if (!options.spf_include.empty() && !walk.provider_seen) {
    return Make("spf", Outcome::kFail,
                evidence + " does not include the provider (include:" + options.spf_include +
                    "), so mail sent through the provider fails SPF.");
  }
  if (walk.incomplete) {
    return Make("spf", Outcome::kUnknown,
                evidence + (walk.provider_seen ? " includes the provider, but" : "") +
                    " its DNS lookups could not all be counted: " +
                    (walk.undecided.empty() ? std::string("too many includes to follow") : Join(walk.undecided, "; ")) + ".");
  }
  return Make("spf", Outcome::kPass,
              evidence + (options.spf_include.empty() ? "" : " includes " + options.spf_include) + "; " +
                  std::to_string(lookups) + " of 10 DNS lookups.");
}

// --- DMARC ------------------------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> ParseTags(const std::string& record) {
  std::vector<std::pair<std::string, std::string>> tags;
  size_t pos = 0;
  while (pos <= record.size()) {
    size_t semi = record.find(';', pos);
    std::string part = Trim(record.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos));
    if (size_t eq = part.find('='); eq != std::string::npos) {
      tags.emplace_back(Lower(Trim(part.substr(0, eq))), Trim(part.substr(eq + 1)));
    }
    if (semi == std::string::npos) break;
    pos = semi + 1;
  }
  return tags;
}

namespace {

std::string Tag(const std::vector<std::pair<std::string, std::string>>& tags, const std::string& key, bool* present = nullptr) {
  for (const auto& [k, v] : tags) {
    if (k == key) {
      if (present) *present = true;
      return v;
    }
  }
  if (present) *present = false;
  return "";
}

}  // namespace

ProbeResult CheckDmarc(const DnsResolver& dns, const std::string& domain, Deadline deadline) {
  const std::string name = "_dmarc." + domain;
  DnsAnswer txt = dns.Resolve({name, DnsType::kTxt}, deadline);
  if (!IsConclusive(txt.status)) return Inconclusive("dmarc", "look up " + name, txt);
  std::vector<std::string> records;
  for (const auto& t : txt.txt) {
    std::string l = Lower(Trim(t));
    if (l.rfind("v=dmarc1", 0) == 0 && (l.size() == 8 || l[8] == ';' || std::isspace(static_cast<unsigned char>(l[8])))) {
      records.push_back(Trim(t));
    }
  }
  if (records.empty()) {
    return Make("dmarc", Outcome::kFail,
                "No DMARC record is published at " + name + " (" +
                    (txt.status == DnsStatus::kOk ? std::string("TXT without v=DMARC1") : DnsStatusName(txt.status)) + ").");
  }
  if (records.size() > 1) {
    return Make("dmarc", Outcome::kFail,
                std::to_string(records.size()) + " DMARC records are published at " + name +
                    "; with more than one, receivers ignore DMARC for the domain.");
  }
  auto tags = ParseTags(records.front());
  bool has_p = false;
  std::string p = Lower(Tag(tags, "p", &has_p));
  const std::string evidence = name + " " + Quote(records.front());
  if (!has_p || (p != "none" && p != "quarantine" && p != "reject")) {
    return Make("dmarc", Outcome::kFail,
                evidence + " has no valid policy (p=none, quarantine or reject), so receivers ignore it.");
  }
  std::string meaning = p == "none"     ? "monitoring only: receivers take no action on failing mail"
                        : p == "reject" ? "receivers reject mail that fails SPF and DKIM alignment"
                                        : "receivers treat mail that fails SPF and DKIM alignment as spam";
  std::string extra;
  if (std::string pct = Tag(tags, "pct"); !pct.empty() && pct != "100") extra += ", pct=" + pct;
  if (std::string sp = Tag(tags, "sp"); !sp.empty()) extra += ", sp=" + Lower(sp);
  return Make("dmarc", Outcome::kPass, evidence + ": policy " + p + extra + " (" + meaning + ").");
}

// --- DKIM -------------------------------------------------------------------------------------

ProbeResult CheckDkim(const DnsResolver& dns, const std::string& domain, const DnsCheckOptions& options,
                      Deadline deadline) {
  if (options.dkim_selectors.empty()) {
    return Make("dkim", Outcome::kUnknown,
                "No DKIM selector is configured (MAILGUIDE_DKIM_SELECTORS), so there is no key name to look up.");
  }
  std::vector<DnsQuery> queries;
  for (const auto& s : options.dkim_selectors) queries.push_back({s + "._domainkey." + domain, DnsType::kTxt});
  std::vector<DnsAnswer> answers = dns.Resolve(queries, deadline);
  std::vector<std::string> found, missing, undecided;
  for (const auto& a : answers) {
    if (!IsConclusive(a.status)) {
      undecided.push_back(a.Describe());
      continue;
    }
    bool key = false, revoked = false;
    for (const auto& t : a.txt) {
      bool has_p = false;
      std::string p = Tag(ParseTags(t), "p", &has_p);
      if (has_p && !p.empty()) key = true;
      if (has_p && p.empty()) revoked = true;
    }
    if (key) {
      found.push_back(a.query.name);
    } else if (revoked) {
      missing.push_back(a.query.name + " (key revoked: empty p=)");
    } else {
      missing.push_back(a.query.name + " (" + (a.status == DnsStatus::kOk ? std::string("no p= key") : DnsStatusName(a.status)) + ")");
    }
  }
  if (!found.empty()) {
    return Make("dkim", Outcome::kPass, "DKIM public key published at " + Join(found, ", ") + ".");
  }
  if (!undecided.empty()) {
    return Make("dkim", Outcome::kUnknown,
                "Could not look up every DKIM selector: " + Join(undecided, "; ") +
                    (missing.empty() ? "" : "; no key at " + Join(missing, ", ")) + ".");
  }
  return Make("dkim", Outcome::kFail, "No DKIM public key at " + Join(missing, ", ") + ".");
}

}  // namespace bot::checks
