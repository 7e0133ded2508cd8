// SMTP reply codes, enhanced status codes and bounce messages (issue 3).
//
// Knowledge comes from data files in <flows>/smtp/*.json (see flows/smtp/schema.json); this
// module only knows how to find codes in text and how to combine the tables into one answer.
// No function here throws: loading returns a Status, text parsing accepts any bytes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/message.h"
#include "bot/status.h"

namespace bot::smtp {

// One code found in text (or given on the command line).
struct FoundCode {
  std::string basic;     // "550"; "" when absent
  std::string enhanced;  // "5.7.26"; "" when absent
  int line = 0;          // 1-based line of the input where it was found (0: command-line token)
};

// One entry of the knowledge base, as loaded from flows/smtp/*.json.
struct Entry {
  std::string code;      // as written in the file: "550", "5XX", "X.7.26", "X.7.X", "550 5.7.26", "5.7.606"
  std::string code_last; // provider ranges: last code of the range ("5.7.649"); usually ""
  std::string title;     // a few words
  std::string meaning;   // one plain sentence for an agent in a hurry
  std::vector<std::string> checks;  // what to check, in order
  std::string category;  // design taxonomy; "" in a class/subject row means "decided by the text"
  std::string section;   // "sending" | "receiving" | "none"; "" = the category's default
  std::string fault;     // one of the fault keys in categories.json; "" = the category's default
  std::string provider;  // provider entries: "Gmail", "Microsoft 365", ...
  std::string note;      // extra remark shown after the meaning (e.g. where the guide differs)
  std::vector<std::string> requires_text;  // provider entries: applies only when the text has one
  std::vector<std::string> match;          // text patterns: any of these (lower case) substrings
  std::vector<std::string> codes;          // text patterns: only with these codes ("5.4.1", "554", "X.7.1")
  bool generic = false;  // the code says too little: a text pattern decides the category
  bool strong = false;   // text patterns: overrides even a specific code
  std::string id;        // text patterns: stable identifier
  std::string file;      // which file it came from (for messages)
};

struct CategoryInfo {
  std::string key;      // "dmarc-spf-dkim"
  std::string label;    // "DMARC/SPF/DKIM failure"
  std::string section;  // default guide section
  std::string fault;    // default fault key
};

struct Explanation {
  std::string basic, enhanced;  // primary code; "" when none
  std::string category;         // design taxonomy
  std::string section;          // "sending" | "receiving" | "none"
  bool permanent = false;
  bool failure = false;         // false for successes, auto-replies, delivered DSNs, feedback
  std::string fault;            // fault key ("recipient-side", ...)
  std::string fault_text;       // "the recipient's domain or mail server"
  std::string category_label;   // "DMARC/SPF/DKIM failure"
  std::string title;            // short meaning of the code ("Multiple authentication checks failed")
  std::string meaning;          // the plain sentence
  std::vector<std::string> checks;
  std::vector<std::string> notes;  // extra remarks (standard vs guide, provider reuse of a number)
  std::string provider;         // provider whose knowledge was used, if any
  std::string matched_text;     // the text pattern that decided the category: id: "words"
  std::string reply_text;       // the primary reply's own words, as found (trimmed, one line)
  std::string summary;          // one line
  std::string explanation;      // markdown: plain sentence first, then what to check
  std::vector<FoundCode> codes; // every code found, in order
};

class Knowledge {
 public:
  // Reads <flows_dir>/smtp/*.json. Errors name the file and what is wrong.
  static Result<Knowledge> Load(const std::string& flows_dir);
  // Codes given as separate tokens ("550", "5.7.26", "550 5.7.26", "550-5.7.26");
  // InvalidArgument (one line, names the token) for malformed ones.
  Result<Explanation> ExplainCodes(const std::vector<std::string>& codes) const;
  // Free text: a code, a fragment, a whole bounce email (MIME, quoted-printable, base64 parts...).
  // Never throws; inputs over 1 MB are cut at 1 MB.
  Explanation ExplainText(std::string_view text) const;

  // Table access (tests, `flows check`).
  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<Entry>& patterns() const { return patterns_; }
  const std::map<std::string, CategoryInfo>& categories() const { return categories_; }
  // The most specific table entry for an enhanced code ("5.7.26" → X.7.26; "5.7.99" → X.7.X);
  // nullptr when the code is not well formed. Provider entries are not consulted.
  const Entry* LookupEnhanced(const std::string& enhanced) const;
  // The basic-code entry ("550"; "559" → the 5XX class row); nullptr when malformed.
  const Entry* LookupBasic(const std::string& basic) const;
  // The guide's own table row for this pair, if the guide speaks about it.
  const Entry* LookupGuide(const std::string& basic, const std::string& enhanced) const;

 private:
  struct Context;
  Explanation Explain(const std::string& basic, const std::string& enhanced,
                      std::string_view reply_text, std::string_view whole_text,
                      std::vector<FoundCode> codes, const Context& ctx) const;
  const Entry* LookupProvider(const std::string& enhanced, const std::string& basic,
                              std::string_view lower_text, bool code_only) const;
  const Entry* MatchPattern(const std::string& basic, const std::string& enhanced,
                            std::string_view lower_text, std::string* words) const;
  const CategoryInfo* Category(const std::string& key) const;

  std::vector<Entry> entries_;    // basic, enhanced, guide and provider entries
  std::vector<Entry> patterns_;   // text patterns, in priority order
  std::map<std::string, CategoryInfo> categories_;
  std::map<std::string, std::string> faults_;  // fault key → text
  std::map<std::string, std::string> sections_; // section key → guide section title
  std::map<std::string, const Entry*> basic_, enhanced_, guide_;  // built after loading
  std::vector<const Entry*> providers_;
  void Index();
};

// True when a chat message is just a code or starts with one ("550 5.7.26 blah", "5.1.1").
bool StartsWithCode(std::string_view text);
// True when text looks like a pasted bounce / SMTP reply (contains at least one code the parser
// accepts).
bool ContainsCode(std::string_view text);
// Checks one command-line token ("550", "5.7.26", "550-5.7.26", "550 5.7.26"); on success fills
// basic/enhanced, else returns InvalidArgument with a one-line reason.
Status ParseCodeToken(std::string_view token, std::string* basic, std::string* enhanced);

// The explanation as the core's platform-neutral Reply: title, paragraphs (plain text), facts
// (Code, Permanent/temporary, Fault, Category), a checklist; when section != "none", a Choice
// {"Start the sending checks", "start:sending"} (or receiving).
Reply ToReply(const Explanation& e);
// The design's `smtp-code --json` object.
nlohmann::json ToJson(const Explanation& e);
// Readable plain text for the terminal (what `smtp-code` prints without --json).
std::string ToPlainText(const Explanation& e);

}  // namespace bot::smtp
