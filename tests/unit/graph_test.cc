#include "engine/graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/graph_export.h"
#include "engine/parse.h"
#include "steps/manual.h"
#include "steps/registry.h"
#include "steps/run.h"

namespace runbook {
namespace {

const std::string kFile = "g.yaml";

// Steps are written one per line: step i's id at line 10*i+1, its needs on the next line.
Runbook Make(const std::vector<std::pair<std::string, std::vector<std::string>>>& steps) {
  Runbook rb;
  rb.name = "g";
  int i = 0;
  for (const auto& [id, needs] : steps) {
    Step s;
    s.id = id;
    s.loc = {kFile, 10 * i + 1, 9};
    s.kind = std::make_shared<RunStep>();
    int col = 12;
    for (const std::string& n : needs) {
      s.needs.push_back({n, {kFile, 10 * i + 2, col}});
      col += static_cast<int>(n.size()) + 2;
    }
    rb.steps.push_back(std::move(s));
    ++i;
  }
  return rb;
}

std::vector<std::string> Ids(const Runbook& rb, const std::vector<int>& idx) {
  std::vector<std::string> out;
  for (int i : idx) out.push_back(rb.steps[i].id);
  return out;
}

TEST(GraphTest, FileOrderWithoutNeeds) {
  Runbook rb = Make({{"a", {}}, {"b", {}}, {"c", {}}});
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Ids(rb, g->order), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(g->level, (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(g->LevelCount(), 1);
}

TEST(GraphTest, DependenciesFirstTiesByFileOrder) {
  // d needs c; b needs d; a needs nothing; c needs nothing.
  Runbook rb = Make({{"a", {}}, {"b", {"d"}}, {"c", {}}, {"d", {"c"}}, {"e", {"b", "a"}}});
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Ids(rb, g->order), (std::vector<std::string>{"a", "c", "d", "b", "e"}));
  EXPECT_EQ(g->level, (std::vector<int>{0, 2, 0, 1, 3}));
  EXPECT_EQ(g->deps[4], (std::vector<int>{1, 0}));
  EXPECT_EQ(g->dependents[0], (std::vector<int>{4}));
  EXPECT_EQ(g->LevelCount(), 4);
}

TEST(GraphTest, RepeatedAndUnknownNeedsAreIgnored) {
  Runbook rb = Make({{"a", {}}, {"b", {"a", "a", "nope"}}});
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->deps[1], (std::vector<int>{0}));
  EXPECT_EQ(g->dependents[0], (std::vector<int>{1}));
}

TEST(GraphTest, ReportsTheWholeCycleAtItsFirstStep) {
  Runbook rb = Make({{"x", {}}, {"a", {"x", "b"}}, {"b", {"c"}}, {"c", {"a"}}, {"d", {"c"}}});
  Diagnostics diags;
  Result<Graph> g = BuildGraph(rb, &diags);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.message(), "dependency cycle: a -> b -> c -> a");
  ASSERT_EQ(diags.errors().size(), 1u);  // d only waits on the cycle: not reported
  EXPECT_EQ(diags.errors()[0].ToString(), "g.yaml:12:15: dependency cycle: a -> b -> c -> a");
}

TEST(GraphTest, ReportsEachCycleOnceAndSelfNeeds) {
  Runbook rb = Make(
      {{"p", {"q"}}, {"q", {"p"}}, {"s", {"s"}}, {"u", {"v"}}, {"v", {"w", "u"}}, {"w", {"u"}}});
  Diagnostics diags;
  ASSERT_FALSE(BuildGraph(rb, &diags).ok());
  ASSERT_EQ(diags.errors().size(), 3u);
  EXPECT_EQ(diags.errors()[0].ToString(), "g.yaml:22:12: step 's' needs itself");
  EXPECT_EQ(diags.errors()[1].ToString(), "g.yaml:2:12: dependency cycle: p -> q -> p");
  // The shortest cycle through the earliest step of the component is shown.
  EXPECT_EQ(diags.errors()[2].ToString(), "g.yaml:32:12: dependency cycle: u -> v -> u");
}

TEST(GraphTest, LongChainsNeedNoDeepRecursion) {
  // A wide and deep mix: every step needs the one before it and one far back.
  const int n = 100000;
  Runbook rb;
  rb.steps.resize(n);
  for (int i = 0; i < n; ++i) {
    rb.steps[i].id = "s" + std::to_string(i);
    rb.steps[i].kind = std::make_shared<RunStep>();
    if (i > 0) rb.steps[i].needs.push_back({"s" + std::to_string(i - 1), {}});
    if (i > 1000) rb.steps[i].needs.push_back({"s" + std::to_string(i - 1000), {}});
  }
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->order.front(), 0);
  EXPECT_EQ(g->order.back(), n - 1);
  EXPECT_EQ(g->LevelCount(), n);

  // A cycle through the whole chain is found without deep recursion.
  rb.steps[0].needs.push_back({"s" + std::to_string(n - 1), {}});
  Diagnostics diags;
  EXPECT_FALSE(BuildGraph(rb, &diags).ok());
  EXPECT_EQ(diags.errors().size(), 1u);
}

Runbook WithFinally() {
  Runbook rb = Make({{"dump", {}}, {"load", {"dump"}}, {"check", {}}});
  rb.name = "clone";
  rb.steps[2].kind = std::make_shared<ManualStep>();
  Step f1;
  f1.id = "start-apache";
  f1.kind = std::make_shared<RunStep>();
  f1.in_finally = true;
  Step f2 = f1;
  f2.id = "notify";
  rb.finally = {f1, f2};
  return rb;
}

