// Triage: the mechanism. The vocabulary and every threshold live in flows/triage.json.
//
// Classify in five steps:
//  1. Tokenize the first scan.max_bytes bytes: email addresses become one word
//     (scan.address_word); ASCII letters and digits, lower-cased;
//     apostrophes join ("can't" -> "cant"); dots join digits ("5.7.26"); sentence
//     punctuation, newlines and clause words ("but") become boundaries; fillers ("the")
//     are dropped; listed variants ("sned") are replaced by their canonical word.
//  2. Map each distinct token to the vocabulary words it stands for: exact, prefix
//     ("bounc*"), or, failing both, the nearest words within a small edit distance.
//  3. Find every occurrence of every term (a word or a phrase). Longer terms claim their
//     tokens first, so "sending to her" (receiving) wins over "sending" (sending).
//  4. Weigh each occurrence by its context: a negation or problem word nearby multiplies
//     it by 1 + negation_bonus; a positive word ("works", "fine", "can") by positive_factor,
//     unless a negation comes right before it ("nobody can", "not working").
//     Each term counts once (its strongest occurrence); section scores are sums.
//  5. confidence = (1 - exp(-best / scale)) * (best - second) / best. Below
//     min_confidence the answer is "unclear", whose confidence is 1 - that value.
#include "bot/triage.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace bot {

namespace {

constexpr std::array<const char*, 3> kSections = {"webmail", "receiving", "sending"};
constexpr int kSectionCount = static_cast<int>(kSections.size());
constexpr std::size_t kMaxTokenLength = 40;  // longer runs of letters match nothing

using json = nlohmann::json;

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
char Lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); }

struct RawToken {
  std::string text;  // empty for a boundary
  bool boundary = false;
  bool too_long = false;
};

// Step 1's splitting. Bounded by the caller's byte cap and by max_tokens.
std::vector<RawToken> Split(std::string_view text, std::size_t max_tokens) {
  std::vector<RawToken> out;
  std::string word;
  bool too_long = false;
  auto flush = [&] {
    if (!word.empty() && out.size() < max_tokens) out.push_back({word, false, too_long});
    word.clear();
    too_long = false;
  };
  auto boundary = [&] {
    flush();
    if (!out.empty() && !out.back().boundary && out.size() < max_tokens) out.push_back({"", true, false});
  };
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n && out.size() < max_tokens; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (IsAsciiAlnum(c)) {
      if (word.size() < kMaxTokenLength) {
        word.push_back(Lower(c));
      } else {
        too_long = true;
      }
      continue;
    }
    // Apostrophes (ASCII, backtick, U+2019) join: "can't" -> "cant".
    if (c == '\'' || c == '`') continue;
    if (c == 0xE2 && i + 2 < n && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        static_cast<unsigned char>(text[i + 2]) == 0x99) {
      i += 2;
      continue;
    }
    if (c == '.') {
      const bool next_digit = i + 1 < n && IsDigit(static_cast<unsigned char>(text[i + 1]));
      if (!word.empty() && IsDigit(static_cast<unsigned char>(word.back())) && next_digit) {
        if (word.size() < kMaxTokenLength) word.push_back('.');
        continue;
      }
      const bool sentence_end = i + 1 >= n || text[i + 1] == ' ' || text[i + 1] == '\n' ||
                                text[i + 1] == '\r' || text[i + 1] == '\t' || text[i + 1] == '.';
      if (sentence_end) {
        boundary();
      } else {
        flush();  // "outlook.com", "mail.example.com"
      }
      continue;
    }
    if (c == ',' || c == ';' || c == '!' || c == '?' || c == '\n' || c == '(' || c == ')' || c == '|') {
      boundary();
      continue;
    }
    flush();  // spaces, other punctuation, control bytes, non-ASCII bytes
  }
  flush();
  return out;
}

