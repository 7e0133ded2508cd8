// The mailguide binary as a process: chat through a pipe, resuming a stored conversation in
// a new process, flows check and graph, and exit codes for bad usage.
#include <filesystem>
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

#include "support/process.h"

using bot::testing::RunMailguide;
using bot::testing::TempDir;
using Catch::Matchers::Contains;

TEST_CASE("chat reads one message per line from a pipe and exits 0 at end of input", "[cli]") {
  TempDir data;
  auto r = RunMailguide({"chat", "--section", "webmail", "--panel", "rcp"}, "yes\nno\n",
                        {"MAILGUIDE_STORE=memory", "MAILGUIDE_DATA_DIR=" + data.path()});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("Step 1 of 5"));
  CHECK_THAT(r.out, Contains("Step 2 of 5"));
  CHECK_THAT(r.out, Contains("Step 3 of 5"));
  CHECK_THAT(r.err, Contains("session "));
}

TEST_CASE("chat picks a numbered choice with a digit", "[cli]") {
  auto r = RunMailguide({"chat"}, "hello\n3\n2\n", {"MAILGUIDE_STORE=memory"});
  CHECK(r.exit_code == 0);
  // 3 = "Can't send email", then 2 = the MAC.
  CHECK_THAT(r.out, Contains("The user cannot send email"));
  CHECK_THAT(r.out, Contains("Mail Administration Console (MAC)"));
  CHECK_THAT(r.out, Contains("Step 1 of 5"));
}

TEST_CASE("chat resumes a stored conversation in a new process", "[cli]") {
  TempDir data;
  std::vector<std::string> env = {"MAILGUIDE_DATA_DIR=" + data.path()};
  auto first = RunMailguide({"chat", "--section", "receiving", "--panel", "mac"}, "yes\n", env);
  REQUIRE(first.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(first.err, m, std::regex("--session ([0-9a-f]+)")));
  std::string id = m[1];
  CHECK(std::filesystem::exists(data.path() + "/sessions.db"));

  auto second = RunMailguide({"chat", "--session", id}, "no\n", env);
  CHECK(second.exit_code == 0);
  // It shows where the conversation stands (step 2), then takes the answer to it.
  CHECK_THAT(second.out, Contains("Step 2 of 4"));
  CHECK_THAT(second.out, Contains("Publish the MX record"));

  auto unknown = RunMailguide({"chat", "--session", "doesnotexist"}, "", env);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Contains("no stored conversation"));
}

TEST_CASE("bad usage exits 2 with a one-line reason", "[cli]") {
  CHECK(RunMailguide({"chat", "--section", "nope"}).exit_code == 2);
  CHECK(RunMailguide({"nosuchcommand"}).exit_code == 2);
  auto bad_ttl = RunMailguide({"chat"}, "", {"MAILGUIDE_STORE=memory", "MAILGUIDE_SESSION_TTL=soon"});
  CHECK(bad_ttl.exit_code == 2);
  CHECK_THAT(bad_ttl.err, Contains("MAILGUIDE_SESSION_TTL"));
  auto bad_store = RunMailguide({"chat"}, "", {"MAILGUIDE_STORE=postgres://x"});
  CHECK(bad_store.exit_code == 2);
}

TEST_CASE("flows check passes the shipped flows and names file, path and reason otherwise", "[cli]") {
  auto ok = RunMailguide({"flows", "check", bot::testing::FlowsDir()});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("ok: 3 flows"));

  TempDir dir;
  std::filesystem::copy(bot::testing::FlowsDir(), dir.path(), std::filesystem::copy_options::recursive);
  std::string file = dir.path() + "/sending.json";
  std::string text = bot::testing::ReadFile(file);
  const std::string from = "\"id\": \"sending-limit\"";
  text.replace(text.find(from), from.size(), "\"id\": \"account-status\"");
  std::ofstream(file) << text;
  auto bad = RunMailguide({"flows", "check", dir.path()});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains(file + ": $.panels.rcp.steps[1].id: duplicate step id 'account-status'"));
}

TEST_CASE("flows graph draws Mermaid by default and DOT on request", "[cli]") {
  auto mermaid = RunMailguide({"flows", "graph"});
  CHECK(mermaid.exit_code == 0);
  CHECK_THAT(mermaid.out, Contains("flowchart TD"));
  CHECK_THAT(mermaid.out, Contains("webmail_rcp_mailbox_exists"));
  auto dot = RunMailguide({"flows", "graph", "--format", "dot"});
  CHECK(dot.exit_code == 0);
  CHECK_THAT(dot.out, Contains("digraph flows {"));
  CHECK(RunMailguide({"flows", "graph", "--format", "png"}).exit_code == 2);
}
