#include "cli/plan_text.h"

#include <cstdio>
#include <vector>

#include "engine/printable.h"
#include "engine/step_kind.h"
#include "engine/units.h"

namespace runbook {

namespace {

std::string Paint(bool color, const char* code, const std::string& text) {
  if (!color) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

// Indents every line of a multi-line text.
std::string Indent(const std::string& text, const std::string& pad) {
  std::string out = pad;
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

void Header(const PlanHeader& h, bool color, std::string& out) {
  out += Paint(color, "1", "plan of " + h.runbook + " (" + h.path + ")") + "\n";
  if (!h.params.empty()) {
    out += "params:";
    for (const auto& [k, v] : h.params) out += " " + k + "=" + v;
    out += "\n";
  }
  for (const PlannedHost& host : h.hosts) {
    if (host.local) continue;
    out += "host " + host.name + " (ssh " + host.ssh + "): ";
    if (!host.reachable) {
      out += "not checked (--offline)\n";
    } else if (*host.reachable) {
      out += Paint(color, "32", "reachable") + "\n";
    } else {
      out += Paint(color, "31", "UNREACHABLE: " + Printable(host.message)) + "\n";
    }
  }
  if (h.downtime) {
    const PlannedWindow& w = *h.downtime;
    out += "downtime: from the start of " + w.from + " to the end of " + w.to + ", " +
           std::to_string(w.steps.size()) + " steps inside (marked |); expected " +
           (w.expected.seconds ? FormatElapsed(*w.expected.seconds) + " (median of " +
                                     std::to_string(w.expected.runs) + " earlier run" +
                                     (w.expected.runs == 1 ? ")" : "s)")
                               : std::string("unknown (no earlier run measured it)")) +
           "\n";
  }
  if (!h.resume_run.empty()) {
    out += Paint(color, "33",
                 "an unfinished run " + h.resume_run +
                     " exists: `runbook resume` would continue it as shown in [resume]") +
           "\n";
  }
  out += "\n";
}

// One step; a heading first when it starts a level.
void StepText(const PlannedStep& p, const PlanHeader& h, bool color, int* last_level,
              std::vector<std::string>* confirmations, std::string& out) {
  const runbook::Step& s = *p.step;
  if (p.level != *last_level) {
    const int count = s.in_finally ? 0 : h.level_sizes[p.level];
    out +=
        Paint(color, "2",
              s.in_finally
                  ? "finally (always, in order):"
                  : "level " + std::to_string(p.level) +
                        (count > 1 ? " (" + std::to_string(count) + " steps may run in parallel):"
                                   : ":")) +
        "\n";
    *last_level = p.level;
  }
  const std::string would = WouldName(p.decision);
  const char* code = p.decision == StepDecision::kRun       ? "1"
                     : p.decision == StepDecision::kBlocked ? "31"
                                                            : "2";
  std::string head = (p.in_window ? "| " : "  ") + s.id + " [" + s.kind->Name() + "]";
  if (*p.host != "local") head += " on " + *p.host;
  if (p.decision != StepDecision::kRun) head += "  -> would " + would;
  out += Paint(color, code, head) + "\n";
  if (!s.description.empty()) out += "      " + s.description + "\n";
  if (!s.needs.empty()) {
    out += "      needs:";
    for (const NameRef& n : s.needs) out += " " + n.name;
    out += "\n";
  }
  if (p.condition != "always") out += "      if: " + p.condition + "\n";
  if (!p.definition) out += Paint(color, "31", "      error: " + p.error) + "\n";
  if (p.definition) {
    const StepDefinition& d = *p.definition;
    if (const std::string* c = d.FindString("command")) out += Indent("$ " + *c, "      ") + "\n";
    if (const std::string* q = d.FindString("query")) out += Indent(*q, "      sql> ") + "\n";
    if (const std::string* u = d.FindString("user")) out += "      as user " + *u + "\n";
    if (const std::string* c = d.FindString("cwd")) out += "      in " + *c + "\n";
    const auto* env = d.Find("env");
    const auto* vars = env ? std::get_if<StepDefinition::StringMap>(env) : nullptr;
    if (vars && !vars->empty()) {
      out += "      env:";
      for (const auto& [k, v] : *vars) out += " " + k + "=" + v;
      out += "\n";
    }
  }
  // Details and observations come from servers and other sessions (query texts): escaped.
  for (const std::string& line : p.details) out += Indent(Printable(line), "      ") + "\n";
  for (const std::string& line : p.observed) out += Indent(Printable(line), "      ") + "\n";
  if (p.manual) out += "      manual: " + *p.manual + "\n";
  if (p.confirm) {
    out += Paint(color, "33", "      asks to confirm: " + *p.confirm) + "\n";
    confirmations->push_back(s.id + ": " + *p.confirm);
  }
  for (const PlannedGuard& g : p.guards) {
    const std::string phase = GuardPhaseName(g.phase);
    std::string line = "      " + phase + " " + g.guard->kind->Name();
    if (!g.evaluated) {
      line += phase == "verify" ? " (checked after the step)" : " (not evaluated)";
      out += Paint(color, "2", line) + "\n";
      continue;
    }
    line += g.held ? ": holds now" : ": does not hold now";
    const std::string guard_would = GuardWould(g);
    if (!guard_would.empty()) line += " (would " + guard_would + ")";
    line += " - " + Printable(g.summary);
    out += Paint(color, g.held ? "32" : "31", line) + "\n";
    if (!g.held) {
      for (const std::string& e : g.evidence) out += "          " + Printable(e) + "\n";
    }
  }
  if (p.resume) out += Paint(color, "33", "      [resume] " + ResumeText(p)) + "\n";
  if (p.expected_seconds) {
    out += Paint(color, "2", "      expected " + FormatElapsed(*p.expected_seconds)) + "\n";
  }
}

}  // namespace

std::string PlanToText(const Plan& plan, bool color) {
  std::string out;
  Header(plan.header, color, out);
  int last_level = -1;
  std::vector<std::string> confirmations;
  for (const PlannedStep& p : plan.steps) {
    StepText(p, plan.header, color, &last_level, &confirmations, out);
  }
  out += "\n";
  if (!confirmations.empty()) {
    out += "confirmations that will be asked (--yes answers them):\n";
    for (const std::string& c : confirmations) out += "  " + c + "\n";
  }
  if (plan.header.expected_seconds) {
    out += "expected duration from earlier runs: " + FormatElapsed(*plan.header.expected_seconds) +
           "\n";
  }
  if (plan.header.downtime && plan.header.downtime->expected.seconds) {
    out += "expected downtime from earlier runs: " +
           FormatElapsed(*plan.header.downtime->expected.seconds) + "\n";
  }
  switch (plan.verdict) {
    case PlanVerdict::kStart:
      out += Paint(color, "32", "the run would start") + "\n";
      break;
    case PlanVerdict::kBlocked:
      out += Paint(color, "31", "the run would be blocked (exit 3):") + "\n";
      break;
    case PlanVerdict::kRefused:
      out += Paint(color, "31", "the run would be refused (exit 4):") + "\n";
      break;
  }
  for (const std::string& reason : plan.reasons) out += "  " + Printable(reason) + "\n";
  return out;
}

}  // namespace runbook