// "mail to jane.doe@example.com bounces" -> "mail to  address  bounces": an email address
// becomes one word (`word`), so phrases like "emails to address" can name it.
std::string ReplaceAddresses(std::string_view text, const std::string& word) {
  auto local_char = [](unsigned char c) {
    return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  };
  auto domain_char = [](unsigned char c) { return IsAsciiAlnum(c) || c == '.' || c == '-'; };
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t last = 0;  // text[last..] is not copied yet
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@') continue;
    std::size_t left = i;
    while (left > last && local_char(static_cast<unsigned char>(text[left - 1]))) --left;
    if (left == i) continue;  // "@channel", "@ 5pm": not an address
    std::size_t right = i + 1;
    while (right < text.size() && domain_char(static_cast<unsigned char>(text[right]))) ++right;
    while (right > i + 1 && (text[right - 1] == '.' || text[right - 1] == '-')) --right;  // sentence end
    out.append(text.substr(last, left - last));
    out.append(" ").append(word).append(" ");
    last = right;
    i = right - 1;
  }
  out.append(text.substr(last));
  return out;
}

// Optimal string alignment distance (adjacent transposition counts as one edit), giving up
// as soon as it must exceed `limit`.
int EditDistance(std::string_view a, std::string_view b, int limit) {
  const int la = static_cast<int>(a.size());
  const int lb = static_cast<int>(b.size());
  if (std::abs(la - lb) > limit) return limit + 1;
  std::vector<int> prev2(lb + 1), prev(lb + 1), cur(lb + 1);
  for (int j = 0; j <= lb; ++j) prev[j] = j;
  for (int i = 1; i <= la; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= lb; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = std::min(v, prev2[j - 2] + 1);
      cur[j] = v;
      row_min = std::min(row_min, v);
    }
    if (row_min > limit) return limit + 1;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[lb];
}

std::string PointerEscape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string TypeName(const json& j) { return j.type_name(); }

}  // namespace

struct Triage::Model {
  struct Word {
    std::string text;
    bool prefix = false;
  };
  struct Term {
    std::string text;                 // as written in the file, for debugging
    std::vector<int> words;           // word ids
    std::array<double, kSectionCount> weights{};
    int rank = 0;                     // lower claims tokens first
  };

  int version = 0;
  std::size_t max_bytes = 4000;
  std::size_t max_tokens = 600;
  std::string address_word;  // what an email address in a report becomes; empty: left as words

  std::size_t fuzzy_min_length = 5;
  std::size_t fuzzy2_min_length = 9;
  bool fuzzy_same_first_letter = true;
  std::unordered_set<std::string> never_fuzzy;
  std::unordered_map<std::string, std::string> variants;
  std::unordered_set<std::string> fillers;

  int window = 3;
  std::unordered_set<std::string> negations;
  double negation_bonus = 0.5;
  std::unordered_set<std::string> positives;
  double positive_factor = 0.25;
  std::unordered_set<std::string> clause_breaks;

  double scale = 3.0;
  double min_confidence = 0.45;

  std::vector<Word> words;
  std::unordered_map<std::string, int> exact_words;  // non-prefix words
  std::vector<int> prefix_words;
  std::vector<Term> terms;
  std::unordered_map<int, std::vector<int>> terms_by_first_word;

  int InternWord(const std::string& text, bool prefix) {
    if (!prefix) {
      auto it = exact_words.find(text);
      if (it != exact_words.end()) return it->second;
    } else {
      for (int id : prefix_words) {
        if (words[id].text == text) return id;
      }
    }
    const int id = static_cast<int>(words.size());
    words.push_back({text, prefix});
    if (prefix) {
      prefix_words.push_back(id);
    } else {
      exact_words.emplace(text, id);
    }
    return id;
  }