TEST(GraphExportTest, Dot) {
  Runbook rb = WithFinally();
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(GraphToDot(rb, *g),
            "digraph \"clone\" {\n"
            "  rankdir=TB;\n"
            "  node [shape=box, style=rounded];\n"
            "  \"dump\" [label=\"dump\\nrun\"];\n"
            "  \"load\" [label=\"load\\nrun\"];\n"
            "  \"check\" [label=\"check\\nmanual\"];\n"
            "  \"dump\" -> \"load\";\n"
            "  subgraph cluster_finally {\n"
            "    label=\"finally\";\n"
            "    style=dashed;\n"
            "    \"start-apache\" [label=\"start-apache\\nrun\", style=\"rounded,dashed\"];\n"
            "    \"notify\" [label=\"notify\\nrun\", style=\"rounded,dashed\"];\n"
            "  }\n"
            "  \"load\" -> \"start-apache\" [style=dashed];\n"
            "  \"check\" -> \"start-apache\" [style=dashed];\n"
            "  \"start-apache\" -> \"notify\" [style=dashed];\n"
            "}\n");
}

TEST(GraphExportTest, Mermaid) {
  Runbook rb = WithFinally();
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(GraphToMermaid(rb, *g),
            "flowchart TD\n"
            "  s0[\"dump (run)\"]\n"
            "  s1[\"load (run)\"]\n"
            "  s2[\"check (manual)\"]\n"
            "  s0 --> s1\n"
            "  subgraph finally [\"finally\"]\n"
            "    f0[\"start-apache (run)\"]\n"
            "    f1[\"notify (run)\"]\n"
            "  end\n"
            "  s1 -.-> f0\n"
            "  s2 -.-> f0\n"
            "  f0 -.-> f1\n"
            "  classDef finallyStep stroke-dasharray: 5 5\n"
            "  class f0,f1 finallyStep\n");
}

TEST(GraphExportTest, WithoutFinally) {
  Runbook rb = Make({{"a", {}}});
  rb.name = "x";
  Result<Graph> g = BuildGraph(rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(GraphToMermaid(rb, *g), "flowchart TD\n  s0[\"a (run)\"]\n");
  EXPECT_EQ(GraphToDot(rb, *g),
            "digraph \"x\" {\n  rankdir=TB;\n  node [shape=box, style=rounded];\n"
            "  \"a\" [label=\"a\\nrun\"];\n}\n");
}

// What may hold a step back or skip it is on its node: `if:` as written, then its guards,
// done_when and verify checks, with waits and an on_fail other than abort.
const char kGuarded[] = R"(name: guarded
params:
  go: {type: boolean, default: true}
  idle: {type: duration}
databases:
  db: {conninfo: "dbname=x"}
steps:
  - id: a
    run: echo a
  - id: b
    needs: [a]
    if: ${{ params.go && steps.a.outcome == "success" }}
    run: echo b
    guards:
      - postgres_idle: {db: db}
        wait: ${{ params.idle }}
      - command: "test -e /tmp/x"
        wait: 5m
        on_fail: warn
    done_when:
      - command: "true"
    verify:
      - sql: {db: db, query: SELECT 1 < 2}
finally:
  - id: f
    if: ${{ params.go }}
    run: echo f
)";

TEST(GraphExportTest, NodesShowIfAndGuards) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook("g.yaml", kGuarded, BuiltinKinds(), &d);
  ASSERT_TRUE(rb.has_value());
  Result<Graph> g = BuildGraph(*rb, nullptr);
  ASSERT_TRUE(g.ok());
  const std::string dot = GraphToDot(*rb, *g);
  EXPECT_NE(dot.find("  \"a\" [label=\"a\\nrun\"];\n"), std::string::npos) << dot;
  EXPECT_NE(dot.find("  \"b\" [label=\"b\\nrun"
                     "\\nif: ${{ params.go && steps.a.outcome == \\\"success\\\" }}"
                     "\\nguards: postgres_idle (wait ${{ params.idle }}), command (wait 5m, "
                     "on_fail: warn)"
                     "\\ndone when: command"
                     "\\nverify: sql\"];\n"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"f\" [label=\"f\\nrun\\nif: ${{ params.go }}\", style="), std::string::npos)
      << dot;
  const std::string mermaid = GraphToMermaid(*rb, *g);
  EXPECT_NE(mermaid.find("  s1[\"b (run)"
                         "<br>if: ${{ params.go && steps.a.outcome == #quot;success#quot; }}"
                         "<br>guards: postgres_idle (wait ${{ params.idle }}), command (wait 5m, "
                         "on_fail: warn)"
                         "<br>done when: command"
                         "<br>verify: sql\"]\n"),
            std::string::npos)
      << mermaid;
  EXPECT_NE(mermaid.find("    f0[\"f (run)<br>if: ${{ params.go }}\"]\n"), std::string::npos)
      << mermaid;
}

TEST(GraphExportTest, MermaidLabelsKeepTextAsText) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook(
      "g.yaml",
      "name: t\nparams: {n: {type: integer, default: 1}}\nsteps:\n"
      "  - id: a\n    if: \"${{ params.n > 0 && '#x;' != '<br>' }}\"\n    run: echo a\n",
      BuiltinKinds(), &d);
  ASSERT_TRUE(rb.has_value());
  Result<Graph> g = BuildGraph(*rb, nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(GraphToMermaid(*rb, *g),
            "flowchart TD\n  s0[\"a (run)<br>if: ${{ params.n #gt; 0 && '#35;x;' != "
            "'#lt;br#gt;' }}\"]\n");
}

}  // namespace
}  // namespace runbook
