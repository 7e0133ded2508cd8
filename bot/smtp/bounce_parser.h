// Finding SMTP codes in free text: a code alone, a transcript, a DSN, a whole MIME bounce.
// Used by Knowledge::ExplainText; exposed for tests. Never throws; linear in the input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bot::smtp {

// Inputs longer than this are cut before parsing.
inline constexpr size_t kMaxInputBytes = 1 << 20;

struct ParsedReply {
  enum class Origin {
    kReply,       // a server reply: line start, after "said:", "Diagnostic-Code: smtp;" ...
    kStatus,      // a DSN "Status:" field
    kHash,        // qmail/Exchange "(#5.1.1)" / "#5.1.1"
    kLoose,       // a basic+enhanced pair found mid-sentence (flattened continuation lines)
  };
  std::string basic;     // "" when absent
  std::string enhanced;  // "" when absent
  int line = 0;          // 1-based line in the input
  Origin origin = Origin::kReply;
  bool diagnostic = false;  // inside a Diagnostic-Code field
  bool sent = false;        // a ">>>" line of a transcript (what the client sent)
  std::string text;         // the reply's words: rest of the line plus continuation lines
};

struct ParsedBounce {
  enum class Kind {
    kUnknown,    // no DSN structure; judge from codes and words
    kFailure,    // Action: failed / an NDR
    kDelay,      // Action: delayed, "Delivery Status Notification (Delay)", "Delay reason:"
    kDelivered,  // Action: delivered / relayed / expanded only
    kAutoReply,  // an out-of-office or other automatic answer
    kFeedback,   // an ARF feedback report (abuse, opt-out, auth-failure)
  };
  Kind kind = Kind::kUnknown;
  std::vector<ParsedReply> replies;  // in order, continuation lines merged, duplicates dropped
  int primary = -1;                  // index into replies, -1 when no failure code
  std::string status_field;          // first DSN Status: value (enhanced code) or ""
  std::string diagnostic;            // the primary recipient's Diagnostic-Code text, unfolded
  std::string text;                  // the decoded, non-quoted text (subject included), for words
  bool only_codes = false;           // the input was nothing but codes (no other words)
};

ParsedBounce ParseBounce(std::string_view input);

// Helpers shared with the command line and tests.
bool IsBasicCode(std::string_view s);     // "550": [2-5][0-5][0-9]
bool IsEnhancedCode(std::string_view s);  // "5.7.26": [245].\d{1,3}.\d{1,3}

// Decoders (tolerant: bad input is passed through, never rejected).
std::string DecodeQuotedPrintable(std::string_view in);
std::string DecodeBase64(std::string_view in);

}  // namespace bot::smtp