  // Step 2: which vocabulary words a (normalized) token stands for.
  std::vector<int> WordsFor(const std::string& token) const {
    std::vector<int> ids;
    if (auto it = exact_words.find(token); it != exact_words.end()) ids.push_back(it->second);
    for (int id : prefix_words) {
      const std::string& p = words[id].text;
      if (token.size() >= p.size() && token.compare(0, p.size(), p) == 0) ids.push_back(id);
    }
    if (!ids.empty() || token.size() < fuzzy_min_length || never_fuzzy.count(token) != 0) return ids;
    if (std::any_of(token.begin(), token.end(), [](char c) { return IsDigit(static_cast<unsigned char>(c)) || c == '.'; })) {
      return ids;
    }
    int best = 3;
    for (const auto& [text, id] : exact_words) {
      if (text.size() < fuzzy_min_length) continue;
      if (fuzzy_same_first_letter && text[0] != token[0]) continue;
      const std::size_t shorter = std::min(text.size(), token.size());
      const int limit = shorter >= fuzzy2_min_length ? 2 : 1;
      const int d = EditDistance(token, text, std::min(limit, best));
      if (d > limit || d > best) continue;
      if (d < best) {
        best = d;
        ids.clear();
      }
      ids.push_back(id);
    }
    return ids;
  }

  std::vector<std::string> NormalizedWords(std::vector<RawToken>& raw) const {
    std::vector<std::string> out;
    out.reserve(raw.size());
    for (auto& t : raw) {
      if (t.boundary || clause_breaks.count(t.text) != 0) {
        if (!out.empty() && !out.back().empty()) out.emplace_back();
        continue;
      }
      if (t.too_long) {
        out.push_back("~");  // matches nothing, but still separates phrases
        continue;
      }
      if (fillers.count(t.text) != 0) continue;
      if (auto it = variants.find(t.text); it != variants.end()) {
        out.push_back(it->second);
      } else {
        out.push_back(std::move(t.text));
      }
    }
    return out;
  }

  TriageResult Classify(std::string_view text) const {
    text = text.substr(0, std::min(text.size(), max_bytes));
    std::vector<RawToken> raw =
        address_word.empty() ? Split(text, max_tokens) : Split(ReplaceAddresses(text, address_word), max_tokens);
    const std::vector<std::string> toks = NormalizedWords(raw);  // "" marks a boundary
    const std::size_t n = toks.size();

    // Step 2, once per distinct token.
    std::unordered_map<std::string, std::vector<int>> cache;
    std::vector<const std::vector<int>*> ids(n, nullptr);
    static const std::vector<int> kNone;
    for (std::size_t i = 0; i < n; ++i) {
      if (toks[i].empty() || toks[i] == "~") {
        ids[i] = &kNone;
        continue;
      }
      auto it = cache.find(toks[i]);
      if (it == cache.end()) it = cache.emplace(toks[i], WordsFor(toks[i])).first;
      ids[i] = &it->second;
    }
    auto has = [&](std::size_t i, int word) {
      const auto& v = *ids[i];
      return std::find(v.begin(), v.end(), word) != v.end();
    };

    // Step 3: every occurrence of every term, then longest (best-ranked) first.
    struct Candidate {
      int term;
      std::size_t start;
    };
    std::vector<Candidate> candidates;
    for (std::size_t i = 0; i < n; ++i) {
      for (int w : *ids[i]) {
        auto it = terms_by_first_word.find(w);
        if (it == terms_by_first_word.end()) continue;
        for (int t : it->second) {
          const auto& term = terms[t];
          if (i + term.words.size() > n) continue;
          bool ok = true;
          for (std::size_t k = 1; k < term.words.size() && ok; ++k) ok = has(i + k, term.words[k]);
          if (ok) candidates.push_back({t, i});
        }
      }
    }
    std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
      if (terms[a.term].rank != terms[b.term].rank) return terms[a.term].rank < terms[b.term].rank;
      return a.start < b.start;
    });

    std::vector<bool> covered(n, false);
    std::vector<double> term_score(terms.size(), 0.0);
    for (const auto& c : candidates) {
      const auto& term = terms[c.term];
      const std::size_t end = c.start + term.words.size();
      bool free = true;
      for (std::size_t k = c.start; k < end && free; ++k) free = !covered[k];
      if (!free) continue;
      for (std::size_t k = c.start; k < end; ++k) covered[k] = true;
      const double m = ContextFactor(toks, c.start, end);
      term_score[c.term] = std::max(term_score[c.term], m);
    }

    std::array<double, kSectionCount> score{};
    for (std::size_t t = 0; t < terms.size(); ++t) {
      if (term_score[t] <= 0) continue;
      for (int s = 0; s < kSectionCount; ++s) score[s] += terms[t].weights[s] * term_score[t];
    }

    // Step 5.
    int best = 0;
    for (int s = 1; s < kSectionCount; ++s) {
      if (score[s] > score[best]) best = s;
    }
    double second = 0;
    for (int s = 0; s < kSectionCount; ++s) {
      if (s != best) second = std::max(second, score[s]);
    }
    double confidence = 0;
    if (score[best] > 0) {
      confidence = (1.0 - std::exp(-score[best] / scale)) * (score[best] - second) / score[best];
    }
    auto round2 = [](double v) { return std::round(std::clamp(v, 0.0, 1.0) * 100.0) / 100.0; };
    if (confidence < min_confidence) return {"unclear", round2(1.0 - confidence)};
    return {kSections[best], round2(confidence)};
  }

  // Step 4. Looks right first (up to `window` tokens, stopping at a boundary): the first
  // negation or positive word decides ("webmail is not loading", "webmail works fine").
  // If neither is there, looks left the same way ("can't send", "can receive").
  double ContextFactor(const std::vector<std::string>& toks, std::size_t start, std::size_t end) const {
    auto judge = [&](const std::string& t) -> double {
      if (negations.count(t) != 0) return 1.0 + negation_bonus;
      if (positives.count(t) != 0) return positive_factor;
      return 0.0;
    };
    for (std::size_t k = end; k < toks.size() && k < end + static_cast<std::size_t>(window); ++k) {
      if (toks[k].empty()) break;
      if (double f = judge(toks[k]); f > 0) return f;
    }
    for (std::size_t d = 1; d <= static_cast<std::size_t>(window) && d <= start; ++d) {
      const std::string& t = toks[start - d];
      if (t.empty()) break;
      double f = judge(t);
      if (f <= 0) continue;
      // A negated positive is a negation: "nobody can email her", "not working".
      if (f < 1.0 && d < start && negations.count(toks[start - d - 1]) != 0) return 1.0 + negation_bonus;
      return f;
    }
    return 1.0;
  }
};

