// Triage: the shipped vocabulary against tests/data/triage_cases.tsv, loading errors, hostile
// input, and the `mailguide triage` command.
#include "bot/triage.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/paths.h"

namespace {

namespace fs = std::filesystem;
using bot::Status;
using bot::Triage;

const Triage& Shipped() {
  static const Triage triage = [] {
    auto t = Triage::Load(bot::testing::FlowsDir());
    if (!t.ok()) FAIL("flows/triage.json does not load: " << t.status().ToString());
    return std::move(t).value();
  }();
  return triage;
}

struct Case {
  int line = 0;
  std::string expected;
  std::string text;
};

std::vector<Case> LoadCases() {
  const std::string path = bot::testing::SourceDir() + "/tests/data/triage_cases.tsv";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<Case> cases;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    INFO(path << ":" << n << ": " << line);
    REQUIRE(tab != std::string::npos);
    cases.push_back({n, line.substr(0, tab), line.substr(tab + 1)});
  }
  return cases;
}

// A scratch directory holding one triage.json, removed afterwards.
class TempFlows {
 public:
  explicit TempFlows(const std::string& triage_json) {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("mailguide-triage-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "triage.json", std::ios::binary) << triage_json;
  }
  ~TempFlows() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir() const { return dir_.string(); }
  std::string file() const { return (dir_ / "triage.json").string(); }

 private:
  fs::path dir_;
};

const char* kMinimal = R"({
  "version": 1,
  "sections": {
    "webmail": {"terms": {"webmail": 4}},
    "receiving": {"terms": {"receive": 3}},
    "sending": {"terms": {"send": 3}}
  }
})";

