#include "engine/step_selection.h"

#include <algorithm>

#include "engine/graph.h"
#include "engine/model.h"
#include "engine/suggest.h"

namespace runbook {

namespace {

std::string Join(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::string StepSelection::Describe() const {
  std::string out;
  if (!only.empty()) out += "--only " + Join(only);
  if (!from.empty()) out += std::string(out.empty() ? "" : " ") + "--from " + from;
  if (!rerun.empty()) out += std::string(out.empty() ? "" : " ") + "--rerun " + Join(rerun);
  return out;
}

std::vector<std::string> SplitStepIds(const std::string& list) {
  std::vector<std::string> ids;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    if (comma > start) ids.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return ids;
}

Status CheckSelection(const Runbook& rb, const StepSelection& selection) {
  if (!selection.only.empty() && !selection.from.empty()) {
    return Status::Error("--only and --from exclude each other");
  }
  std::vector<std::string> steps, finally;
  for (const Step& s : rb.steps) steps.push_back(s.id);
  for (const Step& s : rb.finally) finally.push_back(s.id);
  auto check = [&](const char* option, const std::string& id) -> Status {
    if (Contains(steps, id)) return Status::Ok();
    if (Contains(finally, id)) {
      return Status::Error(std::string(option) + " " + id + ": '" + id +
                           "' is a finally step; finally steps run after every run (their needs "
                           "decide), they are not chosen");
    }
    return Status::Error(std::string(option) + " " + id + ": runbook '" + rb.name +
                         "' has no step '" + id + "'" + DidYouMean(id, steps));
  };
  for (const std::string& id : selection.only) {
    if (Status st = check("--only", id); !st.ok()) return st;
  }
  if (!selection.from.empty()) {
    if (Status st = check("--from", selection.from); !st.ok()) return st;
  }
  for (const std::string& id : selection.rerun) {
    if (Status st = check("--rerun", id); !st.ok()) return st;
  }
  return Status::Ok();
}

std::vector<bool> SelectedSteps(const Runbook& rb, const Graph& graph,
                                const StepSelection& selection) {
  const size_t n = rb.steps.size();
  std::vector<bool> selected(n, selection.only.empty() && selection.from.empty());
  if (!selection.from.empty()) {
    bool reached = false;
    for (int i : graph.order) {
      reached = reached || rb.steps[i].id == selection.from;
      selected[i] = reached;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (Contains(selection.only, rb.steps[i].id) || Contains(selection.rerun, rb.steps[i].id)) {
      selected[i] = true;
    }
  }
  return selected;
}

std::string LeftOutNeedText(const std::string& step, const std::string& need) {
  return "step '" + step + "' needs '" + need +
         "', which is not selected and has not succeeded in this run: it runs anyway";
}

}  // namespace runbook