namespace {

// Reads triage.json into a Model; every error names the source and a JSON pointer.
class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  Result<std::shared_ptr<Triage::Model>> Load(const json& root) {
    auto m = std::make_shared<Triage::Model>();
    Status s = Build(root, *m);
    if (!s.ok()) return s;
    return m;
  }

 private:
  Status Error(const std::string& path, const std::string& reason) const {
    return Status::InvalidArgument(source_ + ": " + (path.empty() ? "/" : path) + ": " + reason);
  }

  Status OnlyKeys(const json& obj, const std::string& path, std::initializer_list<const char*> allowed) const {
    for (const auto& [key, value] : obj.items()) {
      (void)value;
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        return Error(path + "/" + PointerEscape(key), "unknown key (expected one of: " + list + ")");
      }
    }
    return Status::Ok();
  }

  Status Object(const json& parent, const std::string& path, const char* key, bool required, const json** out) const {
    *out = nullptr;
    auto it = parent.find(key);
    if (it == parent.end()) return required ? Error(path + "/" + key, "missing (required object)") : Status::Ok();
    if (!it->is_object()) return Error(path + "/" + key, "must be an object, not " + TypeName(*it));
    *out = &*it;
    return Status::Ok();
  }

  Status Number(const json& obj, const std::string& path, const char* key, double lo, double hi, double* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Status::Ok();  // keep the default
    if (!it->is_number()) return Error(path + "/" + key, "must be a number, not " + TypeName(*it));
    const double v = it->get<double>();
    if (!(v >= lo && v <= hi)) {
      std::ostringstream os;
      os << "must be between " << lo << " and " << hi << ", not " << v;
      return Error(path + "/" + key, os.str());
    }
    *out = v;
    return Status::Ok();
  }

  Status Integer(const json& obj, const std::string& path, const char* key, long lo, long hi, long* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Status::Ok();
    if (!it->is_number_integer()) return Error(path + "/" + key, "must be an integer, not " + TypeName(*it));
    const long v = it->get<long>();
    if (v < lo || v > hi) {
      return Error(path + "/" + key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                         ", not " + std::to_string(v));
    }
    *out = v;
    return Status::Ok();
  }

  Status Bool(const json& obj, const std::string& path, const char* key, bool* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Status::Ok();
    if (!it->is_boolean()) return Error(path + "/" + key, "must be true or false, not " + TypeName(*it));
    *out = it->get<bool>();
    return Status::Ok();
  }

  // One word as it may appear in a term or a list: what the tokenizer would produce.
  Status Word(const std::string& path, const std::string& text, bool allow_prefix, std::string* out,
              bool* prefix) const {
    std::string w = text;
    *prefix = false;
    if (allow_prefix && !w.empty() && w.back() == '*') {
      *prefix = true;
      w.pop_back();
    }
    // "5.7.*": a code prefix keeps its trailing dot, so it cannot match "5.70".
    const bool code_dot = *prefix && w.size() > 1 && w.back() == '.' && IsDigit(static_cast<unsigned char>(w[w.size() - 2]));
    if (code_dot) w.pop_back();
    auto raw = Split(w, 4);
    if (code_dot && raw.size() == 1) raw[0].text.push_back('.');
    if (raw.size() != 1 || raw[0].boundary || raw[0].too_long || raw[0].text.empty()) {
      return Error(path, "'" + text + "' is not one word (letters, digits, or a dotted code like 5.7.26" +
                             std::string(allow_prefix ? ", optionally ending in * for a prefix" : "") + ")");
    }
    if (*prefix && raw[0].text.size() < 3) return Error(path, "prefix '" + text + "' is too short (3 characters at least)");
    *out = raw[0].text;
    return Status::Ok();
  }

  Status WordList(const json& obj, const std::string& path, const char* key,
                  std::unordered_set<std::string>* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Status::Ok();
    const std::string p = path + "/" + key;
    if (!it->is_array()) return Error(p, "must be an array of words, not " + TypeName(*it));
    out->clear();
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      const std::string ip = p + "/" + std::to_string(i);
      if (!v.is_string()) return Error(ip, "must be a string, not " + TypeName(v));
      std::string w;
      bool prefix = false;
      if (Status s = Word(ip, v.get<std::string>(), false, &w, &prefix); !s.ok()) return s;
      out->insert(w);
    }
    return Status::Ok();
  }

  Status Build(const json& root, Triage::Model& m) {
    if (!root.is_object()) return Error("", "the top level must be an object, not " + TypeName(root));
    if (Status s = OnlyKeys(root, "", {"$schema", "description", "version", "scan", "typos", "context", "decision",
                                        "sections"});
        !s.ok()) {
      return s;
    }
    auto v = root.find("version");
    if (v == root.end()) return Error("/version", "missing (required integer >= 1)");
    if (!v->is_number_integer() || v->get<long>() < 1) return Error("/version", "must be an integer >= 1");
    m.version = static_cast<int>(v->get<long>());

    const json* scan = nullptr;
    if (Status s = Object(root, "", "scan", false, &scan); !s.ok()) return s;
    if (scan) {
      if (Status s = OnlyKeys(*scan, "/scan", {"description", "max_bytes", "max_tokens", "address_word"}); !s.ok()) {
        return s;
      }
      if (auto it = scan->find("address_word"); it != scan->end()) {
        if (!it->is_string()) return Error("/scan/address_word", "must be a string, not " + TypeName(*it));
        bool prefix = false;
        if (Status s = Word("/scan/address_word", it->get<std::string>(), false, &m.address_word, &prefix); !s.ok()) {
          return s;
        }
      }
      long mb = static_cast<long>(m.max_bytes), mt = static_cast<long>(m.max_tokens);
      if (Status s = Integer(*scan, "/scan", "max_bytes", 16, 100000, &mb); !s.ok()) return s;
      if (Status s = Integer(*scan, "/scan", "max_tokens", 4, 10000, &mt); !s.ok()) return s;
      m.max_bytes = static_cast<std::size_t>(mb);
      m.max_tokens = static_cast<std::size_t>(mt);
    }

    const json* typos = nullptr;
    if (Status s = Object(root, "", "typos", false, &typos); !s.ok()) return s;
    if (typos) {
      if (Status s = OnlyKeys(*typos, "/typos", {"description", "min_length", "distance2_min_length",
                                                 "same_first_letter", "never_fuzzy", "variants"});
          !s.ok()) {
        return s;
      }
      long ml = static_cast<long>(m.fuzzy_min_length), m2 = static_cast<long>(m.fuzzy2_min_length);
      if (Status s = Integer(*typos, "/typos", "min_length", 3, 100, &ml); !s.ok()) return s;
      if (Status s = Integer(*typos, "/typos", "distance2_min_length", 3, 100, &m2); !s.ok()) return s;
      m.fuzzy_min_length = static_cast<std::size_t>(ml);
      m.fuzzy2_min_length = static_cast<std::size_t>(m2);
      if (Status s = Bool(*typos, "/typos", "same_first_letter", &m.fuzzy_same_first_letter); !s.ok()) return s;
      if (Status s = WordList(*typos, "/typos", "never_fuzzy", &m.never_fuzzy); !s.ok()) return s;
      const json* variants = nullptr;
      if (Status s = Object(*typos, "/typos", "variants", false, &variants); !s.ok()) return s;
      if (variants) {
        for (const auto& [key, value] : variants->items()) {
          const std::string p = "/typos/variants/" + PointerEscape(key);
          std::string from, to;
          bool prefix = false;
          if (Status s = Word(p, key, false, &from, &prefix); !s.ok()) return s;
          if (!value.is_string()) return Error(p, "must be a string (the word it stands for), not " + TypeName(value));
          if (Status s = Word(p, value.get<std::string>(), false, &to, &prefix); !s.ok()) return s;
          m.variants[from] = to;
        }
      }
    }

    const json* context = nullptr;
    if (Status s = Object(root, "", "context", false, &context); !s.ok()) return s;
    if (context) {
      if (Status s = OnlyKeys(*context, "/context", {"description", "window", "negations", "negation_bonus",
                                                     "positives", "positive_factor", "clause_breaks", "fillers"});
          !s.ok()) {
        return s;
      }
      long w = m.window;
      if (Status s = Integer(*context, "/context", "window", 0, 10, &w); !s.ok()) return s;
      m.window = static_cast<int>(w);
      if (Status s = Number(*context, "/context", "negation_bonus", 0, 10, &m.negation_bonus); !s.ok()) return s;
      if (Status s = Number(*context, "/context", "positive_factor", 0, 1, &m.positive_factor); !s.ok()) return s;
      if (Status s = WordList(*context, "/context", "negations", &m.negations); !s.ok()) return s;
      if (Status s = WordList(*context, "/context", "positives", &m.positives); !s.ok()) return s;
      if (Status s = WordList(*context, "/context", "clause_breaks", &m.clause_breaks); !s.ok()) return s;
      if (Status s = WordList(*context, "/context", "fillers", &m.fillers); !s.ok()) return s;
    }

    const json* decision = nullptr;
    if (Status s = Object(root, "", "decision", false, &decision); !s.ok()) return s;
    if (decision) {
      if (Status s = OnlyKeys(*decision, "/decision", {"description", "scale", "min_confidence"}); !s.ok()) return s;
      if (Status s = Number(*decision, "/decision", "scale", 0.01, 1000, &m.scale); !s.ok()) return s;
      if (Status s = Number(*decision, "/decision", "min_confidence", 0, 1, &m.min_confidence); !s.ok()) return s;
    }

    const json* sections = nullptr;
    if (Status s = Object(root, "", "sections", true, &sections); !s.ok()) return s;
    if (Status s = OnlyKeys(*sections, "/sections", {"webmail", "receiving", "sending"}); !s.ok()) return s;
    std::unordered_map<std::string, int> term_index;  // normalized phrase -> index in m.terms
    for (int sec = 0; sec < kSectionCount; ++sec) {
      const std::string sp = std::string("/sections/") + kSections[sec];
      const json* section = nullptr;
      if (Status s = Object(*sections, "/sections", kSections[sec], true, &section); !s.ok()) return s;
      if (Status s = OnlyKeys(*section, sp, {"description", "terms"}); !s.ok()) return s;
      const json* terms = nullptr;
      if (Status s = Object(*section, sp, "terms", true, &terms); !s.ok()) return s;
      if (terms->empty()) return Error(sp + "/terms", "must list at least one term");
      for (const auto& [phrase, weight] : terms->items()) {
        const std::string tp = sp + "/terms/" + PointerEscape(phrase);
        if (!weight.is_number()) return Error(tp, "the weight must be a number, not " + TypeName(weight));
        const double w = weight.get<double>();
        if (!(w > 0 && w <= 100)) return Error(tp, "the weight must be greater than 0 and at most 100");
        Triage::Model::Term term;
        term.text = phrase;
        std::string key;
        std::istringstream words(phrase);
        std::string part;
        while (words >> part) {
          std::string word;
          bool prefix = false;
          if (Status s = Word(tp, part, true, &word, &prefix); !s.ok()) return s;
          if (m.fillers.count(word) != 0) continue;  // the tokenizer drops them from the text too
          if (auto it = m.variants.find(word); it != m.variants.end()) word = it->second;
          term.words.push_back(m.InternWord(word, prefix));
          key += (prefix ? "*" : " ") + word;
        }
        if (term.words.empty()) return Error(tp, "the term has no words besides fillers");
        auto [it, inserted] = term_index.emplace(key, static_cast<int>(m.terms.size()));
        if (inserted) m.terms.push_back(std::move(term));
        Triage::Model::Term& target = m.terms[it->second];
        if (target.weights[sec] > 0) return Error(tp, "the same term (after normalization) is listed twice in this section");
        target.weights[sec] = w;
      }
    }

    // Rank: more words first; then exact words before prefixes; then file order.
    std::vector<int> order(m.terms.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    auto prefixes = [&](int t) {
      int c = 0;
      for (int w : m.terms[t].words) c += m.words[w].prefix ? 1 : 0;
      return c;
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      if (m.terms[a].words.size() != m.terms[b].words.size()) return m.terms[a].words.size() > m.terms[b].words.size();
      return prefixes(a) < prefixes(b);
    });
    for (std::size_t r = 0; r < order.size(); ++r) m.terms[order[r]].rank = static_cast<int>(r);
    for (std::size_t t = 0; t < m.terms.size(); ++t) {
      m.terms_by_first_word[m.terms[t].words[0]].push_back(static_cast<int>(t));
    }
    return Status::Ok();
  }

  std::string source_;
};

}  // namespace