// Loads `json` from a temp dir and returns the error it must produce.
Status LoadError(const std::string& json, std::string* file = nullptr) {
  TempFlows flows(json);
  if (file) *file = flows.file();
  auto t = Triage::Load(flows.dir());
  REQUIRE_FALSE(t.ok());
  return t.status();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const auto p = s.find(from);
  REQUIRE(p != std::string::npos);
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST_CASE("triage: every report in tests/data/triage_cases.tsv gets its section", "[triage]") {
  const auto cases = LoadCases();
  std::map<std::string, int> per_section;
  for (const auto& c : cases) per_section[c.expected]++;
  REQUIRE(cases.size() >= 60);
  REQUIRE(per_section.size() == 4);
  CHECK(per_section["webmail"] >= 10);
  CHECK(per_section["receiving"] >= 10);
  CHECK(per_section["sending"] >= 10);
  CHECK(per_section["unclear"] >= 10);

  int right = 0;
  for (const auto& c : cases) {
    const auto r = Shipped().Classify(c.text);
    if (r.section == c.expected) ++right;
    INFO("triage_cases.tsv:" << c.line << ": \"" << c.text << "\" -> " << r.section << " " << r.confidence);
    CHECK(r.section == c.expected);
    CHECK(r.confidence >= 0.0);
    CHECK(r.confidence <= 1.0);
  }
  std::cout << "triage: " << right << "/" << cases.size() << " reports right ("
            << std::lround(100.0 * right / static_cast<double>(cases.size())) << "%)\n";
}

TEST_CASE("triage: the examples from the issue", "[triage]") {
  CHECK(Shipped().Classify("getting 550 5.7.26 when sending to gmail").section == "sending");
  CHECK(Shipped().Classify("senders get 550 5.1.1 user unknown when mailing her").section == "receiving");
  CHECK(Shipped().Classify("customer can't log in to web mail").section == "webmail");
  CHECK(Shipped().Classify("hi").section == "unclear");
  CHECK(Shipped().Classify("hello?").section == "unclear");
  CHECK(Shipped().Classify("email broken").section == "unclear");
  CHECK(Shipped().Classify("help").section == "unclear");
}

TEST_CASE("triage: context turns a mention up or down", "[triage]") {
  // A positive word weakens a mention; a negation strengthens one.
  CHECK(Shipped().Classify("webmail works fine but cant send from outlook").section == "sending");
  CHECK(Shipped().Classify("sending works, not receiving").section == "receiving");
  CHECK(Shipped().Classify("she can receive but cant send").section == "sending");
  // Contradictions are unclear, and confidently so.
  const auto both = Shipped().Classify("can't send or receive");
  CHECK(both.section == "unclear");
  CHECK(both.confidence >= 0.5);
  // Longer phrases win over the words inside them.
  CHECK(Shipped().Classify("people sending to her get bounces").section == "receiving");
  CHECK(Shipped().Classify("emails from her bounce").section == "sending");
}

TEST_CASE("triage: typos within a small edit distance, and listed variants", "[triage]") {
  CHECK(Shipped().Classify("cant acess webmial").section == "webmail");
  CHECK(Shipped().Classify("not recieving emails").section == "receiving");
  CHECK(Shipped().Classify("not receiveing emails").section == "receiving");
  CHECK(Shipped().Classify("user cnat sned").section == "sending");
  CHECK(Shipped().Classify("outgoign mail stuck").section == "sending");
  // Real words near a vocabulary word are not typos of it.
  CHECK(Shipped().Classify("pending").section == "unclear");
}

TEST_CASE("triage: confidence is 0..1 with two decimals; a clear report is more confident than a weak one",
          "[triage]") {
  const auto strong = Shipped().Classify("outlook cant send, stuck in outbox, smtp error 554 5.7.1 relay access denied");
  const auto weak = Shipped().Classify("sending?");
  REQUIRE(strong.section == "sending");
  CHECK(strong.confidence > 0.9);
  if (weak.section == "sending") CHECK(weak.confidence < strong.confidence);
  for (double c : {strong.confidence, weak.confidence}) {
    CHECK(std::fabs(c * 100 - std::round(c * 100)) < 1e-9);
  }
}

TEST_CASE("triage: any input is fine, and a huge one is quick", "[triage]") {
  const Triage& t = Shipped();
  CHECK(t.Classify("").section == "unclear");
  CHECK(t.Classify("   \n\t  ").section == "unclear");
  CHECK(t.Classify(std::string("\0\0\0", 3)).section == "unclear");
  CHECK(t.Classify("\xff\xfe\xc3\x28 webmail \xe2\x82").section == "webmail");  // invalid UTF-8 around a word
  CHECK(t.Classify("can\xe2\x80\x99t send").section == "sending");               // a typographic apostrophe
  CHECK(t.Classify(std::string(40000, 'a')).section == "unclear");               // one enormous word

  std::mt19937 rng(42);
  std::string binary(40000, '\0');
  for (auto& ch : binary) ch = static_cast<char>(rng() & 0xff);
  std::string words;
  const std::array<const char*, 6> pool = {"send ", "webmail ", "recieve ", "5.7.26 ", "hello ", "a@b.c "};
  while (words.size() < 40000) words += pool[rng() % pool.size()];
  std::string dots(40000, '.');
  std::string ats(40000, '@');

  const auto start = std::chrono::steady_clock::now();
  for (const std::string* s : {&binary, &words, &dots, &ats}) {
    const auto r = t.Classify(*s);
    CHECK(r.confidence >= 0.0);
    CHECK(r.confidence <= 1.0);
  }
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  INFO("four 40,000-byte reports took " << ms << " ms");
  CHECK(ms < 500);  // generous for Debug and sanitizer builds; release is far below 1 ms each
}

TEST_CASE("triage: only the first scan.max_bytes bytes are read", "[triage]") {
  TempFlows flows(Replace(kMinimal, R"("version": 1,)", R"("version": 1, "scan": {"max_bytes": 64},)"));
  auto t = Triage::Load(flows.dir());
  REQUIRE(t.ok());
  CHECK(t->Classify("cant send").section == "sending");
  CHECK(t->Classify(std::string(100, ' ') + "cant send").section == "unclear");
}

TEST_CASE("triage: Triage copies and moves", "[triage]") {
  Triage copy = Shipped();
  Triage moved = std::move(copy);
  CHECK(moved.Classify("cant send").section == "sending");
  CHECK(moved.version() >= 1);
}

TEST_CASE("triage: a missing file is NotFound, naming the file", "[triage]") {
  const std::string dir = (fs::temp_directory_path() / "mailguide-triage-test-no-such-dir").string();
  auto t = Triage::Load(dir);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == Status::Code::kNotFound);
  CHECK_THAT(t.status().message(), Catch::Contains(dir + "/triage.json"));
}

TEST_CASE("triage: bad JSON is InvalidArgument, naming the file and the reason", "[triage]") {
  std::string file;
  const Status s = LoadError(R"({"version": 1, "sections": {)", &file);
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains(file));
  CHECK_THAT(s.message(), Catch::Contains("invalid JSON"));
  CHECK_THAT(s.message(), Catch::Contains("line"));
  // Not JSON at all, and an empty file.
  CHECK(LoadError("webmail: 4").code() == Status::Code::kInvalidArgument);
  CHECK_THAT(LoadError("").message(), Catch::Contains("invalid JSON"));
}

