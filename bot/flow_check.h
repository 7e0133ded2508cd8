// Validation of flow files: structure (the rules of flows/schema.json) and meaning
// (references, reachability, cycles, a way to the end). Used by `mailguide flows check`
// and at every start-up.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bot {

struct FlowError {
  std::string file;     // path of the flow file
  std::string path;     // JSON path inside it, e.g. "$.panels.rcp.steps[2].next"
  std::string reason;   // what is wrong and what to do

  std::string ToString() const;  // "file: path: reason"
};

// True for the file names in a flows folder that hold a flow (not guide.json, triage.json
// or a *schema*.json).
bool IsFlowFileName(const std::string& name);

// Checks one parsed flow file (not guide.json).
std::vector<FlowError> CheckFlowJson(const std::string& file, const nlohmann::json& flow);
// Checks guide.json.
std::vector<FlowError> CheckGuideJson(const std::string& file, const nlohmann::json& guide);
// Reads and checks every flow file in dir, including duplicate flow ids across files.
std::vector<FlowError> CheckFlowDir(const std::string& dir);

}  // namespace bot
