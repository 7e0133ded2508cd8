// The SMTP knowledge base: loading flows/smtp/*.json, looking codes up, and turning a code (or a
// whole bounce) into one explanation for a support agent.
#include "bot/smtp/smtp.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "bot/smtp/bounce_parser.h"

namespace bot::smtp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// How much of a message the word patterns read (bounces say why near the top).
constexpr size_t kMaxPatternText = 128 * 1024;

const std::array<std::string_view, 12> kCategories = {
    "auth", "recipient-unknown", "mailbox-full", "too-large", "policy-blocklist", "dmarc-spf-dkim",
    "mailbox-disabled", "rate-limit", "syntax", "server-unavailable", "transient-other", "none"};
const std::array<std::string_view, 3> kSections = {"sending", "receiving", "none"};
const std::array<std::string_view, 6> kKinds = {"categories", "basic-codes", "enhanced-codes",
                                                "guide-table", "provider-codes", "text-patterns"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view TrimView(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return s;
}

std::string Squeeze(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  return out;
}

bool Has(const auto& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// "X.7.26" for "5.7.26"; "X.7.X" for the subject; "5.X.X" for the class.
std::string DetailKey(const std::string& e) { return "X" + e.substr(1); }
std::string SubjectKey(const std::string& e) {
  size_t second = e.find('.', 2);
  return "X" + e.substr(1, second - 1) + ".X";
}
std::string ClassKey(const std::string& e) { return e.substr(0, 1) + ".X.X"; }

bool IsDetailCode(const std::string& e) {
  // "5.0.0"-style: the detail (and subject) say nothing.
  return !(e.size() == 5 && e[2] == '0' && e[4] == '0');
}

// Numeric compare of enhanced details for provider ranges ("5.7.606".."5.7.649").
bool InRange(const std::string& code, const std::string& first, const std::string& last) {
  auto parts = [](const std::string& c, int* cls, int* sub, int* det) {
    if (c.size() < 5) return false;
    *cls = c[0] == 'X' ? -1 : c[0] - '0';
    size_t a = c.find('.'), b = c.find('.', a + 1);
    if (a == std::string::npos || b == std::string::npos) return false;
    *sub = std::atoi(c.substr(a + 1, b - a - 1).c_str());
    *det = std::atoi(c.substr(b + 1).c_str());
    return true;
  };
  int c1, s1, d1, c2, s2, d2, c3, s3, d3;
  if (!parts(code, &c1, &s1, &d1) || !parts(first, &c2, &s2, &d2) || !parts(last, &c3, &s3, &d3)) return false;
  if (c2 != -1 && c1 != c2) return false;
  return s1 == s2 && s1 == s3 && d1 >= d2 && d1 <= d3;
}

bool CodeMatches(const std::string& pattern, const std::string& basic, const std::string& enhanced) {
  if (pattern.empty()) return false;
  if (basic.empty() && enhanced.empty()) return true;  // no code at all: the words decide
  if (pattern.find('.') == std::string::npos) {
    // A basic code in a pattern's list speaks only when no specific enhanced code does.
    bool generic = enhanced.empty() || (enhanced.size() == 5 && enhanced.compare(1, 4, ".0.0") == 0);
    if (!generic) return false;
    if (pattern.size() == 3 && pattern[1] == 'X') return !basic.empty() && basic[0] == pattern[0];
    return pattern == basic;
  }
  if (enhanced.empty()) return false;
  if (pattern[0] == 'X') return pattern.substr(1) == enhanced.substr(1);
  return pattern == enhanced;
}

// Validation of one JSON entry; `where` is "file: /entries/3".
Status ReadEntry(const json& j, const std::string& kind, const std::string& where,
                 const std::map<std::string, std::string>& faults, Entry* out) {
  if (!j.is_object()) return Status::InvalidArgument(where + ": must be an object");
  auto str = [&](const char* key, bool required, std::string* dst) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) return Status::InvalidArgument(where + "/" + key + ": missing");
      return Status::Ok();
    }
    if (!it->is_string()) return Status::InvalidArgument(where + "/" + key + ": must be a string");
    *dst = it->get<std::string>();
    if (required && TrimView(*dst).empty()) return Status::InvalidArgument(where + "/" + key + ": must not be empty");
    return Status::Ok();
  };
  auto list = [&](const char* key, bool required, std::vector<std::string>* dst) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) return Status::InvalidArgument(where + "/" + key + ": missing");
      return Status::Ok();
    }
    if (!it->is_array()) return Status::InvalidArgument(where + "/" + key + ": must be an array of strings");
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string() || (*it)[i].get<std::string>().empty())
        return Status::InvalidArgument(where + "/" + key + "/" + std::to_string(i) + ": must be a non-empty string");
      dst->push_back((*it)[i].get<std::string>());
    }
    if (required && dst->empty()) return Status::InvalidArgument(where + "/" + key + ": must not be empty");
    return Status::Ok();
  };
  auto flag = [&](const char* key, bool* dst) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return Status::Ok();
    if (!it->is_boolean()) return Status::InvalidArgument(where + "/" + key + ": must be true or false");
    *dst = it->get<bool>();
    return Status::Ok();
  };
  static const std::set<std::string> kKnown = {"code", "code_last", "title", "meaning", "checks", "category",
                                               "section", "fault", "provider", "note", "requires_text",
                                               "match", "codes", "generic", "strong", "id"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKnown.count(it.key())) return Status::InvalidArgument(where + "/" + it.key() + ": unknown field");

  bool pattern = kind == "text-patterns";
  Status s;
  if (!(s = str("code", !pattern, &out->code)).ok()) return s;
  if (!(s = str("code_last", false, &out->code_last)).ok()) return s;
  if (!(s = str("title", true, &out->title)).ok()) return s;
  if (!(s = str("meaning", true, &out->meaning)).ok()) return s;
  if (!(s = list("checks", false, &out->checks)).ok()) return s;
  if (!(s = str("category", kind != "enhanced-codes" && kind != "basic-codes", &out->category)).ok()) return s;
  if (!(s = str("section", false, &out->section)).ok()) return s;
  if (!(s = str("fault", false, &out->fault)).ok()) return s;
  if (!(s = str("provider", kind == "provider-codes", &out->provider)).ok()) return s;
  if (!(s = str("note", false, &out->note)).ok()) return s;
  if (!(s = list("requires_text", false, &out->requires_text)).ok()) return s;
  if (!(s = list("match", false, &out->match)).ok()) return s;
  if (!(s = list("codes", false, &out->codes)).ok()) return s;
  if (!(s = flag("generic", &out->generic)).ok()) return s;
  if (!(s = flag("strong", &out->strong)).ok()) return s;
  if (!(s = str("id", pattern, &out->id)).ok()) return s;

  if (!out->category.empty() && !Has(kCategories, out->category))
    return Status::InvalidArgument(where + "/category: unknown category \"" + out->category + "\"");
  if (!out->section.empty() && !Has(kSections, out->section))
    return Status::InvalidArgument(where + "/section: must be sending, receiving or none, not \"" + out->section + "\"");
  if (!out->fault.empty() && !faults.count(out->fault))
    return Status::InvalidArgument(where + "/fault: unknown fault side \"" + out->fault + "\"");
  for (auto& m : out->match) m = Lower(m);
  for (auto& m : out->requires_text) m = Lower(m);

  // Code shapes per kind.
  const std::string& c = out->code;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(where + "/code: \"" + c + "\" " + why);
  };
  if (kind == "basic-codes") {
    bool group = c.size() == 3 && ((c[1] == 'X' && c[2] == 'X' && c[0] >= '2' && c[0] <= '5') ||
                                   (c[0] == 'X' && c[2] == 'X' && c[1] >= '0' && c[1] <= '5'));
    if (!IsBasicCode(c) && !group) return bad("is not a basic code (550) or a class/group row (5XX, X5X)");
  } else if (kind == "enhanced-codes") {
    bool ok = false;
    if (c.size() == 5 && (c[0] == '2' || c[0] == '4' || c[0] == '5') && c.substr(1) == ".X.X") ok = true;
    if (!ok && c.size() >= 5 && c[0] == 'X') ok = IsEnhancedCode("5" + c.substr(1)) ||
                                                  (c.back() == 'X' && IsEnhancedCode("5" + c.substr(1, c.size() - 2) + "0"));
    if (!ok) return bad("is not an enhanced registry code (X.7.26, X.7.X or 5.X.X)");
  } else if (kind == "guide-table") {
    std::string b = c.substr(0, 3);
    if (!IsBasicCode(b) || (c.size() > 3 && (c[3] != ' ' || !IsEnhancedCode(c.substr(4)))))
      return bad("is not \"550\" or \"550 5.7.26\"");
  } else if (kind == "provider-codes") {
    std::string norm = c[0] == 'X' ? "5" + c.substr(1) : c;
    if (!IsEnhancedCode(norm) && !IsBasicCode(c)) return bad("is not an enhanced code (5.7.606 or X.7.27)");
    if (!out->code_last.empty()) {
      std::string l = out->code_last[0] == 'X' ? "5" + out->code_last.substr(1) : out->code_last;
      if (!IsEnhancedCode(l)) return Status::InvalidArgument(where + "/code_last: \"" + out->code_last + "\" is not an enhanced code");
    }
  } else if (pattern) {
    if (out->match.empty()) {
      // Structural entries (auto-reply, delivered, feedback) are chosen by the parser by id.
      static const std::set<std::string> kStructural = {"auto-reply", "delivered", "feedback-report",
                                                        "no-code", "success"};
      if (!kStructural.count(out->id))
        return Status::InvalidArgument(where + "/match: missing (only auto-reply, delivered, feedback-report, "
                                       "no-code and success may go without)");
    }
    for (auto& code : out->codes) {
      std::string norm = code[0] == 'X' ? "5" + code.substr(1) : code;
      bool group = code.size() == 3 && code[0] >= '2' && code[0] <= '5' && code[1] == 'X' && code[2] == 'X';
      if (!IsEnhancedCode(norm) && !IsBasicCode(code) && !group)
        return Status::InvalidArgument(where + "/codes: \"" + code + "\" is not a code");
    }
  }
  return Status::Ok();
}