TEST_CASE("triage: a value of the wrong shape names its JSON path", "[triage]") {
  struct Bad {
    std::string json;
    std::string path;    // must appear in the message
    std::string reason;  // and so must this
  };
  const std::vector<Bad> bad = {
      {"[]", "/", "must be an object"},
      {Replace(kMinimal, R"("version": 1,)", ""), "/version", "missing"},
      {Replace(kMinimal, R"("version": 1,)", R"("version": "1",)"), "/version", "integer"},
      {Replace(kMinimal, R"("send": 3)", R"("send": "3")"), "/sections/sending/terms/send", "number"},
      {Replace(kMinimal, R"("send": 3)", R"("send": 0)"), "/sections/sending/terms/send", "greater than 0"},
      {Replace(kMinimal, R"("send": 3)", R"("mailer-daemon": 3)"), "/sections/sending/terms/mailer-daemon", "not one word"},
      {Replace(Replace(kMinimal, R"("send": 3)", R"("the": 3)"), R"("version": 1,)",
               R"("version": 1, "context": {"fillers": ["the"]},)"),
       "/sections/sending/terms/the", "fillers"},
      {Replace(kMinimal, R"({"send": 3})", "{}"), "/sections/sending/terms", "at least one"},
      {Replace(kMinimal, R"("sending": {"terms": {"send": 3}})", R"("sendng": {"terms": {"send": 3}})"),
       "/sections/sendng", "unknown key"},
      {Replace(kMinimal, R"(,
    "sending": {"terms": {"send": 3}})", ""),
       "/sections/sending", "missing"},
      {Replace(kMinimal, R"("version": 1,)", R"("version": 1, "decision": {"min_confidence": 2},)"),
       "/decision/min_confidence", "between 0 and 1"},
      {Replace(kMinimal, R"("version": 1,)", R"("version": 1, "context": {"negations": "not"},)"),
       "/context/negations", "array"},
      {Replace(kMinimal, R"("version": 1,)", R"("version": 1, "context": {"negations": ["not", 5]},)"),
       "/context/negations/1", "string"},
      {Replace(kMinimal, R"("version": 1,)", R"("version": 1, "typos": {"variants": {"sned": 1}},)"),
       "/typos/variants/sned", "string"},
      {Replace(kMinimal, R"("version": 1,)", R"("version": 1, "typos": {"min_lenght": 5},)"), "/typos/min_lenght",
       "unknown key"},
      {Replace(Replace(kMinimal, R"("send": 3)", R"("send": 3, "sends": 2)"), R"("version": 1,)",
               R"("version": 1, "typos": {"variants": {"sends": "send"}},)"),
       "/sections/sending/terms/sends", "twice"},
  };
  for (const auto& b : bad) {
    std::string file;
    INFO(b.json);
    const Status s = LoadError(b.json, &file);
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Contains(file + ": " + b.path));
    CHECK_THAT(s.message(), Catch::Contains(b.reason));
  }
}

TEST_CASE("triage: the shipped vocabulary follows its own schema's basic rules", "[triage]") {
  // The full JSON Schema is for editors; here, that the file says which schema it follows
  // and that the schema itself is valid JSON.
  std::ifstream schema(bot::testing::FlowsDir() + "/triage.schema.json");
  REQUIRE(schema.good());
  std::stringstream buf;
  buf << schema.rdbuf();
  CHECK(buf.str().find("\"$schema\"") != std::string::npos);
  auto t = Triage::FromJsonText(R"({"$schema": "./triage.schema.json", "version": 3, "sections": {
      "webmail": {"terms": {"webmail": 4}}, "receiving": {"terms": {"receive": 3}},
      "sending": {"terms": {"send": 3}}}})",
                                "inline");
  REQUIRE(t.ok());
  CHECK(t->version() == 3);
}

namespace {

// Runs `mailguide <args>` (args already shell-quoted) and returns its exit code and stdout.
int RunMailguide(const std::string& args, std::string* out) {
  const std::string cmd = "MAILGUIDE_FLOWS='" + bot::testing::FlowsDir() + "' '" +
                          bot::testing::MailguideBinary() + "' " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  out->clear();
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("triage: mailguide triage prints one line, or exactly the JSON contract", "[triage][cli]") {
  std::string out;
  CHECK(RunMailguide("triage --json getting 550 5.7.26 when sending to gmail", &out) == 0);
  CHECK_THAT(out, Catch::Matches(R"(\{"section": "sending", "confidence": (0\.\d\d|1\.00)\}\n)"));

  CHECK(RunMailguide("triage --json 'senders get 550 5.1.1 user unknown when mailing her'", &out) == 0);
  CHECK_THAT(out, Catch::StartsWith(R"({"section": "receiving", "confidence": )"));

  CHECK(RunMailguide("triage --json hi", &out) == 0);
  CHECK_THAT(out, Catch::StartsWith(R"({"section": "unclear", "confidence": )"));

  CHECK(RunMailguide("triage cant log in to webmail", &out) == 0);
  CHECK_THAT(out, Catch::StartsWith("webmail (confidence 0."));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}

TEST_CASE("triage: mailguide triage with no TEXT exits 2", "[triage][cli]") {
  std::string out;
  CHECK(RunMailguide("triage", &out) == 2);
  CHECK(RunMailguide("triage --json '   '", &out) == 2);
  CHECK(out.empty());
}
