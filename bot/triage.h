// Triage: names the guide section that fits a free-text problem report.
//
// "getting 550 5.7.26 when sending to gmail" -> sending; "webmail keeps logging her out"
// -> webmail; "hi" or "email broken" -> unclear, and the engine asks which symptom.
//
// The vocabulary is data (flows/triage.json, described by flows/triage.schema.json): words
// and phrases with a weight per section, listed typo variants plus a small edit distance
// for longer words, negations that strengthen a mention ("can't send") and positive words
// that weaken it ("webmail works fine"). This file holds only the mechanism.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "bot/status.h"

namespace bot {

struct TriageResult {
  std::string section;      // "webmail" | "receiving" | "sending" | "unclear"
  double confidence = 0.0;  // 0.0-1.0, two decimals; for "unclear", how sure that it is unclear
};

class Triage {
 public:
  // Reads <flows_dir>/triage.json. A missing file is NotFound; bad JSON or a value of the
  // wrong shape is InvalidArgument; either message names the file and the JSON path.
  static Result<Triage> Load(const std::string& flows_dir);
  // Same, from JSON text already in memory; `source` names it in error messages.
  static Result<Triage> FromJsonText(std::string_view json_text, const std::string& source);

  // Never throws. Any input is accepted (empty, huge, binary, invalid UTF-8); only the first
  // scan.max_bytes bytes are looked at, so the cost is bounded.
  TriageResult Classify(std::string_view text) const;

  // The data's "version", for logs.
  int version() const;

  Triage(Triage&&) noexcept;
  Triage& operator=(Triage&&) noexcept;
  Triage(const Triage&);
  Triage& operator=(const Triage&);
  ~Triage();

  struct Model;  // the compiled vocabulary (triage.cpp)

 private:
  explicit Triage(std::shared_ptr<const Model> model);
  std::shared_ptr<const Model> model_;
};

}  // namespace bot
