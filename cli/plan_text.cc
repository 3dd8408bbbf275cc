#include "cli/plan_text.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include "engine/printable.h"
#include "engine/step_kind.h"
#include "engine/step_selection.h"
#include "engine/units.h"

namespace runbook {

namespace {

// At most this many failing guards are listed in the summary; the rest are under their steps.
constexpr size_t kSummaryGuards = 6;

std::string Paint(bool color, const char* code, const std::string& text) {
  if (!color) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

// Columns of UTF-8 text: one per code point.
size_t Columns(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// `text` cut to `width` columns, "..." standing for the rest.
std::string Fit(const std::string& text, size_t width) {
  if (Columns(text) <= width) return text;
  std::string out;
  size_t columns = 0;
  for (char c : text) {
    const bool starts = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (starts && ++columns > width - 3) break;
    out += c;
  }
  return out + "...";
}

// The words of `text` on lines of at most `width` columns, the first line after `first`, the
// others after `rest` (a single word longer than that stands alone on its line).
std::vector<std::string> Wrap(const std::string& text, const std::string& first,
                              const std::string& rest, size_t width = kSummaryColumns) {
  std::vector<std::string> lines;
  std::string line = first;
  bool empty = true;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (!empty && Columns(line) + 1 + Columns(word) > width) {
      lines.push_back(line);
      line = rest;
      empty = true;
    }
    line += (empty ? "" : " ") + word;
    empty = false;
  }
  lines.push_back(line);
  return lines;
}

// "a, b and c".
std::string List(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// Lines of a multi-line text after `first` and, for the lines after the first, `rest`; a
// trailing newline ends the text rather than adding an empty line.
std::vector<std::string> Block(const std::string& text, const std::string& first,
                               const std::string& rest) {
  std::vector<std::string> lines;
  size_t pos = 0;
  const size_t end = text.size() - (!text.empty() && text.back() == '\n' ? 1 : 0);
  do {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos || nl > end) nl = end;
    std::string line = (lines.empty() ? first : rest) + text.substr(pos, nl - pos);
    line.erase(line.find_last_not_of(' ') + 1);
    lines.push_back(line);
    pos = nl + 1;
  } while (pos <= end);
  return lines;
}

// name, padded so that the values after it line up.
std::string Pad(const std::string& name, size_t width) {
  return name + std::string(width > Columns(name) ? width - Columns(name) : 0, ' ');
}

std::string VerdictLine(PlanVerdict verdict) {
  switch (verdict) {
    case PlanVerdict::kStart:
      return "the run would start";
    case PlanVerdict::kBlocked:
      return "the run would be blocked (exit 3):";
    case PlanVerdict::kRefused:
      return "the run would be refused (exit 4):";
  }
  return "";
}

void Verdict(const Plan& plan, bool color, std::vector<std::string>& out) {
  out.push_back(
      Paint(color, plan.verdict == PlanVerdict::kStart ? "32" : "31", VerdictLine(plan.verdict)));
  for (const std::string& reason : plan.reasons) {
    for (const std::string& line : Wrap(Printable(reason), "  - ", "    ")) out.push_back(line);
  }
}

// What an earlier run's outcome of a step says, completing "STEP ... in run X".
std::string OutcomeWords(const std::string& outcome) {
  static const std::map<std::string, std::string> words = {
      {"success", "succeeded"},   {"done", "was found done"}, {"already_done", "was done"},
      {"failure", "failed"},      {"timed_out", "timed out"}, {"interrupted", "was interrupted"},
      {"blocked", "was blocked"}, {"not_run", "did not run"}};
  auto it = words.find(outcome);
  return it == words.end() ? outcome : it->second;
}

// What a run would do with the step, in words; "" when it simply runs.
std::string StepFate(const PlannedStep& p, const PlanHeader& h) {
  const std::string& resume_run = h.resume_run;
  if (p.resume) {
    const std::string in_run = " in run " + resume_run;
    if (p.rerun) {
      return "runs again (--rerun), although it " + OutcomeWords(p.earlier_outcome.value_or("")) +
             in_run;
    }
    if (!p.chosen && p.resume != ResumeDecision::kFinishedEarlier) {
      return "not chosen (" + h.selection.Describe() + "), does not run";
    }
    switch (*p.resume) {
      case ResumeDecision::kFinishedEarlier:
        if (p.earlier_outcome == "skipped") return "skipped, as in run " + resume_run;
        return "already done (" + OutcomeWords(p.earlier_outcome.value_or("")) + in_run +
               "), skipped" + (p.definition_changed ? "; its definition changed since" : "");
      case ResumeDecision::kRunAgain:
        return "runs again: it was running when run " + resume_run + " stopped (idempotent)";
      case ResumeDecision::kNeedsAnswer:
        return "asks before running again: it was running when run " + resume_run +
               " stopped and is not idempotent";
      case ResumeDecision::kRun:
        if (p.decision == StepDecision::kRun && p.earlier_outcome) {
          return "runs again (" + OutcomeWords(*p.earlier_outcome) + in_run + ")";
        }
        break;
    }
  }
  if (!p.chosen) return "not chosen (" + h.selection.Describe() + "), does not run";
  if (p.step->in_finally && !p.needs_left_out.empty()) {
    return "skipped: it needs " + List(p.needs_left_out) + ", which would not succeed (not chosen)";
  }
  switch (p.decision) {
    case StepDecision::kRun:
      return "";
    case StepDecision::kSkipCondition:
      return "skipped: its if: is false";
    case StepDecision::kSkipGuard:
      return "skipped: a guard with on_fail: skip does not hold now";
    case StepDecision::kDone:
      return "already done (its done_when holds now), skipped";
    case StepDecision::kBlocked:
      return "BLOCKED: a guard does not hold now, the run would stop here";
  }
  return "";
}

// What the run would do about a guard that does not hold now.
std::string GuardConsequence(const PlannedGuard& g) {
  switch (g.decision) {
    case GuardDecision::kWait:
      return "the run would " + GuardWould(g);
    case GuardDecision::kAgainLater:
      return "it would " + GuardWould(g);
    case GuardDecision::kBlock:
      return "the run would stop here, blocked";
    case GuardDecision::kSkip:
      return "the step would be skipped";
    case GuardDecision::kWarn:
      return "a warning only, the step goes on";
    case GuardDecision::kHolds:
    case GuardDecision::kNotEvaluated:
      break;
  }
  return "";
}

std::string GuardTitle(const PlannedGuard& g) {
  switch (g.phase) {
    case GuardPhase::kGuards:
      return std::string("guard ") + g.guard->kind->Name();
    case GuardPhase::kDoneWhen:
      return std::string("done when ") + g.guard->kind->Name();
    case GuardPhase::kVerify:
      return std::string("verify ") + g.guard->kind->Name();
  }
  return g.guard->kind->Name();
}

// ---- the summary ----------------------------------------------------------------------------

void SummarySteps(const Plan& plan, std::vector<std::string>& out) {
  int steps = 0, finally = 0, runs = 0;
  std::vector<std::string> skipped, skipped_by_guard, done, earlier, skipped_earlier, blocked,
      not_chosen, rerun, left_out, finally_left_out;
  for (const PlannedStep& p : plan.steps) {
    ++(p.step->in_finally ? finally : steps);
    // A step runs without its needs left out; a finally step is skipped for them.
    const bool finally_skipped = p.step->in_finally && !p.needs_left_out.empty();
    for (const std::string& need :
         finally_skipped ? std::vector<std::string>() : p.needs_left_out) {
      left_out.push_back(LeftOutNeedText(p.step->id, need));
    }
    if (p.resume == ResumeDecision::kFinishedEarlier) {
      (p.earlier_outcome == "skipped" ? skipped_earlier : earlier).push_back(p.step->id);
    } else if (!p.chosen) {
      not_chosen.push_back(p.step->id);
    } else if (finally_skipped) {
      finally_left_out.push_back(p.step->id);
    } else if (p.decision == StepDecision::kRun) {
      ++runs;
      if (p.rerun) rerun.push_back(p.step->id);
    } else if (p.decision == StepDecision::kDone) {
      done.push_back(p.step->id);
    } else if (p.decision == StepDecision::kBlocked) {
      blocked.push_back(p.step->id);
    } else if (p.decision == StepDecision::kSkipGuard) {
      skipped_by_guard.push_back(p.step->id);
    } else {
      skipped.push_back(p.step->id);
    }
  }
  std::string line = "steps: " + std::to_string(steps);
  if (finally > 0) line += ", then " + std::to_string(finally) + " finally";
  line += "; " + std::to_string(runs) + " would run";
  out.push_back(line);
  const std::string& run = plan.header.resume_run;
  auto add = [&](const std::vector<std::string>& ids, const std::string& what) {
    if (ids.empty()) return;
    for (const std::string& l : Wrap(what + ": " + List(ids), "  ", "    ")) out.push_back(l);
  };
  add(not_chosen, "not chosen (" + plan.header.selection.Describe() + "), do not run");
  add(rerun, "run again (--rerun), although finished in run " + run);
  add(earlier, "already done in run " + run + ", skipped");
  add(skipped_earlier, "skipped, as in run " + run);
  add(done, "already done (done_when holds now), skipped");
  add(skipped, "skipped (its if: is false)");
  add(skipped_by_guard, "skipped (a guard with on_fail: skip)");
  add(blocked, "BLOCKED by a guard");
  add(finally_left_out, "skipped (they need steps not chosen)");
  for (const std::string& text : left_out) {
    for (const std::string& l : Wrap(text, "  ", "    ")) out.push_back(l);
  }
}

void SummaryQuestions(const Plan& plan, std::vector<std::string>& out) {
  std::vector<std::string> confirm, manual, again;
  for (const PlannedStep& p : plan.steps) {
    if (!p.chosen) continue;  // not run, nothing asked
    const bool skipped =
        p.decision != StepDecision::kRun || p.resume == ResumeDecision::kFinishedEarlier;
    if (p.resume == ResumeDecision::kNeedsAnswer) again.push_back(p.step->id);
    if (skipped) continue;
    if (p.confirm) confirm.push_back(p.step->id);
    if (p.manual) manual.push_back(p.step->id);
  }
  if (confirm.empty() && manual.empty() && again.empty()) {
    out.push_back("asks for confirmation: nothing");
    return;
  }
  std::vector<std::string> parts;
  if (!confirm.empty()) parts.push_back(List(confirm));
  if (!manual.empty()) parts.push_back("by hand " + List(manual));
  if (!again.empty()) parts.push_back("before running again " + List(again));
  std::string text = "asks for confirmation: ";
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : "") + parts[i];
  for (const std::string& l : Wrap(text + " (--yes answers)", "", "  ")) out.push_back(l);
}

// What a failing guard makes the run do, in a few words.
std::string ShortConsequence(const PlannedGuard& g) {
  switch (g.decision) {
    case GuardDecision::kWait:
      return "waits up to " + FormatDuration(*g.guard->wait);
    case GuardDecision::kAgainLater:
      return "checked again later";
    case GuardDecision::kBlock:
      return "BLOCKS";
    case GuardDecision::kSkip:
      return "skips the step";
    case GuardDecision::kWarn:
      return "warns";
    case GuardDecision::kHolds:
    case GuardDecision::kNotEvaluated:
      break;
  }
  return "";
}

void SummaryGuards(const Plan& plan, std::vector<std::string>& out) {
  if (plan.header.offline) {
    out.push_back("guards: not evaluated (--offline), no host or database contacted");
    return;
  }
  struct Failing {
    std::string step, kind, text;
  };
  std::vector<Failing> failing;
  size_t step_width = 0, kind_width = 0;
  int evaluated = 0;
  for (const PlannedStep& p : plan.steps) {
    for (const PlannedGuard& g : p.guards) {
      if (g.phase != GuardPhase::kGuards || !g.evaluated) continue;
      ++evaluated;
      if (g.held) continue;
      failing.push_back(
          {p.step->id, g.guard->kind->Name(), ShortConsequence(g) + ": " + Printable(g.summary)});
      if (failing.size() > kSummaryGuards) continue;
      step_width = std::max(step_width, Columns(p.step->id));
      kind_width = std::max(kind_width, Columns(failing.back().kind));
    }
  }
  if (evaluated == 0) return;
  if (failing.empty()) {
    out.push_back("guards: all " + std::to_string(evaluated) + " hold now");
    return;
  }
  out.push_back("guards that do not hold now:");
  for (size_t i = 0; i < failing.size() && i < kSummaryGuards; ++i) {
    const Failing& f = failing[i];
    std::string line = "  " + Pad(f.step, step_width) + "  " + Pad(f.kind, kind_width) + "  ";
    for (char& c : line) c = c == '\t' || c == '\n' ? ' ' : c;
    std::string text = f.text;
    for (char& c : text) c = c == '\t' || c == '\n' ? ' ' : c;
    out.push_back(Fit(line + text, kSummaryColumns));
  }
  if (failing.size() > kSummaryGuards) {
    out.push_back("  ... and " + std::to_string(failing.size() - kSummaryGuards) +
                  " more, under their steps");
  }
}

void SummaryTimes(const PlanHeader& h, std::vector<std::string>& out) {
  if (h.downtime) {
    const PlannedWindow& w = *h.downtime;
    for (const std::string& l :
         Wrap("downtime: from the start of " + w.from + " to the end of " + w.to + ", " +
                  std::to_string(w.steps.size()) + " steps inside (marked |)",
              "", "  ")) {
      out.push_back(l);
    }
    if (!w.not_chosen.empty()) {
      std::string text = "not chosen of them: " + List(w.not_chosen) + "; ";
      auto left_out = [&](const std::string& id) {
        return std::find(w.not_chosen.begin(), w.not_chosen.end(), id) != w.not_chosen.end();
      };
      if (left_out(w.from)) {
        text += w.from + " does not run: this run does not open the window. ";
      } else if (left_out(w.to)) {
        text += w.to + " does not run: the window would stay open after this run. ";
      }
      text += "The expected downtime is that of earlier runs of the whole window";
      for (const std::string& l : Wrap(text, "  ", "    ")) out.push_back(l);
    }
    out.push_back("expected downtime: " +
                  (w.expected.seconds ? FormatElapsed(*w.expected.seconds) + " (median of " +
                                            std::to_string(w.expected.runs) + " earlier run" +
                                            (w.expected.runs == 1 ? ")" : "s)")
                                      : std::string("unknown (no earlier run measured it)")));
  }
  out.push_back("expected duration: " +
                (h.expected_seconds ? FormatElapsed(*h.expected_seconds) + " (from earlier runs" +
                                          (h.selection.empty() ? ")" : ", of the chosen steps)")
                                    : std::string("unknown (no earlier run)")));
}

std::vector<std::string> Summary(const Plan& plan, bool color) {
  const PlanHeader& h = plan.header;
  std::vector<std::string> out;
  for (const std::string& l : Wrap("plan of " + h.runbook + " (" + h.path + ")", "", "  ")) {
    out.push_back(Paint(color, "1", l));
  }
  Verdict(plan, color, out);
  if (!h.resume_run.empty()) {
    for (const std::string& l :
         Wrap("unfinished run " + h.resume_run + ": what a resume would do is said under each step",
              "", "  ")) {
      out.push_back(Paint(color, "33", l));
    }
  }
  if (!h.selection.empty()) {
    out.push_back(Paint(color, "33", "steps chosen: " + h.selection.Describe()));
  }
  SummarySteps(plan, out);
  SummaryQuestions(plan, out);
  SummaryGuards(plan, out);
  SummaryTimes(h, out);
  return out;
}

// ---- where it acts --------------------------------------------------------------------------

void Where(const PlanHeader& h, bool color, std::vector<std::string>& out) {
  std::vector<const PlannedHost*> ssh;
  for (const PlannedHost& host : h.hosts) {
    if (!host.local) ssh.push_back(&host);
  }
  if (!ssh.empty()) {
    out.push_back("");
    out.push_back("hosts:");
    size_t width = 0;
    for (const PlannedHost* host : ssh) width = std::max(width, Columns(host->name));
    for (const PlannedHost* host : ssh) {
      std::string line = "  " + Pad(host->name, width) + "  ssh " + host->ssh;
      if (!host->reachable) {
        out.push_back(line);
      } else if (*host->reachable) {
        out.push_back(line + " - " + Paint(color, "32", "reachable"));
      } else {
        out.push_back(line + " - " +
                      Paint(color, "31", "UNREACHABLE: " + Printable(host->message)));
      }
    }
  }
  if (!h.databases.empty()) {
    out.push_back("");
    out.push_back("databases:");
    size_t width = 0;
    for (const PlannedDatabase& d : h.databases) width = std::max(width, Columns(d.name));
    for (const PlannedDatabase& d : h.databases) {
      std::string line = "  " + Pad(d.name, width) + "  " + Printable(d.conninfo);
      // The password travels apart from the conninfo; shown masked where it would be.
      if (d.password && d.conninfo.find("password=") == std::string::npos) {
        line += " password=***";
      }
      if (!d.tunnel.empty()) line += " (through an ssh tunnel to " + d.tunnel + ")";
      if (d.reachable && *d.reachable) {
        line += " - " + Paint(color, "32", "the server answers");
      } else if (d.reachable || !d.message.empty()) {
        line += " - " + Paint(color, "31", Printable(d.message));
      }
      out.push_back(line);
    }
  }
  if (!h.params.empty()) {
    out.push_back("");
    out.push_back("params:");
    size_t width = 0;
    for (const auto& [name, value] : h.params) width = std::max(width, Columns(name));
    for (const auto& [name, value] : h.params) {
      out.push_back("  " + Pad(name, width) + "  " + (value.empty() ? "\"\"" : Printable(value)));
    }
  }
}

// ---- the steps ------------------------------------------------------------------------------

// What the step's `if:` is now.
std::string ConditionLine(const PlannedStep& p) {
  const std::string expr = p.step->if_expr ? p.step->if_expr->raw : "";
  const std::string& c = p.condition;
  if (c == "true") return "if: " + expr + " - true now";
  if (c == "false") return "if: " + expr + " - false now";
  if (c.rfind("decided at run time", 0) == 0) return "if: " + expr + " - decided at run time";
  return "if: " + expr + " - " + c;
}

void Guards(const PlannedStep& p, bool color, std::vector<std::string>& body) {
  for (const PlannedGuard& g : p.guards) {
    std::string line = GuardTitle(g);
    if (!g.evaluated) {
      line += g.phase == GuardPhase::kVerify ? ": checked after the step"
              : p.condition == "false"       ? ": not evaluated, the step is skipped"
                                             : ": not evaluated";
      body.push_back(Paint(color, "2", line));
      continue;
    }
    line += g.held ? ": holds now" : ": does not hold now";
    const std::string consequence = g.held                             ? ""
                                    : g.phase == GuardPhase::kDoneWhen ? "the step runs"
                                                                       : GuardConsequence(g);
    if (!consequence.empty()) line += "; " + consequence;
    body.push_back(Paint(color, g.held ? "32" : "31", line));
    for (const std::string& l : Block(Printable(g.summary), "    ", "    ")) body.push_back(l);
    if (!g.held) {
      for (const std::string& e : g.evidence) {
        for (const std::string& l : Block(Printable(e), "      ", "      ")) body.push_back(l);
      }
    }
  }
}

// The lines of one step, without the margin.
std::vector<std::string> StepLines(const PlannedStep& p, const PlanHeader& h, bool color) {
  const Step& s = *p.step;
  std::string head = s.id + " [" + s.kind->Name() + "]";
  if (*p.host != "local") head += " on " + *p.host;
  const std::string fate = StepFate(p, h);
  if (!fate.empty()) head += ": " + fate;
  const bool runs = fate.empty() || fate.rfind("runs", 0) == 0 || fate.rfind("asks", 0) == 0;
  const char* code = p.decision == StepDecision::kBlocked ? "31" : runs ? "1" : "2";
  std::vector<std::string> lines = {Paint(color, code, head)};
  std::vector<std::string> body;
  if (!s.description.empty()) body.push_back(s.description);
  if (!s.needs.empty()) {
    std::vector<std::string> needs;
    for (const NameRef& n : s.needs) needs.push_back(n.name);
    body.push_back("needs " + List(needs));
  }
  for (const std::string& need : s.in_finally ? std::vector<std::string>() : p.needs_left_out) {
    body.push_back(Paint(color, "33", LeftOutNeedText(s.id, need)));
  }
  if (p.condition != "always") body.push_back(ConditionLine(p));
  if (!p.definition) body.push_back(Paint(color, "31", "error: " + p.error));
  if (p.definition) {
    const StepDefinition& d = *p.definition;
    if (const std::string* u = d.FindString("user")) body.push_back("as user " + *u);
    if (const std::string* c = d.FindString("cwd")) body.push_back("in " + *c);
    // A multi-line script is one block, its lines under the first one's text.
    if (const std::string* c = d.FindString("command")) {
      for (const std::string& l : Block(*c, "$ ", "  ")) body.push_back(l);
    }
    const auto* env = d.Find("env");
    const auto* vars = env ? std::get_if<StepDefinition::StringMap>(env) : nullptr;
    if (vars && !vars->empty()) {
      size_t width = 0;
      for (const auto& [k, v] : *vars) width = std::max(width, Columns(k));
      body.push_back("env:");
      for (const auto& [k, v] : *vars) {
        body.push_back("  " + Pad(k, width) + "  " + (v.empty() ? "\"\"" : v));
      }
    }
  }
  // What the kind would do (SQL once, as the server gets it; copies), and what it would act on:
  // from servers and other sessions, escaped.
  for (const std::string& d : p.details) {
    for (const std::string& l : Block(Printable(d), "", "")) body.push_back(l);
  }
  for (const std::string& o : p.observed) {
    for (const std::string& l : Block(Printable(o), "", "")) body.push_back(l);
  }
  if (p.manual) {
    for (const std::string& l : Block(*p.manual, "asks to do by hand: ", "  ")) body.push_back(l);
  }
  if (p.confirm) body.push_back(Paint(color, "33", "asks to confirm: " + *p.confirm));
  Guards(p, color, body);
  if (p.expected_seconds) {
    body.push_back(Paint(color, "2", "expected " + FormatElapsed(*p.expected_seconds)));
  }
  for (const std::string& l : body) lines.push_back(l.empty() ? l : "    " + l);
  return lines;
}

void Steps(const Plan& plan, bool color, std::vector<std::string>& out) {
  const PlanHeader& h = plan.header;
  out.push_back("");
  out.push_back(h.downtime ? "steps (| marks those inside the downtime window):" : "steps:");
  // The steps of each level, in plan order: with --jobs those of one level may run together.
  std::map<int, std::vector<std::string>> levels;
  for (const PlannedStep& p : plan.steps) {
    if (!p.step->in_finally) levels[p.level].push_back(p.step->id);
  }
  bool in_finally = false;
  for (const PlannedStep& p : plan.steps) {
    const std::string margin = p.in_window ? "| " : "  ";
    if (p.step->in_finally && !in_finally) {
      out.push_back(Paint(color, "2", "finally (always, in order):"));
      in_finally = true;
    }
    const auto& level = levels[p.level];
    if (!p.step->in_finally && level.size() > 1 && level.front() == p.step->id) {
      out.push_back(
          margin + Paint(color, "2", "with --jobs these may run at the same time: " + List(level)));
    }
    for (const std::string& l : StepLines(p, h, color)) {
      std::string line = margin + l;
      line.erase(line.find_last_not_of(' ') + 1);
      out.push_back(line);
    }
  }
}

}  // namespace

std::string PlanToText(const Plan& plan, bool color) {
  std::vector<std::string> lines = Summary(plan, color);
  Where(plan.header, color, lines);
  Steps(plan, color, lines);
  lines.push_back("");
  Verdict(plan, color, lines);
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace runbook
