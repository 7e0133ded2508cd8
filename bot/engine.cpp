#include "bot/engine.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "bot/text.h"

namespace bot {
namespace {

using Phase = Session::Phase;

// What a turn asks the engine to do, whether it came as a button or as typed text.
enum class Word { kNone, kYes, kNo, kSkip, kBack, kRestart, kCancel, kHelp, kFixed, kContinue };

// Lower case, stray punctuation and extra spaces removed: "  Yes!! " -> "yes", "Start over." -> "start over".
std::string Normalise(std::string_view text) {
  std::string out;
  bool space = false;
  for (unsigned char c : text.substr(0, 64)) {
    if (std::isalnum(c) || c == '\'') {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += static_cast<char>(std::tolower(c));
    } else if (c == '?' && out.empty()) {
      out += '?';
    } else {
      space = true;
    }
  }
  return out;
}

Word ParseWord(std::string_view text) {
  static const std::vector<std::pair<Word, std::vector<std::string>>> kWords = {
      {Word::kYes, {"yes", "y", "yep", "yeah", "yup", "yea", "ya", "sure", "correct", "affirmative", "yes it is",
                    "yes it does", "it is", "it does"}},
      {Word::kNo, {"no", "n", "nope", "nah", "none", "no it isn't", "no it is not", "no it doesn't", "negative", "not",
                   "it isn't", "it doesn't"}},
      {Word::kSkip, {"skip", "skip it", "skip this", "next", "pass", "don't know", "dont know", "not sure", "idk"}},
      {Word::kBack, {"back", "go back", "undo", "previous", "prev"}},
      {Word::kRestart, {"restart", "start over", "start again", "reset", "begin again"}},
      {Word::kCancel, {"cancel", "stop", "quit", "exit", "abort", "never mind", "nevermind"}},
      {Word::kHelp, {"help", "?", "commands", "what can you do"}},
      {Word::kFixed, {"fixed", "that fixed it", "it's fixed", "its fixed", "solved", "resolved", "it works now",
                      "works now", "it's solved now", "its solved now"}},
      {Word::kContinue, {"keep checking", "continue", "go on", "carry on", "still broken", "not fixed"}},
  };
  std::string n = Normalise(text);
  if (n.empty()) return Word::kNone;
  for (const auto& [word, forms] : kWords) {
    if (std::find(forms.begin(), forms.end(), n) != forms.end()) return word;
  }
  return Word::kNone;
}

Word WordFromChoice(const std::string& value) {
  static const std::map<std::string, Word> kValues = {
      {"yes", Word::kYes},         {"no", Word::kNo},         {"skip", Word::kSkip},   {"back", Word::kBack},
      {"restart", Word::kRestart}, {"cancel", Word::kCancel}, {"help", Word::kHelp},   {"fixed", Word::kFixed},
      {"continue", Word::kContinue}};
  auto it = kValues.find(value);
  return it == kValues.end() ? Word::kNone : it->second;
}

bool IsAnswerWord(Word w) {
  return w == Word::kYes || w == Word::kNo || w == Word::kSkip || w == Word::kBack || w == Word::kFixed ||
         w == Word::kContinue;
}

std::string Token(int64_t version) { return "v" + std::to_string(version); }

// Cuts text kept in the session so one conversation stays small.
std::string Clip(std::string_view s, size_t n) {
  std::string t = Trim(s);
  if (t.size() <= n) return t;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return t.substr(0, cut) + "…";
}

// The section a /mailguide argument or a typed word names, or "".
std::string SectionNamed(const FlowSet& flows, const std::string& text) {
  std::string n = Normalise(text);
  std::string first = n.substr(0, n.find(' '));  // "/mailguide sending rcp"
  for (const auto& f : flows.flows) {
    if (n == f.id || first == f.id || n == Normalise(f.symptom)) return f.id;
  }
  return "";
}

std::string PanelNamed(const std::string& text) {
  std::string n = " " + Normalise(text) + " ";
  if (n.find(" rcp ") != std::string::npos || n.find("reseller control panel") != std::string::npos ||
      n.find(" reseller ") != std::string::npos) {
    return "rcp";
  }
  if (n.find(" mac ") != std::string::npos || n.find("mail administration console") != std::string::npos ||
      n.find("mail admin") != std::string::npos) {
    return "mac";
  }
  return "";
}

// An email address in free text: "alice@example.com" gives the mailbox and the domain.
std::string EmailIn(const std::string& text) {
  static const std::regex kEmail(R"(([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+))");
  std::smatch m;
  std::string head = text.substr(0, 2000);
  return std::regex_search(head, m, kEmail) ? Lower(m.str(0)) : "";
}

const char* kAnswerHint = "Answer yes or no — or type skip, back, restart, cancel or help.";

// Builds the replies of one turn; holds the read-only inputs so each helper stays short.
class Turn {
 public:
  Turn(const Content& content, const EngineOptions& options, const Message& message)
      : content_(content), options_(options), message_(message) {}

  StepOutput Run(const Session& in, bool existing, bool expired, const std::string& panel_pref);
  // Second half of a turn whose checks started with probes (see ApplyProbeResults).
  StepOutput WithProbes(StepOutput out, const std::vector<ProbeResult>& results);

 private:
  const FlowSet& flows() const { return content_.flows; }
  const Flow* CurrentFlow(const Session& s) const { return flows().Find(s.flow, s.flow_version); }
  const Panel* CurrentPanel(const Session& s) const {
    const Flow* f = CurrentFlow(s);
    return f ? f->FindPanel(s.panel) : nullptr;
  }

  // State changes.
  void StartCase(const std::string& section, const std::string& panel_hint);
  void BeginChecks(bool with_notes);
  void Ask(const std::string& step_id, bool with_notes, std::vector<std::string> lead = {});
  void Advance(const std::string& target, std::vector<std::string> lead);
  void AskDetail(std::vector<std::string> lead);
  void FinishEscalation();
  void Resolve(const std::string& at_step);
  void HandleAnswer(Word word, const std::string& text);
  void HandleAfterFail(Word word, const std::string& text);
  void HandleEscalating(Word word, const std::string& text);
  void HandleTarget(Word word, const std::string& text);
  std::string AutoResult(const std::string& step_id) const;
  void Back();
  void ExplainBounce(const std::string& text, const Step& step);

