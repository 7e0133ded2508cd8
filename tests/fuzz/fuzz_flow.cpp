// The flow loader: flow files and guide.json as JSON text. The first byte picks the mode:
//   0: the checks alone (CheckFlowJson and CheckGuideJson over the parsed text);
//   1: the whole loader (LoadFlows) over a scratch copy of the shipped flows in which the
//      input replaces webmail.json, so a flow that passes the checks is also parsed;
//   2: the triage vocabulary (Triage::FromJsonText), then a classification with it.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bot/flow.h"
#include "bot/flow_check.h"
#include "bot/triage.h"
#include "fuzz_input.h"

namespace fs = std::filesystem;

namespace {
fs::path scratch;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* flows = std::getenv("MAILGUIDE_FLOWS");
  const fs::path source = flows ? flows : MAILGUIDE_SOURCE_DIR "/flows";
  const char* shm = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  scratch = fs::path(shm) / ("mailguide-fuzz-flow-" + std::to_string(getpid()));
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  for (const auto& entry : fs::directory_iterator(source)) {
    if (entry.is_regular_file()) fs::copy_file(entry.path(), scratch / entry.path().filename());
  }
  std::atexit([] { std::error_code ec; fs::remove_all(scratch, ec); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text = bot::fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return 0;
      (void)bot::CheckFlowJson("fuzz.json", j);
      (void)bot::CheckGuideJson("guide.json", j);
      break;
    }
    case 1: {
      {
        std::ofstream out(scratch / "webmail.json", std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
      }
      auto set = bot::LoadFlows(scratch.string());
      if (set.ok() && set->flows.empty()) bot::fuzz::Fail();
      break;
    }
    case 2: {
      auto triage = bot::Triage::FromJsonText(text, "triage.json");
      if (triage.ok()) (void)triage->Classify("can't send to gmail, 550 5.7.26, webmail logs me out");
      break;
    }
  }
  return 0;
}
