#include "engine/graph_export.h"

#include "engine/step_kind.h"

#include <vector>

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

// "ID\nKIND": Graphviz reads \n in a label as a line break.
std::string DotLabel(const Step& s) {
  std::string quoted = DotQuoted(s.id);
  quoted.pop_back();
  return quoted + "\\n" + s.kind->Name() + "\"";
}

// Mermaid labels are in "..."; a quote inside is written as an entity.
std::string MermaidLabel(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') {
      out += "#quot;";
    } else {
      out += c;
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
    out += "  " + sid(v) + "[" + MermaidLabel(s.id + " (" + s.kind->Name() + ")") + "]\n";
  }
  for (int v : graph.order) {
    for (int w : graph.deps[v]) out += "  " + sid(w) + " --> " + sid(v) + "\n";
  }
  if (!rb.finally.empty()) {
    out += "  subgraph finally [\"finally\"]\n";
    for (size_t i = 0; i < rb.finally.size(); ++i) {
      const Step& s = rb.finally[i];
      out += "    " + fid(i) + "[" + MermaidLabel(s.id + " (" + s.kind->Name() + ")") + "]\n";
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