  // Replies that change nothing.
  void Reprompt(const std::string& why);
  Reply HelpReply() const;
  Reply SectionChoiceReply(const std::string& lead) const;
  Reply CurrentQuestion() const;
  Reply QuestionReply(const Step& step, bool with_notes, const std::vector<std::string>& lead) const;
  std::string Summary(bool escalated) const;

  Reply& Add(Reply r) {
    out_.replies.push_back(std::move(r));
    return out_.replies.back();
  }
  // A case is identified by its conversation and start time, so a new case in the same
  // conversation must not share the previous one's second.
  int64_t NewCaseTime() const { return std::max(options_.clock(), s().created_at + 1); }
  void Stateless(TurnStatus status) {
    out_.persist = false;
    out_.status = status;
  }

  const Content& content_;
  const EngineOptions& options_;
  const Message& message_;
  Session& s() { return out_.session; }
  const Session& s() const { return out_.session; }
  std::string panel_pref_;
  StepOutput out_;
};

Reply Turn::HelpReply() const {
  Reply r;
  r.title = "mailguide — hosted email troubleshooting";
  r.paragraphs.push_back(
      "I walk you through the " + flows().guide.title +
      " one check at a time, explain SMTP codes and bounce messages, and write the escalation summary when the "
      "checks run out.");
  r.checklist = {"/mailguide webmail, /mailguide receiving or /mailguide sending: start a guided check",
                 "/mailguide followed by the problem in your own words: I pick the right checks",
                 "/smtp-code 550 5.7.26, or /smtp-code with a pasted bounce: what it means and what to check"};
  if (options_.prober) {
    r.checklist.push_back("/mailguide check example.com (or a mailbox): its DNS records and mailbox, checked for you");
    r.checklist.push_back("/mailguide token alice@example.com why: an email token, given privately");
  }
  r.checklist.push_back("During a check: yes, no, skip, back, restart, cancel, help");
  for (const auto& f : flows().flows) r.choices.push_back({f.symptom, "start:" + f.id, Choice::Style::kDefault});
  return r;
}

Reply Turn::SectionChoiceReply(const std::string& lead) const {
  Reply r;
  r.title = "Which problem is it?";
  if (!lead.empty()) r.paragraphs.push_back(lead);
  for (const auto& f : flows().flows) {
    r.checklist.push_back(f.symptom + ": " + f.description);
    r.choices.push_back({f.symptom, "start:" + f.id, Choice::Style::kDefault});
  }
  r.footer = "Or type webmail, receiving or sending.";
  r.step_token = Token(s().version);
  return r;
}

Reply Turn::QuestionReply(const Step& step, bool with_notes, const std::vector<std::string>& lead) const {
  const Flow* flow = CurrentFlow(s());
  const Panel* panel = CurrentPanel(s());
  const PanelInfo* info = flows().guide.FindPanel(s().panel);
  Reply r;
  r.title = flow->title;
  r.progress = "Step " + std::to_string(panel->IndexOf(step.id) + 1) + " of " +
               std::to_string(panel->steps.size()) + " · " + (info ? info->name + " (" + info->short_name + ")" : s().panel);
  r.paragraphs = lead;
  if (with_notes) {
    for (const auto& note : flows().guide.notes) r.paragraphs.push_back(note.text);
  }
  r.paragraphs.push_back("Check: " + step.check);
  r.paragraphs.push_back(step.question);
  r.choices = {{"Yes", "yes", Choice::Style::kDefault}, {"No", "no", Choice::Style::kDefault},
               {"Skip", "skip", Choice::Style::kDefault}};
  if (!s().history.empty()) r.choices.push_back({"Back", "back", Choice::Style::kDefault});
  r.footer = step.input == "bounce" ? std::string("You can paste the bounce message here. ") + kAnswerHint
                                    : kAnswerHint;
  r.step_token = Token(s().version);
  return r;
}

// The question the conversation is waiting on, as it stands.
Reply Turn::CurrentQuestion() const {
  switch (s().phase) {
    case Phase::kChoosingSection:
      return SectionChoiceReply("");
    case Phase::kChoosingPanel: {
      Reply r;
      r.title = "Which panel are you using?";
      for (const auto& p : flows().guide.panels) r.choices.push_back({p.name + " (" + p.short_name + ")", "panel:" + p.id});
      r.footer = "Or type rcp or mac. I'll remember it for next time.";
      r.step_token = Token(s().version);
      return r;
    }
    case Phase::kAskingTarget: {
      Reply r;
      r.title = "Which mailbox or domain is it?";
      r.paragraphs = {"I can check the domain's DNS (MX, SPF, DMARC, DKIM) and the mailbox's settings myself before "
                      "asking you. Give the mailbox address or the domain, or skip to answer every check by hand."};
      r.choices = {{"Skip", "skip", Choice::Style::kDefault}};
      r.step_token = Token(s().version);
      return r;
    }
    case Phase::kAsking: {
      const Step* step = CurrentPanel(s())->FindStep(s().step);
      return QuestionReply(*step, false, {});
    }
    case Phase::kAfterFail: {
      const Step* step = CurrentPanel(s())->FindStep(s().step);
      Reply r;
      r.title = "Likely cause";
      r.paragraphs = {step->on_fail.cause, "What to do: " + step->on_fail.fix, "Did that fix it?"};
      r.choices = {{"That fixed it", "fixed", Choice::Style::kPrimary},
                   {"Keep checking", "continue", Choice::Style::kDefault},
                   {"Back", "back", Choice::Style::kDefault}};
      if (step->input == "bounce") r.footer = "You can paste the bounce message here.";
      r.step_token = Token(s().version);
      return r;
    }
    case Phase::kEscalating: {
      Reply r;
      r.title = "Escalation details";
      for (const auto& f : flows().guide.escalation_fields) {
        if (f.id == s().step) r.paragraphs.push_back(f.question);
      }
      r.choices = {{"Skip", "skip", Choice::Style::kDefault},
                   {"It's solved now", "fixed", Choice::Style::kPrimary},
                   {"Back", "back", Choice::Style::kDefault}};
      r.footer = "Type the answer, or skip.";
      r.step_token = Token(s().version);
      return r;
    }
    case Phase::kDone:
      break;
  }
  return HelpReply();
}

void Turn::Reprompt(const std::string& why) {
  Reply r = CurrentQuestion();
  r.paragraphs.insert(r.paragraphs.begin(), why);
  Add(std::move(r));
  Stateless(TurnStatus::kWaiting);
}

void Turn::StartCase(const std::string& section, const std::string& panel_hint) {
  const Flow* flow = flows().Find(section);
  Session fresh;
  fresh.key = s().key;
  fresh.version = s().version;
  fresh.created_at = NewCaseTime();
  fresh.owner = message_.ref.user;
  fresh.flow = flow->id;
  fresh.flow_version = flow->version;
  // Keep details the person already gave (an address in the first message).
  for (const auto& a : s().history) {
    if (a.step.rfind("detail:", 0) == 0 && s().phase == Phase::kChoosingSection) fresh.history.push_back(a);
  }
  out_.session = std::move(fresh);
  out_.started_case = true;
  std::string panel = panel_hint.empty() ? panel_pref_ : panel_hint;
  if (!panel_hint.empty()) out_.remember_panel = panel_hint;
  if (!panel.empty() && flow->FindPanel(panel)) {
    s().panel = panel;
    BeginChecks(true);
  } else {
    s().phase = Phase::kChoosingPanel;
    Reply r = CurrentQuestion();
    r.title = flow->title + ": which panel are you using?";
    r.paragraphs.insert(r.paragraphs.begin(), flow->description);
    Add(std::move(r));
  }
}

void Turn::BeginChecks(bool with_notes) {
  const Panel* panel = CurrentPanel(s());
  if (options_.prober) {
    std::string domain = s().Detail("domain");
    bool asked = std::any_of(s().history.begin(), s().history.end(),
                             [](const Answer& a) { return a.step == "detail:domain"; });
    if (!asked) {
      s().phase = Phase::kAskingTarget;
      s().step.clear();
      Add(CurrentQuestion());
      out_.status = TurnStatus::kWaiting;
      return;
    }
    if (domain != "skip" && !domain.empty()) {
      out_.probe_target.domain = domain;
      std::string mailbox = s().Detail("mailbox");
      if (mailbox != "skip") out_.probe_target.mailbox = mailbox;
    }
  }
  Ask(panel->steps.front().id, with_notes);
}

void Turn::HandleTarget(Word word, const std::string& text) {
  static const std::regex kDomain(R"(([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63})");
  std::string email = EmailIn(text);
  std::smatch m;
  std::string head = text.substr(0, 300);
  if (!email.empty()) {
    s().history.push_back({"detail:mailbox", email});
    s().history.push_back({"detail:domain", email.substr(email.find('@') + 1)});
  } else if (word == Word::kSkip || word == Word::kNo) {
    s().history.push_back({"detail:domain", "skip"});
  } else if (std::regex_search(head, m, kDomain)) {
    s().history.push_back({"detail:domain", Lower(m.str(0))});
  } else {
    Reprompt("That doesn't look like an address or a domain.");
    return;
  }
  BeginChecks(true);
}

// "pass" or "fail" when a probe decided the step (and no later hand answer replaced it), else "".
std::string Turn::AutoResult(const std::string& step_id) const {
  for (auto it = s().history.rbegin(); it != s().history.rend(); ++it) {
    if (it->step != step_id) continue;
    if (it->value.rfind("auto:pass", 0) == 0) return "pass";
    if (it->value.rfind("auto:fail", 0) == 0) return "fail";
    return "";
  }
  return "";
}

void Turn::Ask(const std::string& step_id, bool with_notes, std::vector<std::string> lead) {
  s().phase = Phase::kAsking;
  s().step = step_id;
  Add(QuestionReply(*CurrentPanel(s())->FindStep(step_id), with_notes, lead));
  out_.status = TurnStatus::kWaiting;
}

void Turn::Advance(const std::string& target, std::vector<std::string> lead) {
  if (target == kResolved) {
    Resolve(s().step);
    return;
  }
  if (target == kEscalate) {
    s().phase = Phase::kEscalating;
    s().step.clear();
    lead.push_back(flows().guide.escalation_intro);
    AskDetail(std::move(lead));
    return;
  }
  // Steps the probes decided are not asked: passes are passed over, a failure is shown.
  std::string step_id = target;
  while (step_id != kEscalate && step_id != kResolved && AutoResult(step_id) == "pass") {
    step_id = CurrentPanel(s())->FindStep(step_id)->next;
  }
  if (step_id != target) {
    Advance(step_id, std::move(lead));
    return;
  }
  if (AutoResult(step_id) == "fail") {
    s().phase = Phase::kAfterFail;
    s().step = step_id;
    Reply r = CurrentQuestion();
    r.paragraphs.insert(r.paragraphs.begin(), lead.begin(), lead.end());
    Add(std::move(r));
    out_.status = TurnStatus::kWaiting;
    return;
  }
  Ask(target, false, std::move(lead));
}

// Asks the first escalation detail not given yet, or finishes with the summary.
void Turn::AskDetail(std::vector<std::string> lead) {
  for (const auto& f : flows().guide.escalation_fields) {
    bool given = std::any_of(s().history.begin(), s().history.end(),
                             [&](const Answer& a) { return a.step == "detail:" + f.id; });
    if (given) continue;
    s().phase = Phase::kEscalating;
    s().step = f.id;
    Reply r = CurrentQuestion();
    r.paragraphs.insert(r.paragraphs.begin(), lead.begin(), lead.end());
    Add(std::move(r));
    out_.status = TurnStatus::kWaiting;
    return;
  }
  FinishEscalation();
}

void Turn::FinishEscalation() {
  s().phase = Phase::kDone;
  s().step.clear();
  s().outcome = "escalated";
  Reply r;
  r.title = "Escalation summary";
  r.paragraphs.push_back("Paste this into your request to " + flows().guide.escalation_contact + ".");
  r.preformatted = Summary(true);
  r.footer = "Start a new case with /mailguide.";
  Add(std::move(r));
  out_.status = TurnStatus::kCompleted;
}

void Turn::Resolve(const std::string& at_step) {
  s().outcome = "resolved";
  s().outcome_step = at_step;
  s().phase = Phase::kDone;
  Reply r;
  r.title = "Resolved";
  r.paragraphs.push_back("Glad that sorted it. Here is a note of the case for your ticket.");
  r.preformatted = Summary(false);
  r.footer = "Start a new case with /mailguide.";
  Add(std::move(r));
  out_.status = TurnStatus::kCompleted;
}

std::string Turn::Summary(bool escalated) const {
  const Flow* flow = CurrentFlow(s());
  const Panel* panel = CurrentPanel(s());
  const PanelInfo* info = flows().guide.FindPanel(s().panel);
  std::string out = (escalated ? "Hosted Email escalation: " : "Hosted Email case note: ") + flow->title + "\n";
  out += "Panel: " + (info ? info->name + " (" + info->short_name + ")" : s().panel) + " · guide section '" +
         flow->id + "' version " + flow->version + "\n";
  for (const auto& f : flows().guide.escalation_fields) {
    std::string v = s().Detail(f.id);
    if (!escalated && v.empty()) continue;
    out += f.label + ": " + (v.empty() || v == "skip" ? "(not given)" : v) + "\n";
  }
  out += "Checks:\n";
  for (size_t i = 0; i < panel->steps.size(); ++i) {
    const Step& step = panel->steps[i];
    std::string result = "not reached";
    std::string extra;
    for (const auto& a : s().history) {
      if (a.step != step.id) continue;
      if (a.value == "skip") {
        result = "skipped";
      } else if (a.value == "yes" || a.value == "no") {
        result = a.value == step.fail_on ? "FAILED (answered " + a.value + ")" : "passed (answered " + a.value + ")";
      } else if (a.value.rfind("bounce:", 0) == 0) {
        result = "bounce reviewed";
        extra = a.value.substr(7);
      } else if (a.value.rfind("auto:", 0) == 0) {
        bool pass = a.value.rfind("auto:pass:", 0) == 0;
        result = std::string(pass ? "passed" : "FAILED") + " (automatic: " + a.value.substr(10) + ")";
      } else if (a.value == "fix-tried") {
        extra = "fix tried, problem persisted";
      }
    }
    if (s().outcome == "resolved" && s().outcome_step == step.id) extra = "fixed here";
    out += "  " + std::to_string(i + 1) + ". " + step.check + " — " + result + (extra.empty() ? "" : "; " + extra) + "\n";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

void Turn::ExplainBounce(const std::string& text, const Step& step) {
  smtp::Explanation e = content_.smtp.ExplainText(text);
  std::string code = Trim(e.basic + " " + e.enhanced);
  s().history.push_back({step.id, "bounce:" + Clip(code.empty() ? e.summary : code + " — " + e.summary, 200)});
  bool have = std::any_of(s().history.begin(), s().history.end(),
                          [](const Answer& a) { return a.step == "detail:bounces"; });
  if (!have) s().history.push_back({"detail:bounces", Clip(text, 600)});
  Reply r = smtp::ToReply(e);
  r.choices.clear();  // the flow goes on here; no offer to start another one
  Add(std::move(r));
  s().phase = Phase::kAfterFail;
  s().step = step.id;
  Reply q;
  q.title = "Did that explain it?";
  q.paragraphs = {"If the explanation points to the fix, try it. Otherwise keep checking and I'll collect the details for an escalation."};
  q.choices = {{"That fixed it", "fixed", Choice::Style::kPrimary},
               {"Keep checking", "continue", Choice::Style::kDefault},
               {"Back", "back", Choice::Style::kDefault}};
  q.step_token = Token(s().version);
  Add(std::move(q));
  out_.status = TurnStatus::kWaiting;
}

void Turn::HandleAnswer(Word word, const std::string& text) {
  const Step& step = *CurrentPanel(s())->FindStep(s().step);
  if (word == Word::kNone && step.input == "bounce" && smtp::ContainsCode(text)) {
    ExplainBounce(text, step);
    return;
  }
  switch (word) {
    case Word::kYes:
    case Word::kNo: {
      std::string answer = word == Word::kYes ? "yes" : "no";
      s().history.push_back({step.id, answer});
      if (answer == step.fail_on) {
        s().phase = Phase::kAfterFail;
        Add(CurrentQuestion());
        out_.status = TurnStatus::kWaiting;
      } else {
        std::vector<std::string> lead;
        if (!step.pass_note.empty()) lead.push_back(step.pass_note);
        Advance(step.next, std::move(lead));
      }
      return;
    }
    case Word::kSkip:
      s().history.push_back({step.id, "skip"});
      Advance(step.next, {});
      return;
    case Word::kFixed:
      Resolve(step.id);
      return;
    default:
      Reprompt(std::string("I didn't catch that. ") + kAnswerHint);
  }
}

void Turn::HandleAfterFail(Word word, const std::string& text) {
  const Step& step = *CurrentPanel(s())->FindStep(s().step);
  if (word == Word::kNone && step.input == "bounce" && smtp::ContainsCode(text)) {
    ExplainBounce(text, step);
    return;
  }
  if (word == Word::kFixed || word == Word::kYes) {
    Resolve(step.id);
  } else if (word == Word::kContinue || word == Word::kNo || word == Word::kSkip) {
    s().history.push_back({step.id, "fix-tried"});
    Advance(step.on_fail.next, {});
  } else {
    Reprompt("Did the fix work? Answer yes (that fixed it) or no (keep checking) — or back.");
  }
}

void Turn::HandleEscalating(Word word, const std::string& text) {
  const std::string field = s().step;
  if (word == Word::kFixed) {
    Resolve(kEscalate);
    return;
  }
  if (word == Word::kSkip || (field == "bounces" && word == Word::kNo)) {
    s().history.push_back({"detail:" + field, "skip"});
    AskDetail({});
    return;
  }
  if (word != Word::kNone || Trim(text).empty()) {
    Reprompt("Type the detail, or skip.");
    return;
  }
  std::string value = Clip(text, field == "bounces" ? 600 : 200);
  if (field == "bounces" && smtp::ContainsCode(text)) {
    smtp::Explanation e = content_.smtp.ExplainText(text);
    std::string code = Trim(e.basic + " " + e.enhanced);
    if (!code.empty()) value = code + " (" + e.summary + "): " + value;
  }
  s().history.push_back({"detail:" + field, value});
  if (field == "mailbox") {
    std::string email = EmailIn(text);
    bool have_domain = std::any_of(s().history.begin(), s().history.end(),
                                   [](const Answer& a) { return a.step == "detail:domain"; });
    if (!email.empty() && !have_domain) s().history.push_back({"detail:domain", email.substr(email.find('@') + 1)});
  }
  AskDetail({});
}

// Undoes the last answer. Details given before the checks started are not answers.
void Turn::Back() {
  auto& h = s().history;
  size_t first_answer = 0;
  while (first_answer < h.size() && h[first_answer].step.rfind("detail:", 0) == 0) ++first_answer;
  if (h.size() <= first_answer) {
    Reprompt("There is nothing to undo yet.");
    return;
  }
  // A pasted bounce adds two entries (the explanation and the detail): undo both.
  Answer last = h.back();
  h.pop_back();
  if (last.step == "detail:bounces" && !h.empty() && h.back().value.rfind("bounce:", 0) == 0) {
    last = h.back();
    h.pop_back();
  }
  if (last.step.rfind("detail:", 0) == 0) {
    s().phase = Phase::kEscalating;
    s().step = last.step.substr(7);
  } else if (last.value == "fix-tried") {
    s().phase = Phase::kAfterFail;
    s().step = last.step;
  } else {
    s().phase = Phase::kAsking;
    s().step = last.step;
  }
  Reply r = CurrentQuestion();
  r.paragraphs.insert(r.paragraphs.begin(), "Undone. Back to:");
  Add(std::move(r));
  out_.status = TurnStatus::kWaiting;
}

StepOutput Turn::Run(const Session& in, bool existing, bool expired, const std::string& panel_pref) {
  out_.session = in;
  panel_pref_ = panel_pref;
  const std::string text = Trim(message_.text);
  const Word word = message_.choice.empty() ? ParseWord(text) : WordFromChoice(message_.choice);
  out_.input = !message_.choice.empty() ? "choice:" + message_.choice
               : word != Word::kNone   ? Normalise(text)
                                       : "text:" + Clip(text, 80);

  // A code lookup answers at once and leaves any conversation where it was.
  if (message_.command == "smtp-code") {
    Stateless(TurnStatus::kCompleted);
    if (text.empty()) {
      Reply r;
      r.title = "Explain an SMTP code";
      r.paragraphs = {"Give a code, like /smtp-code 550 5.7.26, or paste a whole bounce message after /smtp-code."};
      Add(std::move(r));
    } else {
      Add(smtp::ToReply(content_.smtp.ExplainText(text)));
    }
    return std::move(out_);
  }

  const bool active = existing && in.phase != Phase::kDone && !expired;
  const bool is_click = !message_.choice.empty();

  // Someone else's case in a shared channel.
  if (active && !options_.anyone_can_answer && !in.owner.empty() && in.owner != message_.ref.user &&
      (is_click || IsAnswerWord(word))) {
    Reply r;
    r.title = "This case belongs to someone else";
    r.paragraphs = {"Only the person who started this check can answer it. Start your own with /mailguide, or in a new thread."};
    r.ephemeral = true;
    Add(std::move(r));
    Stateless(TurnStatus::kWaiting);
    return std::move(out_);
  }

  // A click on a button of an earlier message.
  if (is_click && !message_.step_token.empty() && message_.step_token != Token(in.version) &&
      message_.choice.rfind("start:", 0) != 0) {
    if (active) {
      Reply r = CurrentQuestion();
      r.paragraphs.insert(r.paragraphs.begin(), "That button belongs to an earlier question, so I ignored it. We are here:");
      r.ephemeral = true;
      Add(std::move(r));
    } else {
      Reply r;
      r.title = "That check has ended";
      r.paragraphs = {"That button belongs to a conversation that is over. Start a new one with /mailguide."};
      r.ephemeral = true;
      Add(std::move(r));
    }
    Stateless(TurnStatus::kIgnored);
    return std::move(out_);
  }

  // Explicit starts: a section button, or /mailguide with an argument.
  std::string start_section;
  if (message_.choice.rfind("start:", 0) == 0) start_section = message_.choice.substr(6);
  if (message_.command == "mailguide") start_section = SectionNamed(flows(), text);
  if (!start_section.empty() && flows().Find(start_section)) {
    if (active && in.outcome == "open" && in.phase != Phase::kChoosingSection) out_.session.outcome = "abandoned";
    if (active && in.phase == Phase::kChoosingSection) {
      StartCase(start_section, PanelNamed(text));
    } else {
      out_.session.history.clear();
      StartCase(start_section, PanelNamed(text));
    }
    return std::move(out_);
  }

  if (expired && (is_click || IsAnswerWord(word))) {
    Reply r = SectionChoiceReply("");
    r.title = "This conversation expired";
    r.paragraphs = {"It was idle for more than " + std::to_string(options_.session_ttl_seconds / 3600) +
                    " hours, so I closed it. Pick the problem to start again."};
    out_.session.outcome = in.outcome == "open" ? "abandoned" : in.outcome;
    out_.session.phase = Phase::kDone;
    Add(std::move(r));
    out_.status = TurnStatus::kCompleted;
    return std::move(out_);
  }

  if (active) {
    if (text.empty() && !is_click) {  // a nudge (e.g. resuming in a new process): ask again
      Add(CurrentQuestion());
      Stateless(TurnStatus::kWaiting);
      return std::move(out_);
    }
    if (word == Word::kHelp) {
      Add(HelpReply());
      Add(CurrentQuestion());
      Stateless(TurnStatus::kWaiting);
      return std::move(out_);
    }
    if (word == Word::kCancel) {
      out_.session.phase = Phase::kDone;
      if (out_.session.outcome == "open") out_.session.outcome = "abandoned";
      Reply r;
      r.title = "Cancelled";
      r.paragraphs = {"I closed this check. Start again any time with /mailguide."};
      Add(std::move(r));
      out_.status = TurnStatus::kCompleted;
      return std::move(out_);
    }
    if (word == Word::kRestart) {
      std::string flow = in.flow;
      std::string panel = in.panel;
      if (flow.empty()) {
        out_.session.phase = Phase::kChoosingSection;
        Add(SectionChoiceReply("Starting over."));
        return std::move(out_);
      }
      out_.session.history.clear();
      out_.session.outcome = "abandoned";
      StartCase(flow, panel);
      return std::move(out_);
    }
    if (word == Word::kBack && in.phase != Phase::kChoosingSection && in.phase != Phase::kChoosingPanel) {
      Back();
      return std::move(out_);
    }
    // A code typed mid-check is explained without losing the place (unless the step wants a bounce).
    bool wants_bounce = (in.phase == Phase::kAsking || in.phase == Phase::kAfterFail) &&
                        CurrentPanel(in) && CurrentPanel(in)->FindStep(in.step) &&
                        CurrentPanel(in)->FindStep(in.step)->input == "bounce";
    if (!is_click && word == Word::kNone && !wants_bounce && in.phase != Phase::kEscalating &&
        smtp::StartsWithCode(text)) {
      Add(smtp::ToReply(content_.smtp.ExplainText(text)));
      Reply q = CurrentQuestion();
      q.paragraphs.insert(q.paragraphs.begin(), "Back to the check:");
      Add(std::move(q));
      Stateless(TurnStatus::kWaiting);
      return std::move(out_);
    }
    switch (in.phase) {
      case Phase::kChoosingSection: {
        std::string section = SectionNamed(flows(), text);
        if (section.empty() && !text.empty() && word == Word::kNone) {
          TriageResult t = content_.triage.Classify(text);
          if (t.section != "unclear") section = t.section;
        }
        if (section.empty()) {
          Reprompt("Pick one of these, or describe the problem in other words.");
        } else {
          StartCase(section, PanelNamed(text));
        }
        return std::move(out_);
      }
      case Phase::kChoosingPanel: {
        std::string panel = message_.choice.rfind("panel:", 0) == 0 ? message_.choice.substr(6) : PanelNamed(text);
        if (panel.empty() || !CurrentFlow(in)->FindPanel(panel)) {
          Reprompt("Please pick RCP or MAC.");
          return std::move(out_);
        }
        out_.session.panel = panel;
        out_.remember_panel = panel;
        BeginChecks(true);
        return std::move(out_);
      }
      case Phase::kAskingTarget:
        HandleTarget(word, text);
        return std::move(out_);
      case Phase::kAsking:
        HandleAnswer(word, text);
        return std::move(out_);
      case Phase::kAfterFail:
        HandleAfterFail(word, text);
        return std::move(out_);
      case Phase::kEscalating:
        HandleEscalating(word, text);
        return std::move(out_);
      case Phase::kDone:
        break;
    }
  }

  // No open conversation: a code, help, or a new case from free text.
  if (!is_click && smtp::StartsWithCode(text)) {
    Add(smtp::ToReply(content_.smtp.ExplainText(text)));
    Stateless(TurnStatus::kCompleted);
    return std::move(out_);
  }
  if (word == Word::kHelp || (text.empty() && !is_click) || (message_.command == "mailguide" && text.empty())) {
    Add(HelpReply());
    Stateless(TurnStatus::kCompleted);
    return std::move(out_);
  }
  if (is_click || word != Word::kNone) {
    Reply r = HelpReply();
    r.paragraphs.insert(r.paragraphs.begin(), "There is no open check here to answer. Start one:");
    Add(std::move(r));
    Stateless(TurnStatus::kCompleted);
    return std::move(out_);
  }

  // A fresh case from the person's own words.
  Session fresh;
  fresh.key = in.key;
  fresh.version = in.version;
  fresh.created_at = NewCaseTime();
  fresh.owner = message_.ref.user;
  out_.session = std::move(fresh);
  std::string email = EmailIn(text);
  if (!email.empty()) {
    out_.session.history.push_back({"detail:mailbox", email});
    out_.session.history.push_back({"detail:domain", email.substr(email.find('@') + 1)});
  }
  TriageResult t = content_.triage.Classify(text);
  if (t.section == "unclear" || !flows().Find(t.section)) {
    out_.session.phase = Phase::kChoosingSection;
    Add(SectionChoiceReply("I'm not sure which of the guide's problems this is."));
    out_.status = TurnStatus::kWaiting;
    return std::move(out_);
  }
  StartCase(t.section, PanelNamed(text));
  return std::move(out_);
}

StepOutput Turn::WithProbes(StepOutput out, const std::vector<ProbeResult>& results) {
  out_ = std::move(out);
  out_.replies.clear();
  const Panel* panel = CurrentPanel(s());
  Reply report;
  report.title = "Automatic checks for " + out_.probe_target.domain;
  report.paragraphs = {"I checked what I could before asking. A check I could not decide stays a question for you."};
  for (const auto& r : results) {
    std::string label = r.id;
    for (const auto& step : panel->steps) {
      if (step.probe != r.id) continue;
      label = step.question;
      if (r.outcome != ProbeResult::Outcome::kUnknown) {
        s().history.push_back({step.id, std::string("auto:") + OutcomeName(r.outcome) + ":" + Clip(r.detail, 160)});
      }
    }
    report.facts.push_back({r.id, std::string(OutcomeName(r.outcome)) + " — " + r.detail});
  }
  Add(std::move(report));
  // Lead with the first failed check, in the guide's order.
  for (const auto& step : panel->steps) {
    if (AutoResult(step.id) == "fail") {
      std::vector<std::string> lead;
      for (const auto& note : flows().guide.notes) lead.push_back(note.text);
      s().phase = Phase::kAfterFail;
      s().step = step.id;
      Reply r = CurrentQuestion();
      r.title = "Likely cause, found automatically";
      r.paragraphs.insert(r.paragraphs.begin(), lead.begin(), lead.end());
      Add(std::move(r));
      out_.status = TurnStatus::kWaiting;
      return std::move(out_);
    }
  }
  const Step& first = panel->steps.front();
  if (AutoResult(first.id) == "pass") {
    Advance(first.next, {});
  } else {
    Ask(first.id, true);
  }
  return std::move(out_);
}

// Shown while the probes run, where the platform can show something before the answer.
Reply CheckingReply(const ProbeTarget& target) {
  Reply r;
  r.title = "Checking " + (target.mailbox.empty() ? target.domain : target.mailbox) + "…";
  r.paragraphs = {"Looking at its DNS records and at the mailbox on the mail service. The results take this "
                  "message's place in a few seconds."};
  return r;
}

// A one-off report of every probe, for "/mailguide check DOMAIN".
Reply ProbeReport(const ProbeTarget& target, const std::vector<ProbeResult>& results) {
  Reply r;
  r.title = "Checks for " + (target.mailbox.empty() ? target.domain : target.mailbox);
  size_t failed = 0;
  for (const auto& p : results) {
    failed += p.outcome == ProbeResult::Outcome::kFail;
    r.facts.push_back({p.id, std::string(OutcomeName(p.outcome)) + " — " + p.detail});
  }
  r.paragraphs.push_back(failed ? std::to_string(failed) + " check(s) failed: start with those."
                                : "Nothing failed. 'unknown' means I could not decide: check that by hand.");
  return r;
}

}  // namespace

StepOutput ApplyTurn(const Content& content, const EngineOptions& options, const Session& session, bool existing,
                bool expired, const std::string& panel_preference, const Message& message) {
  Session in = session;
  if (!existing) in.version = 0;
  Turn turn(content, options, message);
  StepOutput out = turn.Run(in, existing, expired, panel_preference);
  if (out.persist) {
    out.session.version = in.version + 1;
    // Every reply of this turn names the question as it will be stored.
    for (auto& r : out.replies) {
      if (!r.step_token.empty()) r.step_token = Token(out.session.version);
    }
    out.session.turn = in.turn + 1;
  }
  return out;
}

void ApplyProbeResults(const Content& content, const EngineOptions& options, const Message& message,
                       const std::vector<ProbeResult>& results, StepOutput& out) {
  Turn turn(content, options, message);
  out = turn.WithProbes(std::move(out), results);
}

Engine::Engine(const Content& content, SessionStore& store, EngineOptions options)
    : content_(content), store_(store), options_(std::move(options)) {}

// "/mailguide check DOMAIN|MAILBOX": every probe, one report, no conversation.
Reply Engine::CheckCommand(const std::string& arg, const Progress& progress) {
  Reply r;
  if (!options_.prober) {
    r.title = "Automatic checks are off";
    r.paragraphs = {"The operator has not configured automatic checks for this bot."};
  } else if (arg.empty() || arg.find('.') == std::string::npos || arg.find(' ') != std::string::npos) {
    r.title = "Check what?";
    r.paragraphs = {"Give a domain or a mailbox: /mailguide check example.com or /mailguide check alice@example.com"};
  } else {
    ProbeTarget target;
    std::string email = EmailIn(arg);
    target.mailbox = email;
    target.domain = email.empty() ? Lower(arg) : email.substr(email.find('@') + 1);
    if (progress) progress(CheckingReply(target));
    r = ProbeReport(target, options_.prober->Run(target, options_.probe_deadline));
  }
  return r;
}

// "/mailguide token MAILBOX REASON": an email token from the provider, for the asker's eyes only.
Reply Engine::TokenCommand(const Message& message, const std::string& arg) {
  Reply r;
  r.ephemeral = true;
  const std::string usage = "/mailguide token alice@example.com why you need it (the provider records the reason)";
  const size_t space = arg.find(' ');
  const std::string mailbox = EmailIn(arg.substr(0, space));
  const std::string reason = space == std::string::npos ? "" : Trim(arg.substr(space + 1));
  if (!options_.prober) {
    r.title = "Automatic checks are off";
    r.paragraphs = {"The operator has not connected this bot to the mail service, so it cannot make email tokens."};
  } else if (!message.private_conversation) {
    r.title = "Ask for tokens privately";
    r.paragraphs = {"An email token signs in to the mailbox like a password, so I only give one where nobody else "
                    "reads along: in a direct message with me, or with the slash command in Slack (only you see "
                    "its answer)."};
  } else if (mailbox.empty() || mailbox.size() != arg.substr(0, space).size() || reason.empty()) {
    r.title = "A token for which mailbox, and why?";
    r.paragraphs = {"Give the mailbox and the reason: " + usage};
  } else {
    auto token = options_.prober->GenerateToken(mailbox, reason);
    if (!token.ok()) {
      r.title = "No token for " + mailbox;
      r.paragraphs = {token.status().message()};
    } else {
      r.title = "Email token for " + mailbox;
      std::string terms = "Single use";
      if (token->duration_hours > 0) terms += ", valid for " + std::to_string(token->duration_hours) + " h";
      r.paragraphs = {terms + ". Sign in to webmail as " + mailbox +
                      " with it on a separate device to see whether the problem follows the mailbox or stays "
                      "with the user's device. Treat it like a password."};
      r.preformatted = token->token;
      if (!token->audit.empty()) r.facts = {{"Audit id", token->audit}};
      r.confidential = true;
    }
  }
  return r;
}

bool NeedsConversationOrder(const Message& message) { return message.command != "smtp-code"; }

Result<TurnResult> Engine::Handle(const Message& message, const Progress& progress) {
  // A platform event is handled once. A turn that commits claims its event in the same store
  // write as the commit (one write per turn, not two); any other turn claims it before it
  // has an effect: a reply, a rate-limit hit, a live check or its "Checking..." note.
  bool unclaimed = !message.event_id.empty();
  auto claim = [&]() -> Status {  // AlreadyExists: a repeated delivery
    if (!unclaimed) return Status::Ok();
    unclaimed = false;
    auto first = store_.ClaimEvent(message.event_id, options_.event_ttl_seconds);
    if (!first.ok()) return first.status();
    return *first ? Status::Ok() : Status::AlreadyExists("event " + message.event_id + " was handled before");
  };
  auto repeat_or_error = [](const Status& s) -> Result<TurnResult> {
    if (s.code() == Status::Code::kAlreadyExists) return TurnResult{{}, TurnStatus::kIgnored};
    return s;
  };
  if (!NeedsConversationOrder(message)) {
    if (Status s = claim(); !s.ok()) return repeat_or_error(s);
    // A code lookup answers from the knowledge base alone: no conversation is read or written.
    auto limited = RateLimiter(store_, options_.rate_limits).Admit(message.ref, RateKind::kLookup);
    if (!limited.ok()) return limited.status();
    if (*limited) return TurnResult{{std::move(**limited)}, TurnStatus::kCompleted};
    constexpr size_t kMaxCachedText = 256, kMaxCached = 1024;
    const bool short_text = message.text.size() <= kMaxCachedText;
    TurnResult result{{}, TurnStatus::kCompleted};
    result.cacheable = true;
    if (short_text) {
      std::lock_guard lock(lookups_mu_);
      if (auto it = lookups_.find(message.text); it != lookups_.end()) {
        result.replies = it->second;
        return result;
      }
    }
    StepOutput out = ApplyTurn(content_, options_, Session{}, false, false, "", message);
    result.replies = std::move(out.replies);
    result.status = out.status;
    if (short_text) {
      std::lock_guard lock(lookups_mu_);
      if (lookups_.size() >= kMaxCached) lookups_.clear();
      lookups_[message.text] = result.replies;
    }
    return result;
  }
  const std::string command_text = Trim(message.text);
  for (const char* word : {"check", "token"}) {
    const std::string w = word;
    if (message.command != "mailguide" || (command_text != w && command_text.rfind(w + " ", 0) != 0)) continue;
    if (Status s = claim(); !s.ok()) return repeat_or_error(s);
    auto limited = RateLimiter(store_, options_.rate_limits).Admit(message.ref, RateKind::kLookup);
    if (!limited.ok()) return limited.status();
    if (*limited) return TurnResult{{std::move(**limited)}, TurnStatus::kCompleted};
    const std::string arg = Trim(command_text.substr(w.size()));
    Reply r = w == "check" ? CheckCommand(arg, progress) : TokenCommand(message, arg);
    return TurnResult{{std::move(r)}, TurnStatus::kCompleted};
  }
  const std::string key = message.ref.Key();
  bool admitted = false;        // counted against the rate limits once, whatever the retries
  bool progress_shown = false;  // likewise the interim reply, shown once
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto loaded = store_.Load(key);
    if (!loaded.ok()) return loaded.status();
    const bool existing = loaded->has_value();
    Session session = existing ? **loaded : Session{};
    session.key = key;
    const int64_t now = options_.clock();
    const bool expired = existing && session.phase != Session::Phase::kDone &&
                         now - session.updated_at > options_.session_ttl_seconds;
    std::string panel_pref;
    if (!existing || session.panel.empty() || session.phase == Session::Phase::kDone) {
      auto pref = store_.GetPreference(message.ref.UserKey(), "panel");
      if (!pref.ok()) return pref.status();
      panel_pref = *pref;
    }
    StepOutput out = ApplyTurn(content_, options_, session, existing, expired, panel_pref, message);
    // Rate limits: a turn that starts a case or answers a lookup, over a limit, is answered
    // politely and changes nothing.
    const bool fresh = !existing || expired || session.phase == Session::Phase::kDone;
    const bool starts = out.persist && (out.started_case || (fresh && out.session.phase != Session::Phase::kDone));
    const bool lookup = !out.persist && (message.command == "smtp-code" || smtp::StartsWithCode(command_text));
    // A turn that commits and does nothing before claims with its commit; the others here.
    if (!out.persist) {
      if (Status s = claim(); !s.ok()) return repeat_or_error(s);
    }
    if (!admitted && (starts || lookup)) {
      if (Status s = claim(); !s.ok()) return repeat_or_error(s);
      admitted = true;
      auto limited =
          RateLimiter(store_, options_.rate_limits).Admit(message.ref, starts ? RateKind::kStart : RateKind::kLookup);
      if (!limited.ok()) return limited.status();
      if (*limited) return TurnResult{{std::move(**limited)}, TurnStatus::kCompleted};
    }
    if (out.persist && options_.prober && !out.probe_target.domain.empty()) {
      if (Status s = claim(); !s.ok()) return repeat_or_error(s);
      if (progress && !progress_shown) {
        progress_shown = true;
        progress(CheckingReply(out.probe_target));
      }
      ApplyProbeResults(content_, options_, message, options_.prober->Run(out.probe_target, options_.probe_deadline),
                        out);
      for (auto& r : out.replies) {
        if (!r.step_token.empty()) r.step_token = Token(out.session.version);
      }
    }
    if (out.persist) {
      out.session.updated_at = now;
      TurnRecord turn{now, message.ref.user, session.step, out.input, PhaseName(out.session.phase)};
      const EventClaim with_commit{unclaimed ? message.event_id : "", options_.event_ttl_seconds};
      Status committed = store_.Commit(out.session, existing ? session.version : 0, turn, with_commit);
      if (committed.code() == Status::Code::kConflict) continue;  // someone else's turn landed first
      if (!committed.ok()) return repeat_or_error(committed);
    }
    if (!out.remember_panel.empty()) {
      Status saved = store_.SetPreference(message.ref.UserKey(), "panel", out.remember_panel);
      if (!saved.ok()) return saved;
    }
    TurnResult result{std::move(out.replies), out.status};
    // A case that was open before this turn and is not any more: resolved, escalated or
    // abandoned in place, or abandoned because a new case replaced it.
    if (out.persist && existing && !session.flow.empty() && session.phase != Session::Phase::kDone &&
        session.outcome == "open") {
      if (out.started_case) {
        result.closed = TurnResult::ClosedCase{session.flow, "abandoned", ""};
      } else if (out.session.outcome != "open") {
        result.closed = TurnResult::ClosedCase{session.flow, out.session.outcome, out.session.outcome_step};
      }
    }
    return result;
  }
  return Status::Unavailable("the conversation " + key +
                             " kept changing under concurrent turns; try the answer again");
}

}  // namespace bot