Triage::Triage(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
Triage::Triage(Triage&&) noexcept = default;
Triage& Triage::operator=(Triage&&) noexcept = default;
Triage::Triage(const Triage&) = default;
Triage& Triage::operator=(const Triage&) = default;
Triage::~Triage() = default;

int Triage::version() const { return model_ ? model_->version : 0; }

Result<Triage> Triage::FromJsonText(std::string_view json_text, const std::string& source) {
  try {
    json root = json::parse(json_text.begin(), json_text.end());
    Loader loader(source);
    auto model = loader.Load(root);
    if (!model.ok()) return model.status();
    return Triage(std::move(model).value());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a too-large number
    // e.what() is "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return Status::InvalidArgument(source + ": /: invalid JSON: " + what);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(source + ": cannot read: " + e.what());
  }
}

Result<Triage> Triage::Load(const std::string& flows_dir) {
  const std::string path = (flows_dir.empty() ? std::string(".") : flows_dir) + "/triage.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(path + ": cannot open the triage vocabulary (is --flows / MAILGUIDE_FLOWS the flows directory?)");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument(path + ": read error");
  return FromJsonText(buf.str(), path);
}

TriageResult Triage::Classify(std::string_view text) const {
  if (!model_) return {"unclear", 1.0};
  try {
    return model_->Classify(text);
  } catch (...) {  // only std::bad_alloc is possible; a conversation start must not fail on it
    return {"unclear", 1.0};
  }
}

}  // namespace bot
