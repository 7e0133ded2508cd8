// The SMTP knowledge base: coverage of the tables, the guide's own rows, code look-ups, the
// output shapes and `mailguide smtp-code` as a process.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bot/smtp/bounce_parser.h"
#include "bot/smtp/smtp.h"
#include "support/paths.h"
#include "support/process.h"

namespace {

using bot::smtp::Entry;
using bot::smtp::Explanation;
using bot::smtp::Knowledge;

const Knowledge& Kb() {
  static const Knowledge k = [] {
    auto r = Knowledge::Load(bot::testing::FlowsDir());
    if (!r.ok()) FAIL("knowledge base does not load: " << r.status().ToString());
    return std::move(r).value();
  }();
  return k;
}

Explanation Codes(std::vector<std::string> codes) {
  auto r = Kb().ExplainCodes(codes);
  if (!r.ok()) FAIL("ExplainCodes failed: " << r.status().ToString());
  return std::move(r).value();
}

// Rows of a TSV file with a header line.
std::vector<std::vector<std::string>> ReadTsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, '\t')) f.push_back(x);
    rows.push_back(f);
  }
  return rows;
}

std::string FileOf(const Entry& e) { return e.file.substr(e.file.find('#') + 1); }

}  // namespace

TEST_CASE("the knowledge base loads and every entry is complete", "[smtp]") {
  const auto& k = Kb();
  CHECK(k.categories().size() == 12);
  for (const auto& e : k.entries()) {
    INFO(e.file << " " << e.code);
    CHECK_FALSE(e.meaning.empty());
    CHECK_FALSE(e.title.empty());
    CHECK(e.meaning.back() == '.');  // a plain sentence
  }
  for (const auto& p : k.patterns()) {
    INFO(p.id);
    CHECK_FALSE(p.category.empty());
    for (const auto& m : p.match)
      CHECK(std::none_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  }
}

TEST_CASE("the data files cover the whole registry and every basic code", "[smtp]") {
  std::set<std::string> basic, enhanced;
  for (const auto& e : Kb().entries()) {
    if (FileOf(e) == "basic-codes" && bot::smtp::IsBasicCode(e.code)) basic.insert(e.code);
    if (FileOf(e) == "enhanced-codes") enhanced.insert(e.code);
  }
  CHECK(basic.size() == 34);  // every code of smtp-basic-codes.tsv
  int classes = 0, subjects = 0, details = 0;
  for (const auto& c : enhanced) {
    if (c[0] != 'X') ++classes;
    else if (c.back() == 'X') ++subjects;
    else ++details;
  }
  CHECK(classes == 3);    // 2.X.X 4.X.X 5.X.X
  CHECK(subjects == 8);   // X.0.X .. X.7.X
  CHECK(details == 81);   // X.0.0 .. X.7.30
}

TEST_CASE("every row of the reference tables resolves to its own entry", "[smtp]") {
  std::string ref = bot::testing::SharedDir() + "/reference";
  if (!std::filesystem::exists(ref + "/smtp-enhanced-codes.tsv")) {
    WARN("skipped: " << ref << " is not there (reference tables checked against the data files only)");
    return;
  }
  auto basic = ReadTsv(ref + "/smtp-basic-codes.tsv");
  CHECK(basic.size() == 34);
  for (const auto& row : basic) {
    INFO(row[0]);
    const Entry* e = Kb().LookupBasic(row[0]);
    REQUIRE(e != nullptr);
    CHECK(e->code == row[0]);
    bool transient = row[2] == "transient";
    Explanation x = Codes({row[0]});
    CHECK(x.permanent == (row[2] == "permanent"));
    if (transient) CHECK_FALSE(x.permanent);
  }
  auto enhanced = ReadTsv(ref + "/smtp-enhanced-codes.tsv");
  CHECK(enhanced.size() == 92);
  for (const auto& row : enhanced) {
    const std::string& code = row[0];
    INFO(code << " " << row[1]);
    if (code[0] != 'X') {  // class row 2.X.X
      std::string sample = code.substr(0, 1) + ".9.99";
      const Entry* e = Kb().LookupEnhanced(sample);
      REQUIRE(e != nullptr);
      CHECK(e->code == code);
      continue;
    }
    for (char cls : {'4', '5'}) {
      std::string concrete = cls + code.substr(1);
      if (concrete.back() == 'X') concrete.back() = '9';  // subject row: an unlisted detail of that subject
      if (concrete == "4.0.9" || concrete == "5.0.9") {
        const Entry* e = Kb().LookupEnhanced(concrete);
        REQUIRE(e != nullptr);
        CHECK(e->code == code);
        continue;
      }
      const Entry* e = Kb().LookupEnhanced(concrete);
      REQUIRE(e != nullptr);
      if (code.back() == 'X') {
        // 5.1.9 is itself listed; use a detail nobody lists for the subject rows
        std::string unlisted = cls + code.substr(1, code.size() - 2) + "99";
        e = Kb().LookupEnhanced(unlisted);
        REQUIRE(e != nullptr);
      }
      CHECK(e->code == code);
      Explanation x = Codes({concrete});
      CHECK_FALSE(x.meaning.empty());
      CHECK_FALSE(x.category.empty());
    }
  }
}

TEST_CASE("every row of the guide's own table, whose meaning wins", "[smtp]") {
  struct Row {
    std::vector<std::string> codes;
    const char* category;
    const char* section;
    const char* words;  // from the guide's meaning
  };
  const Row rows[] = {
      {{"501", "5.1.3"}, "syntax", "sending", "client side"},
      {{"521"}, "server-unavailable", "receiving", "does not accept mail"},
      {{"530 5.7.1"}, "auth", "sending", "password is wrong"},
      {{"535"}, "auth", "sending", "timed out"},
      {{"550"}, "recipient-unknown", "receiving", "policy rejected"},
      {{"550-5.7.26"}, "dmarc-spf-dkim", "sending", "Gmail"},
      {{"551"}, "policy-blocklist", "sending", "blocklist"},
      {{"552"}, "mailbox-full", "receiving", "storage limit"},
      {{"553"}, "recipient-unknown", "receiving", "not valid"},
      {{"554 5.3.4"}, "too-large", "sending", "too large"},
      {{"554"}, "mailbox-disabled", "receiving", "mailbox is disabled"},
  };
  for (const auto& row : rows) {
    Explanation e = Codes(row.codes);
    INFO(e.summary << "\n" << e.explanation);
    CHECK(e.category == row.category);
    CHECK(e.section == row.section);
    CHECK(e.meaning.find(row.words) != std::string::npos);
    CHECK(e.permanent);
  }
  // Where the guide differs from the standard, the standard meaning is noted too.
  Explanation e551 = Codes({"551"});
  CHECK(e551.explanation.find("user not local") != std::string::npos);
}

TEST_CASE("codes as tokens: pairs, hyphens, unlisted and malformed codes", "[smtp]") {
  CHECK(Codes({"550", "5.7.26"}).enhanced == "5.7.26");
  CHECK(Codes({"550 5.7.26"}).basic == "550");
  CHECK(Codes({"550-5.7.26"}).category == "dmarc-spf-dkim");
  // Several codes: the permanent failure is the primary one, all are listed.
  Explanation two = Codes({"421", "4.7.0", "550", "5.1.1"});
  CHECK(two.basic == "550");
  CHECK(two.enhanced == "5.1.1");
  CHECK(two.codes.size() == 2);
  // Well formed but in no table: class and subject meaning.
  Explanation unlisted = Codes({"5.7.99"});
  CHECK(unlisted.category == "policy-blocklist");
  CHECK(unlisted.explanation.find("not in the registry") != std::string::npos);
  CHECK(unlisted.explanation.find("permanent") != std::string::npos);
  CHECK(Codes({"4.9.9"}).explanation.find("temporary") != std::string::npos);
  Explanation odd = Codes({"559"});
  CHECK(odd.permanent);
  CHECK(odd.explanation.find("not a standard reply code") != std::string::npos);
  for (const char* bad : {"999", "6.1.1", "55O", "5.7", "5.1.1.1", "1234", "600", "", "550 hello", "5.7.1000"}) {
    INFO(bad);
    auto r = Kb().ExplainCodes({bad});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == bot::Status::Code::kInvalidArgument);
    CHECK(r.status().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("provider codes: their own numbers and the registry numbers they reuse", "[smtp]") {
  CHECK(Codes({"550", "5.7.606"}).category == "policy-blocklist");
  CHECK(Codes({"5.7.649"}).provider == "Microsoft 365");
  CHECK(Codes({"5.7.650"}).provider.empty());  // outside the banned-IP range
  // 5.7.27 alone is the registry's sender null MX; from Gmail it is SPF.
  Explanation alone = Codes({"5.7.27"});
  CHECK(alone.category == "policy-blocklist");
  CHECK(alone.explanation.find("Gmail") != std::string::npos);
  Explanation gmail = Kb().ExplainText("550 5.7.27 The sender did not pass SPF checks - gsmtp");
  CHECK(gmail.category == "dmarc-spf-dkim");
  CHECK(gmail.provider == "Gmail");
  // Microsoft's 5.1.10 is "recipient not found" (the registry's X.1.10 is null MX).
  CHECK(Kb().ExplainText("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found").provider == "Microsoft 365");
  CHECK(Codes({"5.1.10"}).category == "server-unavailable");
}

TEST_CASE("ToJson has exactly the design's shape", "[smtp]") {
  nlohmann::json j = bot::smtp::ToJson(Kb().ExplainText("Diagnostic-Code: smtp; 550 5.7.26 unauthenticated email\n"));
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  CHECK(keys == std::set<std::string>{"basic", "enhanced", "category", "section", "summary", "explanation", "codes"});
  CHECK(j["basic"] == "550");
  CHECK(j["enhanced"] == "5.7.26");
  CHECK(j["category"] == "dmarc-spf-dkim");
  CHECK(j["section"] == "sending");
  REQUIRE(j["codes"].size() == 1);
  CHECK(j["codes"][0]["line"] == 1);
  CHECK(j["codes"][0].size() == 3);
  nlohmann::json none = bot::smtp::ToJson(Kb().ExplainText("Status: 5.1.1"));
  CHECK(none["basic"].is_null());
  CHECK(none["enhanced"] == "5.1.1");
  nlohmann::json nothing = bot::smtp::ToJson(Kb().ExplainText("thanks!"));
  CHECK(nothing["basic"].is_null());
  CHECK(nothing["enhanced"].is_null());
  CHECK(nothing["category"] == "none");
  CHECK(nothing["codes"].empty());
}

TEST_CASE("ToReply: title, facts, checklist and the offer to start the flow", "[smtp]") {
  bot::Reply r = bot::smtp::ToReply(Codes({"550 5.7.26"}));
  CHECK(r.title == "550 5.7.26 — DMARC/SPF/DKIM failure");
  REQUIRE_FALSE(r.paragraphs.empty());
  CHECK_FALSE(r.checklist.empty());
  std::vector<std::string> labels;
  for (const auto& f : r.facts) labels.push_back(f.label);
  CHECK(labels == std::vector<std::string>{"Code", "Permanent/temporary", "Fault", "Category"});
  REQUIRE(r.choices.size() == 1);
  CHECK(r.choices[0].label == "Start the sending checks");
  CHECK(r.choices[0].value == "start:sending");
  for (const auto& p : r.paragraphs) CHECK(p.find("**") == std::string::npos);  // plain text
  bot::Reply recv = bot::smtp::ToReply(Codes({"552 5.2.2"}));
  REQUIRE(recv.choices.size() == 1);
  CHECK(recv.choices[0].value == "start:receiving");
  CHECK(bot::smtp::ToReply(Codes({"250"})).choices.empty());
}

TEST_CASE("load errors name the file and the JSON path", "[smtp]") {
  bot::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/smtp");
  for (const auto& f : std::filesystem::directory_iterator(bot::testing::FlowsDir() + "/smtp"))
    std::filesystem::copy(f.path(), dir.path() + "/smtp/" + f.path().filename().string());
  REQUIRE(Knowledge::Load(dir.path()).ok());

  std::string basic = dir.path() + "/smtp/basic-codes.json";
  nlohmann::json doc = nlohmann::json::parse(bot::testing::ReadFile(basic));
  doc["entries"][3]["category"] = "spam";
  std::ofstream(basic) << doc.dump();
  auto bad = Knowledge::Load(dir.path());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("basic-codes.json") != std::string::npos);
  CHECK(bad.status().message().find("/entries/3/category") != std::string::npos);

  std::ofstream(basic) << "{\"kind\": \"basic-codes\", \"entries\": [";
  auto broken = Knowledge::Load(dir.path());
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().message().find("basic-codes.json") != std::string::npos);

  CHECK_FALSE(Knowledge::Load(dir.path() + "/nowhere").ok());
}

TEST_CASE("mailguide smtp-code: arguments, stdin, --json and bad input", "[smtp]") {
  using bot::testing::RunMailguide;
  std::vector<std::string> env = {"MAILGUIDE_FLOWS=" + bot::testing::FlowsDir()};
  for (const char* bad : {"999", "6.1.1", "55O"}) {
    INFO(bad);
    auto r = RunMailguide({"smtp-code", bad}, "", env);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(bad) != std::string::npos);
  }
  auto plain = RunMailguide({"smtp-code", "550", "5.7.26"}, "", env);
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find("550 5.7.26 — DMARC/SPF/DKIM failure") != std::string::npos);

  auto json = RunMailguide({"smtp-code", "--json", "550-5.7.26"}, "", env);
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["basic"] == "550");
  CHECK(j["enhanced"] == "5.7.26");
  CHECK(j["category"] == "dmarc-spf-dkim");

  auto unlisted = RunMailguide({"smtp-code", "--json", "5.7.99"}, "", env);
  CHECK(unlisted.exit_code == 0);
  CHECK(nlohmann::json::parse(unlisted.out)["basic"].is_null());

  std::string bounce =
      "From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail Returned to Sender\n\n"
      "<kim@example.jp>: host mx.example.jp[192.0.2.2] said: 552 5.2.2 <kim@example.jp>:\n"
      "    Mailbox full (in reply to RCPT TO command)\n";
  auto in = RunMailguide({"smtp-code", "--json"}, bounce, env);
  REQUIRE(in.exit_code == 0);
  auto k = nlohmann::json::parse(in.out);
  CHECK(k["basic"] == "552");
  CHECK(k["category"] == "mailbox-full");
  CHECK(k["section"] == "receiving");
  CHECK(k["codes"][0]["line"] == 4);

  CHECK(RunMailguide({"smtp-code"}, "", env).exit_code == 2);
}
