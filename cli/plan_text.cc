#include "cli/plan_text.h"

#include <cstdio>
#include <map>
#include <vector>

namespace runbook {

namespace {

std::string Paint(bool color, const char* code, const std::string& text) {
  if (!color) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

std::string Seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  }
  return buf;
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

}  // namespace

std::string PlanToText(const nlohmann::json& plan, bool color) {
  std::string out;
  out += Paint(color, "1", "plan of " + plan.value("runbook", "") + " (" + plan.value("path", "") + ")") + "\n";
  if (!plan["params"].empty()) {
    out += "params:";
    for (const auto& [k, v] : plan["params"].items()) out += " " + k + "=" + v.get<std::string>();
    out += "\n";
  }
  for (const auto& h : plan["hosts"]) {
    if (h.value("local", true)) continue;
    out += "host " + h.value("name", "") + " (ssh " + h.value("ssh", "") + "): ";
    if (!h.contains("reachable")) {
      out += "not checked (--offline)\n";
    } else if (h["reachable"].get<bool>()) {
      out += Paint(color, "32", "reachable") + "\n";
    } else {
      out += Paint(color, "31", "UNREACHABLE: " + h.value("message", "")) + "\n";
    }
  }
  if (!plan["resume_run"].is_null()) {
    out += Paint(color, "33", "an unfinished run " + plan["resume_run"].get<std::string>() +
                                  " exists: `runbook resume` would continue it as shown in [resume]") +
           "\n";
  }
  out += "\n";

  int last_level = -1;
  std::vector<std::string> confirmations;
  for (const auto& s : plan["steps"]) {
    const int level = s.value("level", 0);
    const bool fin = s.value("finally", false);
    if (level != last_level) {
      int count = 0;
      for (const auto& t : plan["steps"]) count += t.value("level", 0) == level && t.value("finally", false) == fin;
      out += Paint(color, "2", fin ? "finally (always, in order):"
                                   : "level " + std::to_string(level) +
                                         (count > 1 ? " (" + std::to_string(count) + " steps may run in parallel):" : ":")) +
             "\n";
      last_level = level;
    }
    const std::string would = s.value("would", "run");
    const char* code = would == "run" ? "1" : would == "block" ? "31" : "2";
    std::string head = "  " + s.value("id", "") + " [" + s.value("kind", "") + "]";
    if (s.value("host", "local") != "local") head += " on " + s.value("host", "");
    if (would != "run") head += "  -> would " + would;
    out += Paint(color, code, head) + "\n";
    if (!s.value("description", "").empty()) out += "      " + s.value("description", "") + "\n";
    if (!s["needs"].empty()) {
      out += "      needs:";
      for (const auto& n : s["needs"]) out += " " + n.get<std::string>();
      out += "\n";
    }
    if (s.value("condition", "always") != "always") out += "      if: " + s.value("condition", "") + "\n";
    if (s.contains("error")) out += Paint(color, "31", "      error: " + s.value("error", "")) + "\n";
    if (s.contains("definition")) {
      const auto& d = s["definition"];
      if (d.contains("command")) out += Indent("$ " + d.value("command", ""), "      ") + "\n";
      if (d.contains("query")) out += Indent(d.value("query", ""), "      sql> ") + "\n";
      if (d.contains("user")) out += "      as user " + d.value("user", "") + "\n";
      if (d.contains("cwd")) out += "      in " + d.value("cwd", "") + "\n";
      if (d.contains("env") && !d["env"].empty()) {
        out += "      env:";
        for (const auto& [k, v] : d["env"].items()) out += " " + k + "=" + v.get<std::string>();
        out += "\n";
      }
    }
    for (const auto& line : s["details"]) out += Indent(line.get<std::string>(), "      ") + "\n";
    if (s.contains("manual")) out += "      manual: " + s.value("manual", "") + "\n";
    if (s.contains("confirm")) {
      out += Paint(color, "33", "      asks to confirm: " + s.value("confirm", "")) + "\n";
      confirmations.push_back(s.value("id", "") + ": " + s.value("confirm", ""));
    }
    for (const auto& g : s["guards"]) {
      std::string line = "      " + g.value("phase", "") + " " + g.value("kind", "");
      if (!g.value("evaluated", false)) {
        line += g.value("phase", "") == "verify" ? " (checked after the step)" : " (not evaluated)";
        out += Paint(color, "2", line) + "\n";
        continue;
      }
      const bool held = g.value("held", false);
      line += held ? ": holds now" : ": does not hold now";
      if (g.contains("would")) line += " (would " + g.value("would", "") + ")";
      line += " - " + g.value("summary", "");
      out += Paint(color, held ? "32" : "31", line) + "\n";
      if (!held) {
        for (const auto& e : g["evidence"]) out += "          " + e.get<std::string>() + "\n";
      }
    }
    if (s.contains("resume")) out += Paint(color, "33", "      [resume] " + s.value("resume", "")) + "\n";
    if (s.contains("expected_seconds")) {
      out += Paint(color, "2", "      expected " + Seconds(s["expected_seconds"].get<double>())) + "\n";
    }
  }
  out += "\n";
  if (!confirmations.empty()) {
    out += "confirmations that will be asked (--yes answers them):\n";
    for (const std::string& c : confirmations) out += "  " + c + "\n";
  }
  if (!plan["expected_seconds"].is_null()) {
    out += "expected duration from earlier runs: " + Seconds(plan["expected_seconds"].get<double>()) + "\n";
  }
  out += plan.value("blocked", false)
             ? Paint(color, "31", "a guard would block this run (exit 3)") + "\n"
             : Paint(color, "32", "the run would start") + "\n";
  return out;
}

}  // namespace runbook
