#include "engine/resume_changes.h"

#include <algorithm>

namespace runbook {
namespace {

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool Finished(const StepState& s) {
  return s.status == StepStatus::kSucceeded || s.status == StepStatus::kDone;
}

std::string List(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (const std::string& id : ids) out += (out.size() > 1 ? ", " : "") + id;
  return out + "]";
}

}  // namespace

ResumeChanges CompareWithRun(const RunState& run, const std::vector<StepShape>& now) {
  ResumeChanges changes;
  std::vector<std::string> now_ids;
  for (const StepShape& s : now) now_ids.push_back(s.id);
  std::vector<std::string> gone;  // steps of the run no longer in the runbook (finally last)
  for (const auto* ids : {&run.step_ids, &run.finally_ids}) {
    for (const std::string& id : *ids) {
      if (!Contains(now_ids, id)) gone.push_back(id);
    }
  }
  for (const StepShape& s : now) {
    if (Contains(run.step_ids, s.id) || Contains(run.finally_ids, s.id)) {
      auto needs = run.step_needs.find(s.id);
      if (needs != run.step_needs.end() && needs->second != s.needs) {
        changes.needs_changed.push_back(s.id);
      }
      continue;
    }
    // A finished step of the run, gone from the runbook, with this very definition.
    auto same = std::find_if(gone.begin(), gone.end(), [&](const std::string& old) {
      auto it = run.steps.find(old);
      return !s.in_finally && !s.hash.empty() && Contains(run.step_ids, old) &&
             it != run.steps.end() && Finished(it->second) && it->second.hash == s.hash;
    });
    if (same != gone.end()) {
      changes.renamed.emplace_back(*same, s.id);
      gone.erase(same);
    } else {
      changes.added.push_back(s.id);
    }
  }
  changes.removed = gone;
  return changes;
}

std::vector<std::string> DescribeChanges(const ResumeChanges& changes, const RunState& run,
                                         const std::vector<StepShape>& now) {
  std::vector<std::string> lines;
  for (const auto& [old_id, new_id] : changes.renamed) {
    lines.push_back("renamed: " + old_id + " -> " + new_id +
                    " (same definition, finished: not run again)");
  }
  for (const std::string& id : changes.added) lines.push_back("added: " + id);
  for (const std::string& id : changes.removed) {
    auto it = run.steps.find(id);
    const std::string was = it == run.steps.end() ? "pending" : StepStatusName(it->second.status);
    lines.push_back("removed: " + id + " (" + was + " in this run)");
  }
  for (const std::string& id : changes.needs_changed) {
    auto shape =
        std::find_if(now.begin(), now.end(), [&](const StepShape& s) { return s.id == id; });
    lines.push_back("needs of " + id + ": " + List(run.step_needs.at(id)) + " -> " +
                    List(shape->needs));
  }
  return lines;
}

}  // namespace runbook