std::string PermanenceSentence(const Explanation& e) {
  if (!e.failure) return "";
  if (e.permanent) return "Permanent failure: the sending server has given up, and sending the same message again unchanged will fail again.";
  return "Temporary failure: nothing is lost yet; the sending server keeps retrying for a while (usually up to a few days) before it gives up.";
}

std::string CodeLabel(const std::string& basic, const std::string& enhanced) {
  if (!basic.empty() && !enhanced.empty()) return basic + " " + enhanced;
  if (!basic.empty()) return basic;
  return enhanced;
}

}  // namespace

struct Knowledge::Context {
  bool code_only = false;
  bool has_code = false;
  ParsedBounce::Kind kind = ParsedBounce::Kind::kUnknown;
};

// ---------------------------------------------------------------------------------------------
// Loading.

Result<Knowledge> Knowledge::Load(const std::string& flows_dir) {
  Knowledge k;
  fs::path dir = fs::path(flows_dir) / "smtp";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::InvalidArgument(dir.string() + ": no such directory (the SMTP knowledge base lives there)");
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".json" && it->path().filename() != "schema.json") files.push_back(it->path());
  }
  if (ec) return Status::InvalidArgument(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());

  // Categories first: the other files refer to their fault keys.
  std::vector<std::pair<fs::path, json>> docs;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return Status::InvalidArgument(f.string() + ": cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    json doc;
    try {
      doc = json::parse(ss.str());
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a too-large number
      return Status::InvalidArgument(f.string() + ": not valid JSON: " + e.what());
    } catch (const std::exception& e) {
      return Status::InvalidArgument(f.string() + ": " + e.what());
    }
    if (!doc.is_object()) return Status::InvalidArgument(f.string() + ": /: must be an object");
    auto kind = doc.find("kind");
    if (kind == doc.end() || !kind->is_string() || !Has(kKinds, kind->get<std::string>()))
      return Status::InvalidArgument(f.string() + ": /kind: must be one of categories, basic-codes, "
                                     "enhanced-codes, guide-table, provider-codes, text-patterns");
    docs.emplace_back(f, std::move(doc));
  }
  try {
    bool have_categories = false;
    for (auto& [f, doc] : docs) {
      if (doc["kind"] != "categories") continue;
      have_categories = true;
      std::string where = f.string() + ": ";
      for (const char* key : {"faults", "sections"}) {
        auto it = doc.find(key);
        if (it == doc.end() || !it->is_object()) return Status::InvalidArgument(where + "/" + key + ": must be an object");
        for (auto x = it->begin(); x != it->end(); ++x) {
          if (!x->is_string()) return Status::InvalidArgument(where + "/" + key + "/" + x.key() + ": must be a string");
          (std::string(key) == "faults" ? k.faults_ : k.sections_)[x.key()] = x->get<std::string>();
        }
      }
      for (auto s : kSections)
        if (!k.sections_.count(std::string(s)))
          return Status::InvalidArgument(where + "/sections/" + std::string(s) + ": missing");
      auto entries = doc.find("entries");
      if (entries == doc.end() || !entries->is_array()) return Status::InvalidArgument(where + "/entries: must be an array");
      for (size_t i = 0; i < entries->size(); ++i) {
        const json& e = (*entries)[i];
        std::string w = where + "/entries/" + std::to_string(i);
        CategoryInfo c;
        for (auto [key, dst] : {std::pair<const char*, std::string*>{"key", &c.key}, {"label", &c.label},
                                {"section", &c.section}, {"fault", &c.fault}}) {
          if (!e.is_object() || !e.contains(key) || !e[key].is_string())
            return Status::InvalidArgument(w + "/" + key + ": missing or not a string");
          *dst = e[key].get<std::string>();
        }
        if (!Has(kCategories, c.key)) return Status::InvalidArgument(w + "/key: unknown category \"" + c.key + "\"");
        if (!Has(kSections, c.section)) return Status::InvalidArgument(w + "/section: must be sending, receiving or none");
        if (!k.faults_.count(c.fault)) return Status::InvalidArgument(w + "/fault: unknown fault side \"" + c.fault + "\"");
        k.categories_[c.key] = c;
      }
    }
    if (!have_categories) return Status::InvalidArgument(dir.string() + ": no file of kind \"categories\"");
    for (auto c : kCategories)
      if (!k.categories_.count(std::string(c)))
        return Status::InvalidArgument(dir.string() + ": category \"" + std::string(c) + "\" is not described");

    for (auto& [f, doc] : docs) {
      std::string kind = doc["kind"].get<std::string>();
      if (kind == "categories") continue;
      std::string where = f.string() + ": ";
      auto entries = doc.find("entries");
      if (entries == doc.end() || !entries->is_array() || entries->empty())
        return Status::InvalidArgument(where + "/entries: must be a non-empty array");
      for (size_t i = 0; i < entries->size(); ++i) {
        Entry e;
        Status s = ReadEntry((*entries)[i], kind, where + "/entries/" + std::to_string(i), k.faults_, &e);
        if (!s.ok()) return s;
        e.file = f.filename().string() + "#" + kind;
        (kind == "text-patterns" ? k.patterns_ : k.entries_).push_back(std::move(e));
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(dir.string() + ": " + e.what());
  }
  k.Index();
  // Duplicate codes in one table are mistakes.
  std::map<std::string, std::string> seen;
  for (const auto& e : k.entries_) {
    if (e.file.find("#provider-codes") != std::string::npos) continue;
    std::string key = e.file.substr(e.file.find('#')) + " " + e.code;
    if (seen.count(key)) return Status::InvalidArgument(e.file.substr(0, e.file.find('#')) + ": code \"" + e.code + "\" appears twice");
    seen[key] = e.file;
  }
  if (k.basic_.empty() || k.enhanced_.empty())
    return Status::InvalidArgument(dir.string() + ": needs basic-codes and enhanced-codes files");
  return k;
}

void Knowledge::Index() {
  basic_.clear();
  enhanced_.clear();
  guide_.clear();
  providers_.clear();
  for (const auto& e : entries_) {
    std::string kind = e.file.substr(e.file.find('#') + 1);
    if (kind == "basic-codes") basic_[e.code] = &e;
    else if (kind == "enhanced-codes") enhanced_[e.code] = &e;
    else if (kind == "guide-table") guide_[e.code] = &e;
    else if (kind == "provider-codes") providers_.push_back(&e);
  }
}

// ---------------------------------------------------------------------------------------------
// Look-ups.

const Entry* Knowledge::LookupEnhanced(const std::string& enhanced) const {
  if (!IsEnhancedCode(enhanced)) return nullptr;
  if (auto it = enhanced_.find(DetailKey(enhanced)); it != enhanced_.end()) return it->second;
  if (auto it = enhanced_.find(SubjectKey(enhanced)); it != enhanced_.end()) return it->second;
  if (auto it = enhanced_.find(ClassKey(enhanced)); it != enhanced_.end()) return it->second;
  return nullptr;
}

const Entry* Knowledge::LookupBasic(const std::string& basic) const {
  if (!IsBasicCode(basic)) return nullptr;
  if (auto it = basic_.find(basic); it != basic_.end()) return it->second;
  if (auto it = basic_.find(basic.substr(0, 1) + "XX"); it != basic_.end()) return it->second;
  return nullptr;
}

const Entry* Knowledge::LookupGuide(const std::string& basic, const std::string& enhanced) const {
  if (basic.empty()) return nullptr;
  if (!enhanced.empty()) {
    if (auto it = guide_.find(basic + " " + enhanced); it != guide_.end()) return it->second;
    // A basic-only row speaks for the basic code when the enhanced code adds nothing.
    if (IsDetailCode(enhanced)) return nullptr;
  }
  if (auto it = guide_.find(basic); it != guide_.end()) return it->second;
  return nullptr;
}

const Entry* Knowledge::LookupProvider(const std::string& enhanced, const std::string& basic,
                                       std::string_view lower_text, bool code_only) const {
  for (const Entry* p : providers_) {
    bool hit = false;
    if (IsBasicCode(p->code)) hit = p->code == basic && enhanced.empty();
    else if (!enhanced.empty()) {
      if (!p->code_last.empty()) hit = InRange(enhanced, p->code, p->code_last);
      else hit = p->code[0] == 'X' ? p->code.substr(1) == enhanced.substr(1) : p->code == enhanced;
    }
    if (!hit) continue;
    if (!p->requires_text.empty()) {
      if (code_only) continue;
      bool found = false;
      for (const auto& m : p->requires_text)
        if (lower_text.find(m) != std::string_view::npos) found = true;
      if (!found) continue;
    }
    return p;
  }
  return nullptr;
}

const Entry* Knowledge::MatchPattern(const std::string& basic, const std::string& enhanced,
                                     std::string_view lower_text, std::string* words) const {
  if (lower_text.empty()) return nullptr;
  for (const auto& p : patterns_) {
    if (p.match.empty()) continue;
    if (!p.codes.empty()) {
      bool ok = false;
      for (const auto& c : p.codes) ok = ok || CodeMatches(c, basic, enhanced);
      if (!ok) continue;
    }
    for (const auto& m : p.match)
      if (lower_text.find(m) != std::string_view::npos) {
        if (words) *words = m;
        return &p;
      }
  }
  return nullptr;
}

const CategoryInfo* Knowledge::Category(const std::string& key) const {
  auto it = categories_.find(key);
  return it == categories_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------------------------
// Explaining.

Explanation Knowledge::Explain(const std::string& basic, const std::string& enhanced, std::string_view reply_text,
                               std::string_view whole_text, std::vector<FoundCode> codes,
                               const Context& ctx) const {
  Explanation x;
  bool guide_basic_only_with_text = false;
  x.basic = basic;
  x.enhanced = enhanced;
  x.codes = std::move(codes);
  // Lower case, every run of white space one space: wrapped lines read as one sentence.
  std::string lower_reply = Squeeze(reply_text.substr(0, 4000));
  std::string lower_all = Squeeze(whole_text.substr(0, kMaxPatternText));

  char cls = !basic.empty() ? basic[0] : (!enhanced.empty() ? enhanced[0] : '0');
  x.failure = cls == '4' || cls == '5' || (!ctx.has_code && ctx.kind == ParsedBounce::Kind::kFailure) ||
              (!ctx.has_code && ctx.kind == ParsedBounce::Kind::kDelay);
  x.permanent = cls == '5';
  if (!ctx.has_code && ctx.kind == ParsedBounce::Kind::kFailure) x.permanent = true;
  if (ctx.kind == ParsedBounce::Kind::kDelay && cls != '5') x.permanent = false;

  const Entry* guide = LookupGuide(basic, enhanced);
  // The guide's basic-only rows ("554: mailbox disabled") read a bare code; when the server's own
  // words are there and none of our patterns know them, the standard meaning is the safer guess.
  if (guide && guide->code.size() == 3 && !ctx.code_only && !TrimView(reply_text).empty()) guide_basic_only_with_text = true;
  const Entry* eentry = LookupEnhanced(enhanced);
  const Entry* bentry = LookupBasic(basic);
  const Entry* provider = ctx.has_code ? LookupProvider(enhanced, basic, lower_reply + "\n" + lower_all, ctx.code_only)
                                       : nullptr;
  // Words of the reply itself may overrule a specific code ("strong" patterns); words elsewhere in
  // the message only decide when the code is generic or missing.
  const Entry* pattern = nullptr;
  std::string matched_words;
  bool pattern_in_reply = false;
  if (!ctx.code_only) {
    pattern = MatchPattern(basic, enhanced, lower_reply, &matched_words);
    pattern_in_reply = pattern != nullptr;
    // The rest of the message only speaks when there is no code or the reply has no words of its own.
    if (!pattern && (!ctx.has_code || TrimView(lower_reply).size() < 12)) pattern = MatchPattern(basic, enhanced, lower_all, &matched_words);
  }
  // Table rows that call a failure "not a failure" (X.1.9, X.6.4 ...) cannot decide a failure.
  bool failing = cls == '4' || cls == '5';
  if (failing && eentry && eentry->category == "none") eentry = nullptr;
  bool e_detail = eentry && eentry->code.find(".X") == std::string::npos && !eentry->generic;
  bool guide_pair = guide && guide->code.size() > 3;

  const Entry* decided = nullptr;   // the entry whose category, section, fault and checks we use
  const Entry* code_entry = nullptr;  // the entry that explains the code itself
  auto structural = [&](const char* id) -> const Entry* {
    for (const auto& p : patterns_)
      if (p.id == id) return &p;
    return nullptr;
  };
  if (ctx.kind == ParsedBounce::Kind::kAutoReply) decided = structural("auto-reply");
  else if (ctx.kind == ParsedBounce::Kind::kFeedback) decided = structural("feedback-report");
  else if (ctx.kind == ParsedBounce::Kind::kDelivered || (ctx.has_code && (cls == '2' || cls == '3')))
    decided = structural(ctx.kind == ParsedBounce::Kind::kDelivered ? "delivered" : "success");

  code_entry = guide_pair ? guide : provider ? provider : e_detail ? eentry : guide ? guide : bentry ? bentry : eentry;
  if (!decided) {
    if (pattern && pattern->strong && pattern_in_reply) decided = pattern;
    else if (guide_pair) decided = guide;
    else if (provider) decided = provider;
    else if (e_detail) decided = eentry;
    else if (pattern) decided = pattern;
    else if (guide && !guide->generic && !guide_basic_only_with_text) decided = guide;
    else if (bentry && !bentry->generic && !bentry->category.empty()) decided = bentry;
    else if (eentry && !eentry->category.empty()) decided = eentry;
    else if (guide && !guide_basic_only_with_text) decided = guide;
    else if (bentry && !bentry->category.empty()) decided = bentry;
    else if (!ctx.has_code) decided = structural("no-code");
  }

  // Words alone (no code, no report structure): a pasted "mailbox is full" is still a failure.
  if (!ctx.has_code && !x.failure && decided && decided == pattern && decided->category != "none" &&
      ctx.kind == ParsedBounce::Kind::kUnknown) {
    x.failure = true;
    x.permanent = true;
  }
  std::string category = decided && !decided->category.empty() ? decided->category : "";
  // A temporary failure the tables only know in general terms ("451", "4.0.0"): "temporary, other".
  if (cls == '4' && decided && decided->generic && decided != pattern &&
      (decided == bentry || decided == guide || (decided == eentry && eentry->code == "X.0.0")))
    category = "transient-other";
  // A failure (the report says so) with no code and no words we know: "temporary, other" too.
  if (decided && decided->id == "no-code" && (ctx.kind == ParsedBounce::Kind::kFailure ||
                                              ctx.kind == ParsedBounce::Kind::kDelay))
    category = "transient-other";
  if (category.empty()) category = cls == '4' ? "transient-other" : (x.failure ? "transient-other" : "none");
  if (!x.failure && ctx.has_code && (cls == '2' || cls == '3')) category = "none";
  x.category = category;
  const CategoryInfo* ci = Category(category);
  x.category_label = ci ? ci->label : category;
  x.section = decided && !decided->section.empty() ? decided->section : (ci ? ci->section : "none");
  x.fault = decided && !decided->fault.empty() ? decided->fault : (ci ? ci->fault : "none");
  if (auto it = faults_.find(x.fault); it != faults_.end()) x.fault_text = it->second;
  if (decided && decided == pattern) x.matched_text = pattern->id + ": \"" + matched_words + "\"";
  if (decided && !decided->provider.empty()) x.provider = decided->provider;

  // Meaning: the deciding entry first; the code's own table meaning after it when they differ.
  const Entry* lead = decided ? decided : code_entry;
  if (lead) {
    x.title = lead->title;
    x.meaning = lead->meaning;
    x.checks = lead->checks;
    if (!lead->note.empty()) x.notes.push_back(lead->note);
  }
  if (code_entry && code_entry != lead && ctx.has_code) {
    x.notes.push_back("The code " + CodeLabel(basic, enhanced) + " itself: " + code_entry->meaning);
    if (!code_entry->note.empty()) x.notes.push_back(code_entry->note);
    if (x.checks.empty()) x.checks = code_entry->checks;
  }
  if (guide && guide != lead && guide != code_entry) {
    x.notes.push_back("The hosted-email guide reads " + guide->code + " as: " + guide->meaning);
  }
  // A code alone that a provider reuses with another meaning: say so.
  if (ctx.code_only && !enhanced.empty()) {
    for (const Entry* p : providers_) {
      if (p->requires_text.empty() || p == provider) continue;
      bool hit = !p->code_last.empty() ? InRange(enhanced, p->code, p->code_last)
                                       : (p->code[0] == 'X' ? p->code.substr(1) == enhanced.substr(1) : p->code == enhanced);
      if (hit) x.notes.push_back("From " + p->provider + ", " + enhanced + " means something else: " + p->meaning);
    }
  }
  if (ctx.has_code && !enhanced.empty() && !basic.empty() && basic[0] != enhanced[0] &&
      (basic[0] == '4' || basic[0] == '5') && (enhanced[0] == '4' || enhanced[0] == '5')) {
    x.notes.push_back("The basic code (" + basic + ") and the enhanced code (" + enhanced +
                      ") disagree on permanence; the basic code decides: " +
                      (basic[0] == '5' ? "the server has given up." : "it is still retrying."));
  }
  // Well-formed codes no table lists: say so, and give what their parts mean.
  if (ctx.has_code && !enhanced.empty() && !enhanced_.count(DetailKey(enhanced)) && !provider) {
    std::string parts;
    if (auto it = enhanced_.find(ClassKey(enhanced)); it != enhanced_.end()) parts += it->second->meaning;
    if (auto it = enhanced_.find(SubjectKey(enhanced)); it != enhanced_.end()) parts += " " + it->second->meaning;
    x.notes.insert(x.notes.begin(), enhanced + " is not in the registry of enhanced status codes (nor a provider code we know)." +
                                        (parts.empty() ? "" : " Its class and subject say: " + std::string(TrimView(parts))));
  }
  if (ctx.has_code && !basic.empty() && !basic_.count(basic) && !guide) {
    std::string parts;
    if (auto it = basic_.find(basic.substr(0, 1) + "XX"); it != basic_.end()) parts += it->second->meaning;
    if (auto it = basic_.find("X" + basic.substr(1, 1) + "X"); it != basic_.end()) parts += " " + it->second->meaning;
    x.notes.insert(x.notes.begin(), basic + " is not a standard reply code." +
                                        (parts.empty() ? "" : " Its digits say: " + std::string(TrimView(parts))));
  }
  if (!ctx.has_code && x.failure) x.notes.push_back("No SMTP code was given; this is judged from the words of the message.");
  if (x.meaning.empty()) x.meaning = "No SMTP reply code was found, and nothing in the text says that delivery failed.";

  std::string t(TrimView(reply_text));
  for (char& c : t)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  std::string squeezed;
  for (char c : t)
    if (!(c == ' ' && !squeezed.empty() && squeezed.back() == ' ')) squeezed += c;
  if (squeezed.size() > 300) squeezed = squeezed.substr(0, 297) + "...";
  x.reply_text = squeezed;

  // Summary and markdown.
  std::string label = CodeLabel(basic, enhanced);
  x.summary = (label.empty() ? std::string("No code") : label) + " — " + x.title;
  if (x.failure) x.summary += x.permanent ? " (permanent" : " (temporary";
  else x.summary += " (not a failure";
  x.summary += x.category != "none" ? ", " + x.category_label + ")" : ")";

  std::string md = x.meaning + "\n";
  std::string perm = PermanenceSentence(x);
  if (!perm.empty()) md += "\n" + perm;
  if (!x.fault_text.empty() && x.fault != "none") md += " Whose side: " + x.fault_text + ".";
  md += "\n";
  for (const auto& n : x.notes) md += "\n_" + n + "_\n";
  if (!x.reply_text.empty()) md += "\nThe server said: `" + x.reply_text + "`\n";
  if (!x.checks.empty()) {
    md += "\n**What to check**\n";
    for (const auto& c : x.checks) md += "- " + c + "\n";
  }
  if (x.section != "none") {
    auto it = sections_.find(x.section);
    md += "\nGuide section: **" + (it != sections_.end() ? it->second : x.section) + "** (" + x.section + ").\n";
  }
  if (x.codes.size() > 1) {
    md += "\nCodes found:";
    for (const auto& c : x.codes) {
      md += " " + CodeLabel(c.basic, c.enhanced);
      if (c.line > 0) md += " (line " + std::to_string(c.line) + ")";
      md += ";";
    }
    md.back() = '.';
    md += "\n";
  }
  x.explanation = md;
  return x;
}

Result<Explanation> Knowledge::ExplainCodes(const std::vector<std::string>& tokens) const {
  std::vector<FoundCode> codes;
  for (const auto& t : tokens) {
    std::string b, e;
    Status s = ParseCodeToken(t, &b, &e);
    if (!s.ok()) return s;
    // "550" then "5.7.26" as two tokens are one code.
    if (b.empty() && !codes.empty() && !codes.back().basic.empty() && codes.back().enhanced.empty()) {
      codes.back().enhanced = e;
      continue;
    }
    codes.push_back({b, e, 0});
  }
  if (codes.empty()) return Status::InvalidArgument("no code given");
  // Primary: the last permanent failure, else the last failure, else the last code.
  size_t primary = codes.size() - 1;
  int best = -1;
  for (size_t i = 0; i < codes.size(); ++i) {
    char c = !codes[i].basic.empty() ? codes[i].basic[0] : codes[i].enhanced[0];
    int score = c == '5' ? 3 : c == '4' ? 2 : 1;
    if (score >= best) {
      best = score;
      primary = i;
    }
  }
  Context ctx;
  ctx.code_only = true;
  ctx.has_code = true;
  return Explain(codes[primary].basic, codes[primary].enhanced, "", "", codes, ctx);
}

Explanation Knowledge::ExplainText(std::string_view text) const {
  ParsedBounce pb;
  try {
    pb = ParseBounce(text);
  } catch (...) {
    pb = ParsedBounce();  // ParseBounce does not throw; bad_alloc on a starved machine is the only way here
  }
  std::vector<FoundCode> codes;
  for (const auto& r : pb.replies) codes.push_back({r.basic, r.enhanced, r.line});
  Context ctx;
  ctx.kind = pb.kind;
  ctx.code_only = pb.only_codes;
  std::string basic, enhanced, reply;
  if (pb.primary >= 0) {
    const ParsedReply& r = pb.replies[static_cast<size_t>(pb.primary)];
    basic = r.basic;
    enhanced = r.enhanced;
    reply = r.text;
    // The Diagnostic-Code words belong to the same failure (a Status:-only primary has few words).
    std::string head(TrimView(r.text.substr(0, 40)));
    if (!pb.diagnostic.empty() && (head.empty() || pb.diagnostic.find(head) == std::string::npos) &&
        (r.diagnostic || r.basic.empty() || r.text.size() < 20))
      reply += " " + pb.diagnostic;
    ctx.has_code = true;
    // Flattened continuation lines leave the code mid-sentence ("multiple 550 5.7.1 addresses"):
    // drop those repeats so the words read as one sentence.
    for (const std::string& rep : {basic + " " + enhanced, basic + "-" + enhanced, basic + "-", enhanced}) {
      if (rep.size() < 3 || rep == "-" || rep.front() == ' ' || rep.back() == ' ') continue;
      size_t pos = 0;
      while ((pos = reply.find(rep, pos)) != std::string::npos) {
        bool left = pos == 0 || reply[pos - 1] == ' ';
        size_t end = pos + rep.size();
        bool right = end >= reply.size() || reply[end] == ' ' || rep.back() == '-';
        if (left && right) reply.erase(pos, rep.size());
        else pos = end;
      }
    }
  } else if (!pb.diagnostic.empty()) {
    reply = pb.diagnostic;
  }
  try {
    return Explain(basic, enhanced, reply, pb.text, std::move(codes), ctx);
  } catch (...) {
    Explanation x;
    x.category = "none";
    x.section = "none";
    x.summary = "Could not read this text";
    x.explanation = x.summary;
    return x;
  }
}

// ---------------------------------------------------------------------------------------------
// Free functions.

Status ParseCodeToken(std::string_view token, std::string* basic, std::string* enhanced) {
  std::string_view t = TrimView(token);
  basic->clear();
  enhanced->clear();
  std::string shown(t.substr(0, 40));
  if (t.empty()) return Status::InvalidArgument("empty code");
  // "550 5.7.26", "550-5.7.26"
  if (t.size() > 4 && (t[3] == ' ' || t[3] == '-' || t[3] == '\t')) {
    std::string b, e, b2, e2;
    Status s1 = ParseCodeToken(t.substr(0, 3), &b, &e);
    if (!s1.ok()) return s1;
    Status s2 = ParseCodeToken(TrimView(t.substr(4)), &b2, &e2);
    if (!s2.ok()) return s2;
    if (e2.empty()) return Status::InvalidArgument("\"" + shown + "\": after the basic code " + b + " expected an enhanced code such as 5.7.26");
    *basic = b;
    *enhanced = e2;
    return Status::Ok();
  }
  bool digits_dots = std::all_of(t.begin(), t.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (!digits_dots)
    return Status::InvalidArgument("\"" + shown + "\" is not an SMTP code: use digits only, like 550 or 5.7.26");
  if (t.find('.') == std::string_view::npos) {
    if (t.size() != 3) return Status::InvalidArgument("\"" + shown + "\" is not an SMTP code: a reply code has three digits, like 550");
    if (!IsBasicCode(t))
      return Status::InvalidArgument("\"" + shown + "\" is not an SMTP reply code: the first digit must be 2-5 and the second 0-5");
    *basic = std::string(t);
    return Status::Ok();
  }
  if (!IsEnhancedCode(t)) {
    if (t[0] != '2' && t[0] != '4' && t[0] != '5')
      return Status::InvalidArgument("\"" + shown + "\" is not an enhanced status code: the class (first number) must be 2, 4 or 5");
    return Status::InvalidArgument("\"" + shown + "\" is not an enhanced status code: expected class.subject.detail with 1-3 digits each, like 5.7.26");
  }
  *enhanced = std::string(t);
  return Status::Ok();
}

bool StartsWithCode(std::string_view text) {
  std::string_view t = TrimView(text.substr(0, 4096));
  if (t.empty()) return false;
  ParsedBounce pb = ParseBounce(t.substr(0, std::min<size_t>(t.size(), 400)));
  for (const auto& r : pb.replies)
    if (r.line == 1) {
      // The code must be the first thing in the message.
      std::string_view code = !r.basic.empty() ? std::string_view(r.basic) : std::string_view(r.enhanced);
      if (t.substr(0, code.size()) == code) return true;
    }
  return false;
}

bool ContainsCode(std::string_view text) {
  ParsedBounce pb = ParseBounce(text);
  return !pb.replies.empty();
}

Reply ToReply(const Explanation& e) {
  Reply r;
  std::string label = CodeLabel(e.basic, e.enhanced);
  r.title = (label.empty() ? std::string("No SMTP code") : label) + " — " +
            (e.category != "none" ? e.category_label : (e.title.empty() ? "not a failure" : e.title));
  r.paragraphs.push_back(e.meaning);
  std::string perm = PermanenceSentence(e);
  if (!perm.empty()) r.paragraphs.push_back(perm);
  for (const auto& n : e.notes) r.paragraphs.push_back(n);
  if (!e.reply_text.empty()) r.paragraphs.push_back("The server said: \"" + e.reply_text + "\"");
  r.checklist = e.checks;
  if (!label.empty()) r.facts.push_back({"Code", label});
  if (e.failure) r.facts.push_back({"Permanent/temporary", e.permanent ? "permanent" : "temporary"});
  else r.facts.push_back({"Permanent/temporary", "not a failure"});
  if (!e.fault_text.empty()) r.facts.push_back({"Fault", e.fault_text});
  r.facts.push_back({"Category", e.category + (e.category != "none" ? " (" + e.category_label + ")" : "")});
  if (e.codes.size() > 1) {
    std::string all;
    for (const auto& c : e.codes) all += (all.empty() ? "" : ", ") + CodeLabel(c.basic, c.enhanced);
    r.facts.push_back({"Codes found", all});
  }
  if (e.section == "sending") r.choices.push_back({"Start the sending checks", "start:sending", Choice::Style::kPrimary});
  if (e.section == "receiving")
    r.choices.push_back({"Start the receiving checks", "start:receiving", Choice::Style::kPrimary});
  return r;
}

json ToJson(const Explanation& e) {
  json j;
  j["basic"] = e.basic.empty() ? json(nullptr) : json(e.basic);
  j["enhanced"] = e.enhanced.empty() ? json(nullptr) : json(e.enhanced);
  j["category"] = e.category;
  j["section"] = e.section;
  j["summary"] = e.summary;
  j["explanation"] = e.explanation;
  json codes = json::array();
  for (const auto& c : e.codes) {
    codes.push_back({{"basic", c.basic.empty() ? json(nullptr) : json(c.basic)},
                     {"enhanced", c.enhanced.empty() ? json(nullptr) : json(c.enhanced)},
                     {"line", c.line}});
  }
  j["codes"] = codes;
  return j;
}

std::string ToPlainText(const Explanation& e) {
  Reply r = ToReply(e);
  std::string out = r.title + "\n\n";
  for (const auto& p : r.paragraphs) out += p + "\n";
  if (!r.checklist.empty()) {
    out += "\nWhat to check:\n";
    for (const auto& c : r.checklist) out += "  - " + c + "\n";
  }
  out += "\n";
  for (const auto& f : r.facts)
    if (f.label != "Codes found") out += f.label + ": " + f.value + "\n";
  if (e.section != "none") out += "Guide section: " + e.section + " (mailguide chat --section " + e.section + ")\n";
  if (e.codes.size() > 1) {
    out += "\nEvery code found:\n";
    for (const auto& c : e.codes)
      out += "  " + CodeLabel(c.basic, c.enhanced) + (c.line > 0 ? "  (line " + std::to_string(c.line) + ")" : "") + "\n";
  }
  return out;
}

}  // namespace bot::smtp
