#include "engine/graph_export.h"

#include <vector>

#include "engine/step_kind.h"
#include "engine/units.h"

namespace runbook {

namespace {

std::string DotQuoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// One line of a label: a line break or other control character inside (an `if:` written over
// several lines) becomes a space.
std::string OneLine(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// "guards: postgres_idle (wait 1m), command (on_fail: warn)"; "" without guards.
std::string GuardLine(const char* title, const std::vector<Guard>& guards) {
  if (guards.empty()) return "";
  std::string out = title;
  for (size_t i = 0; i < guards.size(); ++i) {
    const Guard& g = guards[i];
    out += (i ? ", " : " ") + std::string(g.kind->Name());
    std::vector<std::string> notes;
    if (g.wait) {
      notes.push_back("wait " + FormatDuration(*g.wait));
    } else if (g.wait_param) {
      notes.push_back("wait ${{ params." + g.wait_param->name + " }}");
    }
    if (g.on_fail == OnFail::kWarn) notes.push_back("on_fail: warn");
    if (g.on_fail == OnFail::kSkip) notes.push_back("on_fail: skip");
    for (size_t k = 0; k < notes.size(); ++k) out += (k ? ", " : " (") + notes[k];
    if (!notes.empty()) out += ")";
  }
  return out;
}

// The lines under a node's first one: its `if:` and its checks.
std::vector<std::string> Conditions(const Step& s) {
  std::vector<std::string> lines;
  if (s.if_expr) lines.push_back("if: " + OneLine(s.if_expr->raw));
  for (const std::string& line :
       {GuardLine("guards:", s.guards), GuardLine("done when:", s.done_when),
        GuardLine("verify:", s.verify)}) {
    if (!line.empty()) lines.push_back(OneLine(line));
  }
  return lines;
}

// "ID\nKIND\nif: ...": Graphviz reads \n in a label as a line break.
std::string DotLabel(const Step& s) {
  std::vector<std::string> lines = Conditions(s);
  lines.insert(lines.begin(), {s.id, s.kind->Name()});
  std::string out;
  for (const std::string& line : lines) {
    const std::string quoted = DotQuoted(line);
    out += (out.empty() ? "" : "\\n") + quoted.substr(1, quoted.size() - 2);
  }
  return "\"" + out + "\"";
}

// "ID (KIND)<br>if: ...": Mermaid labels are in "..."; a quote, <, > and # inside are written as
// entities, so an expression's text stays text.
std::string MermaidLabel(const Step& s) {
  std::string out = "\"";
  std::vector<std::string> lines = Conditions(s);
  lines.insert(lines.begin(), s.id + " (" + s.kind->Name() + ")");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "<br>";
    for (char c : lines[i]) {
      if (c == '"') {
        out += "#quot;";
      } else if (c == '<') {
        out += "#lt;";
      } else if (c == '>') {
        out += "#gt;";
      } else if (c == '#') {
        out += "#35;";
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

// Steps that no other step needs: the run reaches `finally` through them.
std::vector<int> Sinks(const Graph& graph) {
  std::vector<int> sinks;
  for (int v : graph.order) {
    if (graph.dependents[v].empty()) sinks.push_back(v);
  }
  return sinks;
}

}  // namespace

std::string GraphToDot(const Runbook& rb, const Graph& graph) {
  std::string out = "digraph " + DotQuoted(rb.name) + " {\n";
  out += "  rankdir=TB;\n  node [shape=box, style=rounded];\n";
  for (int v : graph.order) {
    const Step& s = rb.steps[v];
    out += "  " + DotQuoted(s.id) + " [label=" + DotLabel(s) + "];\n";
  }
  for (int v : graph.order) {
    for (int w : graph.deps[v]) {
      out += "  " + DotQuoted(rb.steps[w].id) + " -> " + DotQuoted(rb.steps[v].id) + ";\n";
    }
  }
  if (!rb.finally.empty()) {
    out += "  subgraph cluster_finally {\n    label=\"finally\";\n    style=dashed;\n";
    for (const Step& s : rb.finally) {
      out += "    " + DotQuoted(s.id) + " [label=" + DotLabel(s) + ", style=\"rounded,dashed\"];\n";
    }
    out += "  }\n";
    const std::string first = DotQuoted(rb.finally.front().id);
    for (int v : Sinks(graph)) {
      out += "  " + DotQuoted(rb.steps[v].id) + " -> " + first + " [style=dashed];\n";
    }
    for (size_t i = 1; i < rb.finally.size(); ++i) {
      out += "  " + DotQuoted(rb.finally[i - 1].id) + " -> " + DotQuoted(rb.finally[i].id) +
             " [style=dashed];\n";
    }
  }
  return out + "}\n";
}

std::string GraphToMermaid(const Runbook& rb, const Graph& graph) {
  // Node ids are generated (s0, f0): step ids such as "end" or "a--b" would confuse Mermaid.
  std::string out = "flowchart TD\n";
  auto sid = [](int v) { return "s" + std::to_string(v); };
  auto fid = [](size_t i) { return "f" + std::to_string(i); };
  for (int v : graph.order) {
    const Step& s = rb.steps[v];
    out += "  " + sid(v) + "[" + MermaidLabel(s) + "]\n";
  }
  for (int v : graph.order) {
    for (int w : graph.deps[v]) out += "  " + sid(w) + " --> " + sid(v) + "\n";
  }
  if (!rb.finally.empty()) {
    out += "  subgraph finally [\"finally\"]\n";
    for (size_t i = 0; i < rb.finally.size(); ++i) {
      const Step& s = rb.finally[i];
      out += "    " + fid(i) + "[" + MermaidLabel(s) + "]\n";
    }
    out += "  end\n";
    for (int v : Sinks(graph)) out += "  " + sid(v) + " -.-> " + fid(0) + "\n";
    for (size_t i = 1; i < rb.finally.size(); ++i) {
      out += "  " + fid(i - 1) + " -.-> " + fid(i) + "\n";
    }
    out += "  classDef finallyStep stroke-dasharray: 5 5\n  class ";
    for (size_t i = 0; i < rb.finally.size(); ++i) out += (i ? "," : "") + fid(i);
    out += " finallyStep\n";
  }
  return out;
}

}  // namespace runbook
