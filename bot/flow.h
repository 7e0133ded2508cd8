// The troubleshooting guide as loaded from flows/: one Flow per guide section (webmail,
// receiving, sending), each with its steps per panel (RCP, MAC), plus the guide-wide parts
// (notes, panels, escalation, next steps) from flows/guide.json. Loading validates
// everything (see flow_check.h); the engine only ever sees a valid FlowSet.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "bot/status.h"

namespace bot {

// Reserved step targets: leave the checks and escalate, or end the case as resolved.
inline constexpr const char* kEscalate = "escalate";
inline constexpr const char* kResolved = "resolved";

struct FailAdvice {
  std::string cause;  // what a failed check most likely means
  std::string fix;    // what to do about it
  std::string next;   // where "Keep checking" goes; defaults to the step's next
};

struct Step {
  std::string id;
  std::string check;        // the guide's instruction, in the panel's own wording
  std::string question;     // the one question the bot asks
  std::string fail_on = "no";  // the answer that means the check failed: "no" or "yes"
  std::string next;         // next step id, kEscalate or kResolved (filled in at load time)
  FailAdvice on_fail;
  std::string pass_note;    // said when the check passes; may be empty
  std::string input;        // "" or "bounce": the step also accepts a pasted bounce message
  std::string probe;        // id of an automatic check that can decide this step; may be empty
};

struct Panel {
  std::string id;           // "rcp" or "mac"
  std::vector<Step> steps;  // in the guide's order; steps.front() is where the checks start

  const Step* FindStep(const std::string& id) const;
  int IndexOf(const std::string& id) const;  // -1 when absent
};

struct Flow {
  std::string id;           // "webmail", "receiving", "sending"
  std::string version;
  std::string title;        // the guide's section title
  std::string symptom;      // short label for a "which symptom?" button
  std::string description;  // when to use this section
  std::map<std::string, Panel> panels;
  std::string file;         // where it was loaded from, for error messages

  const Panel* FindPanel(const std::string& id) const;
};

struct Note {
  std::string id;
  std::string text;
};

struct PanelInfo {
  std::string id;           // "rcp", "mac"
  std::string name;         // "Reseller Control Panel"
  std::string short_name;   // "RCP"
};

struct EscalationField {
  std::string id;           // "mailbox", "domain", "timestamps", "bounces"
  std::string label;        // as it appears in the summary
  std::string question;
};

struct Guide {
  std::string version;
  std::string title;
  std::vector<std::string> sections;  // flow ids in the guide's order
  std::vector<Note> notes;  // shown with the first step: status page, permission level
  std::vector<PanelInfo> panels;
  std::string escalation_intro;
  std::vector<EscalationField> escalation_fields;
  std::string escalation_contact;  // who the summary goes to
  std::vector<Note> next_steps;    // the guide's "Next steps"

  const PanelInfo* FindPanel(const std::string& id) const;
};

struct FlowSet {
  Guide guide;
  std::vector<Flow> flows;  // in the guide's order
  // Older versions kept under flows/archive/, so a conversation stays on the version it
  // started on. Keyed by "id@version".
  std::map<std::string, Flow> archived;

  const Flow* Find(const std::string& id) const;
  const Flow* Find(const std::string& id, const std::string& version) const;
};

// Loads <dir>/guide.json, every <dir>/*.json flow file and <dir>/archive/*.json. Any
// problem CheckFlows() would report makes this fail with all of them in the message.
Result<FlowSet> LoadFlows(const std::string& dir);

}  // namespace bot
