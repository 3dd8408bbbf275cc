#include "engine/graph.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <string_view>
#include <unordered_map>

namespace runbook {

namespace {

// Tarjan's strongly connected components, iterative (recursion as deep as the longest chain of
// `needs` could overflow the stack), over the nodes with `alive` set.
std::vector<std::vector<int>> StronglyConnected(const std::vector<std::vector<int>>& deps,
                                                const std::vector<bool>& alive) {
  const int n = static_cast<int>(deps.size());
  std::vector<int> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<int> stack;
  std::vector<std::vector<int>> components;
  int next_index = 0;
  struct Frame {
    int node;
    size_t edge;
  };
  std::vector<Frame> call;
  for (int root = 0; root < n; ++root) {
    if (!alive[root] || index[root] >= 0) continue;
    call.push_back({root, 0});
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!call.empty()) {
      Frame& f = call.back();
      const int v = f.node;
      if (f.edge < deps[v].size()) {
        int w = deps[v][f.edge++];
        if (!alive[w]) continue;
        if (index[w] < 0) {
          index[w] = low[w] = next_index++;
          stack.push_back(w);
          on_stack[w] = true;
          call.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<int> component;
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        components.push_back(std::move(component));
      }
      call.pop_back();
      if (!call.empty()) low[call.back().node] = std::min(low[call.back().node], low[v]);
    }
  }
  return components;
}

// The shortest cycle through `start` inside `component` (BFS along deps), as node indices
// start, ..., start.
std::vector<int> CycleThrough(int start, const std::vector<int>& component,
                              const std::vector<std::vector<int>>& deps) {
  std::unordered_map<int, int> parent;  // node -> predecessor on the BFS tree
  std::vector<bool> in_component(deps.size(), false);
  for (int v : component) in_component[v] = true;
  std::queue<int> queue;
  queue.push(start);
  parent[start] = -1;
  while (!queue.empty()) {
    int v = queue.front();
    queue.pop();
    for (int w : deps[v]) {
      if (!in_component[w]) continue;
      if (w == start) {
        std::vector<int> cycle{start};
        for (int u = v; u != start; u = parent[u]) cycle.push_back(u);
        cycle.push_back(start);
        std::reverse(cycle.begin() + 1, cycle.end() - 1);
        return cycle;
      }
      if (parent.emplace(w, v).second) queue.push(w);
    }
  }
  return {start, start};  // unreachable for a real component
}

}  // namespace

int Graph::LevelCount() const {
  return level.empty() ? 0 : 1 + *std::max_element(level.begin(), level.end());
}

Result<Graph> BuildGraph(const Runbook& rb, Diagnostics* diags) {
  const int n = static_cast<int>(rb.steps.size());
  std::unordered_map<std::string_view, int> by_id;
  for (int v = 0; v < n; ++v) by_id.emplace(rb.steps[v].id, v);  // the first of equal ids wins
  std::vector<std::vector<int>> needs(n);
  for (int v = 0; v < n; ++v) {
    for (const NameRef& need : rb.steps[v].needs) {
      auto w = by_id.find(need.name);
      if (w != by_id.end()) needs[v].push_back(w->second);
    }
  }
  return BuildGraph(rb, needs, diags);
}

Result<Graph> BuildGraph(const Runbook& rb, const std::vector<std::vector<int>>& needs,
                         Diagnostics* diags) {
  const int n = static_cast<int>(rb.steps.size());
  Graph g;
  g.deps.resize(n);
  g.dependents.resize(n);
  g.level.assign(n, 0);
  std::string first_error;
  auto report = [&](const Location& loc, std::string message) {
    if (first_error.empty()) first_error = message;
    if (diags != nullptr) diags->Error(loc, std::move(message));
  };

  // The location of the `needs` entry of step v naming w, for reporting a cycle.
  auto need_loc = [&](int v, int w) {
    for (const NameRef& need : rb.steps[v].needs) {
      if (need.name == rb.steps[w].id) return need.loc;
    }
    return rb.steps[v].loc;
  };

  // Each list allocated once at (about) its size, not grown by doubling: a big runbook has a
  // list or two per step.
  std::vector<int> dependent_count(n, 0);
  for (int v = 0; v < n; ++v) {
    g.deps[v].reserve(needs[v].size());
    for (int w : needs[v]) ++dependent_count[w];
  }
  for (int v = 0; v < n; ++v) g.dependents[v].reserve(dependent_count[v]);
  std::vector<int> last_seen(n, -1);  // dedups repeated needs in O(1)
  std::vector<bool> self_loop(n, false);
  for (int v = 0; v < n; ++v) {
    for (int w : needs[v]) {
      if (w == v) {
        if (!self_loop[v]) report(need_loc(v, v), "step '" + rb.steps[v].id + "' needs itself");
        self_loop[v] = true;
        continue;
      }
      if (last_seen[w] == v) continue;
      last_seen[w] = v;
      g.deps[v].push_back(w);
      g.dependents[w].push_back(v);
    }
  }
  for (auto& d : g.dependents) std::sort(d.begin(), d.end());

  // Kahn's algorithm with a min-heap on the file index: the ready step written first goes next.
  std::vector<int> waiting(n);
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int v = 0; v < n; ++v) {
    waiting[v] = static_cast<int>(g.deps[v].size());
    if (waiting[v] == 0 && !self_loop[v]) ready.push(v);
  }
  g.order.reserve(n);
  while (!ready.empty()) {
    int v = ready.top();
    ready.pop();
    g.order.push_back(v);
    for (int w : g.deps[v]) g.level[v] = std::max(g.level[v], g.level[w] + 1);
    for (int d : g.dependents[v]) {
      if (--waiting[d] == 0 && !self_loop[d]) ready.push(d);
    }
  }

  if (static_cast<int>(g.order.size()) < n) {
    // What is left is in cycles or waits on one. Report the real cycles.
    std::vector<bool> alive(n, true);
    for (int v : g.order) alive[v] = false;
    std::vector<std::vector<int>> components = StronglyConnected(g.deps, alive);
    std::vector<std::pair<int, std::vector<int>>> cycles;  // by earliest step, for file order
    for (const std::vector<int>& component : components) {
      if (component.size() < 2) continue;
      int start = *std::min_element(component.begin(), component.end());
      cycles.emplace_back(start, CycleThrough(start, component, g.deps));
    }
    std::sort(cycles.begin(), cycles.end());
    for (const auto& [start, cycle] : cycles) {
      std::string text;
      for (int v : cycle) text += (text.empty() ? "" : " -> ") + rb.steps[v].id;
      report(need_loc(cycle[0], cycle[1]), "dependency cycle: " + text);
    }
  }
  if (!first_error.empty()) return Result<Graph>::Error(first_error);
  return g;
}

}  // namespace runbook
