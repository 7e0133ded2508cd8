#include "adapters/web/web_outcomes.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "adapters/web/web_access.h"
#include "adapters/web/web_render.h"

namespace bot::web {

namespace {

constexpr int64_t kDay = 86400;

// Howard Hinnant's days_from_civil / civil_from_days: dates without the C library's time zone.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string DateOf(int64_t unix_seconds) {
  int64_t z = (unix_seconds >= 0 ? unix_seconds : unix_seconds - (kDay - 1)) / kDay + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y0 = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = y0 + (m <= 2);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// "YYYY-MM-DD" → the unix time of its midnight (UTC); false when malformed or not a date.
bool ParseDate(const std::string& s, int64_t& out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int64_t y = std::stoll(s.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(s.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(s.substr(8, 2)));
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  out = DaysFromCivil(y, m, d) * kDay;
  return DateOf(out) == s;  // rejects 2026-02-30
}

std::string Count(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// One horizontal bar chart row: the bar in an SVG (decorative; the number is text beside it).
std::string Bar(int64_t value, int64_t max, const char* cls) {
  const int width = max <= 0 ? 0 : static_cast<int>(value * 300 / max);
  return "<svg class=\"bar\" viewBox=\"0 0 300 18\" width=\"300\" height=\"18\" aria-hidden=\"true\" "
         "focusable=\"false\"><rect class=\"track\" x=\"0\" y=\"0\" width=\"300\" height=\"18\" rx=\"3\"/>"
         "<rect class=\"" + std::string(cls) + "\" x=\"0\" y=\"0\" width=\"" + std::to_string(std::max(width, value > 0 ? 3 : 0)) +
         "\" height=\"18\" rx=\"3\"/></svg>";
}

// The four outcomes of a flow as one stacked bar, with a text legend.
std::string StackedBar(const FlowOutcome& f) {
  const int64_t total = f.total();
  std::string svg = "<svg class=\"stack\" viewBox=\"0 0 600 24\" width=\"600\" height=\"24\" aria-hidden=\"true\" "
                    "focusable=\"false\"><rect class=\"track\" x=\"0\" y=\"0\" width=\"600\" height=\"24\" rx=\"4\"/>";
  int64_t x = 0;
  const std::pair<int64_t, const char*> parts[] = {
      {f.resolved, "resolved"}, {f.escalated, "escalated"}, {f.abandoned, "abandoned"}, {f.open, "open"}};
  for (const auto& [n, cls] : parts) {
    if (n == 0 || total == 0) continue;
    const int64_t w = n * 600 / total;
    svg += "<rect class=\"" + std::string(cls) + "\" x=\"" + std::to_string(x) + "\" y=\"0\" width=\"" +
           std::to_string(std::max<int64_t>(w, 3)) + "\" height=\"24\"/>";
    x += w;
  }
  return svg + "</svg>";
}

}  // namespace

Result<Period> ParsePeriod(std::string_view target, int64_t now) {
  Period p;
  const int64_t today = now - ((now % kDay) + kDay) % kDay;
  std::string preset = QueryParam(target, "preset");
  std::string from = QueryParam(target, "from");
  std::string to = QueryParam(target, "to");
  if (preset.empty() && from.empty() && to.empty()) preset = "30d";
  if (!preset.empty()) {
    p.preset = preset;
    p.until = today + kDay - 1;
    if (preset == "today") {
      p.since = today;
    } else if (preset == "7d") {
      p.since = today - 6 * kDay;
    } else if (preset == "30d") {
      p.since = today - 29 * kDay;
    } else if (preset == "all") {
      p.since = 0;
      p.until = INT64_MAX / 2;
      return p;
    } else {
      return Status::InvalidArgument("preset is today, 7d, 30d or all");
    }
    p.from = DateOf(p.since);
    p.to = DateOf(p.until);
    return p;
  }
  p.since = 0;
  p.until = INT64_MAX / 2;
  if (!from.empty()) {
    if (!ParseDate(from, p.since)) return Status::InvalidArgument("'from' is not a date like 2026-11-01");
    p.from = from;
  }
  if (!to.empty()) {
    int64_t day = 0;
    if (!ParseDate(to, day)) return Status::InvalidArgument("'to' is not a date like 2026-11-30");
    p.until = day + kDay - 1;
    p.to = to;
  }
  if (p.since > p.until) return Status::InvalidArgument("'from' is after 'to'");
  return p;
}

std::vector<FlowOutcome> SummarizeOutcomes(const FlowSet& flows, const std::vector<OutcomeRecord>& records) {
  std::vector<FlowOutcome> out;
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (const auto& flow : flows.flows) {
    // Panels in the guide's order (RCP before MAC), not the map's.
    std::vector<std::string> panel_ids;
    for (const auto& info : flows.guide.panels) {
      if (flow.FindPanel(info.id)) panel_ids.push_back(info.id);
    }
    for (const auto& [id, panel] : flow.panels) {
      if (std::find(panel_ids.begin(), panel_ids.end(), id) == panel_ids.end()) panel_ids.push_back(id);
    }
    for (const auto& panel_id : panel_ids) {
      const Panel& panel = *flow.FindPanel(panel_id);
      FlowOutcome f;
      f.flow = flow.id;
      f.panel = panel_id;
      const PanelInfo* info = flows.guide.FindPanel(panel_id);
      f.title = flow.title + " (" + (info ? info->short_name : panel_id) + ")";
      for (size_t i = 0; i < panel.steps.size(); ++i) {
        f.steps.push_back({panel.steps[i].id, static_cast<int>(i + 1), panel.steps[i].question, 0});
      }
      index[{flow.id, panel_id}] = out.size();
      out.push_back(std::move(f));
    }
  }
  FlowOutcome unfinished;
  unfinished.title = "Before a section or panel was chosen";
  for (const auto& r : records) {
    auto it = index.find({r.flow, r.panel});
    FlowOutcome& f = it == index.end() ? unfinished : out[it->second];
    if (r.outcome == "resolved") {
      ++f.resolved;
      auto step = std::find_if(f.steps.begin(), f.steps.end(), [&](const StepOutcome& s) { return s.step == r.step; });
      if (step != f.steps.end()) ++step->resolved;
    } else if (r.outcome == "escalated") {
      ++f.escalated;
    } else if (r.outcome == "abandoned") {
      ++f.abandoned;
    } else {
      ++f.open;
    }
  }
  if (unfinished.total() > 0) out.push_back(std::move(unfinished));
  return out;
}

nlohmann::json OutcomesJson(const Period& period, const std::vector<FlowOutcome>& summary) {
  using nlohmann::json;
  json flows = json::array();
  json totals = {{"cases", 0}, {"resolved", 0}, {"escalated", 0}, {"abandoned", 0}, {"open", 0}};
  for (const auto& f : summary) {
    json steps = json::array();
    for (const auto& s : f.steps) {
      steps.push_back({{"step", s.step}, {"number", s.number}, {"question", s.question}, {"resolved", s.resolved}});
    }
    flows.push_back({{"flow", f.flow},
                     {"panel", f.panel},
                     {"title", f.title},
                     {"cases", f.total()},
                     {"resolved", f.resolved},
                     {"escalated", f.escalated},
                     {"abandoned", f.abandoned},
                     {"open", f.open},
                     {"steps", steps}});
    totals["cases"] = totals["cases"].get<int64_t>() + f.total();
    totals["resolved"] = totals["resolved"].get<int64_t>() + f.resolved;
    totals["escalated"] = totals["escalated"].get<int64_t>() + f.escalated;
    totals["abandoned"] = totals["abandoned"].get<int64_t>() + f.abandoned;
    totals["open"] = totals["open"].get<int64_t>() + f.open;
  }
  return json{{"from", period.from.empty() ? json(nullptr) : json(period.from)},
              {"to", period.to.empty() ? json(nullptr) : json(period.to)},
              {"since", period.since},
              {"until", period.until},
              {"totals", totals},
              {"flows", flows}};
}

std::string RenderOutcomesBody(const Period& period, const std::vector<FlowOutcome>& summary,
                               const std::string& error) {
  std::string out = "<h1>Outcomes</h1><p class=\"lead\">How guided checks ended, per flow and step: which "
                    "checks solve problems, and where cases get escalated or dropped.</p>";
  out += "<form class=\"period\" method=\"get\" action=\"/outcomes\"><label>From <input type=\"date\" name=\"from\" "
         "value=\"" + EscapeHtml(period.from) + "\"></label><label>To <input type=\"date\" name=\"to\" value=\"" +
         EscapeHtml(period.to) + "\"></label><button type=\"submit\">Show</button></form>";
  out += "<nav class=\"presets\" aria-label=\"Periods\"><ul>";
  const std::pair<const char*, const char*> presets[] = {
      {"today", "Today"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"all", "All time"}};
  for (const auto& [id, label] : presets) {
    out += "<li><a href=\"/outcomes?preset=" + std::string(id) + "\"" +
           (period.preset == id ? " aria-current=\"page\"" : "") + ">" + label + "</a></li>";
  }
  out += "</ul></nav>";
  if (!error.empty()) {
    out += "<p class=\"error\" role=\"alert\">" + EscapeHtml(error) + "</p>";
    return out;
  }
  int64_t cases = 0, resolved = 0, escalated = 0, abandoned = 0, open = 0;
  for (const auto& f : summary) {
    cases += f.total();
    resolved += f.resolved;
    escalated += f.escalated;
    abandoned += f.abandoned;
    open += f.open;
  }
  const std::string range = period.from.empty() && period.to.empty()
                                ? std::string("All time")
                                : (period.from.empty() ? std::string("…") : period.from) + " to " +
                                      (period.to.empty() ? std::string("today") : period.to) + " (UTC)";
  std::string json_link = "/outcomes.json?";
  json_link += period.preset.empty() ? "from=" + period.from + "&to=" + period.to : "preset=" + period.preset;
  out += "<p class=\"period-label\"><strong>" + EscapeHtml(range) + "</strong>: " +
         Count(cases, "case", "cases") + ". <a href=\"" + EscapeHtml(json_link) + "\">As JSON</a></p>";
  out += "<ul class=\"tiles\" aria-label=\"Totals\">"
         "<li class=\"resolved\"><span class=\"n\" data-outcome=\"resolved\">" + std::to_string(resolved) + "</span> resolved</li>"
         "<li class=\"escalated\"><span class=\"n\" data-outcome=\"escalated\">" + std::to_string(escalated) + "</span> escalated</li>"
         "<li class=\"abandoned\"><span class=\"n\" data-outcome=\"abandoned\">" + std::to_string(abandoned) + "</span> abandoned</li>"
         "<li class=\"open\"><span class=\"n\" data-outcome=\"open\">" + std::to_string(open) + "</span> still open</li></ul>";
  if (cases == 0) {
    out += "<p class=\"empty\">No cases in this period. Try a longer one, or <a href=\"/\">walk a flow in the chat</a>.</p>";
  }
  for (const auto& f : summary) {
    const std::string id = "o-" + (f.flow.empty() ? std::string("none") : f.flow + "-" + f.panel);
    out += "<section class=\"outcome\" id=\"" + EscapeHtml(id) + "\" aria-labelledby=\"" + EscapeHtml(id) + "-t\"><h2 id=\"" +
           EscapeHtml(id) + "-t\">" + EscapeHtml(f.title) + "</h2>";
    if (f.total() == 0) {
      out += "<p class=\"none\">No cases.</p></section>";
      continue;
    }
    out += "<p class=\"summary\">" + Count(f.total(), "case", "cases") + ": " + std::to_string(f.resolved) +
           " resolved, " + std::to_string(f.escalated) + " escalated, " + std::to_string(f.abandoned) +
           " abandoned, " + std::to_string(f.open) + " still open.</p>" + StackedBar(f);
    int64_t max = std::max({f.escalated, f.abandoned, f.open, int64_t{1}});
    for (const auto& s : f.steps) max = std::max(max, s.resolved);
    out += "<table class=\"chart\"><caption>Where the cases ended</caption><thead><tr><th scope=\"col\">Step"
           "</th><th scope=\"col\">Cases</th></tr></thead><tbody>";
    for (const auto& s : f.steps) {
      out += "<tr><th scope=\"row\">Resolved at step " + std::to_string(s.number) + ": " + EscapeHtml(s.question) +
             "</th><td>" + Bar(s.resolved, max, "resolved") + "<span class=\"n\">" + std::to_string(s.resolved) +
             "</span></td></tr>";
    }
    const std::tuple<const char*, int64_t, const char*> rest[] = {
        {"Escalated", f.escalated, "escalated"}, {"Abandoned", f.abandoned, "abandoned"}, {"Still open", f.open, "open"}};
    for (const auto& [label, n, cls] : rest) {
      out += "<tr class=\"" + std::string(cls) + "\"><th scope=\"row\">" + label + "</th><td>" + Bar(n, max, cls) +
             "<span class=\"n\">" + std::to_string(n) + "</span></td></tr>";
    }
    out += "</tbody></table></section>";
  }
  return out;
}

}  // namespace bot::web
