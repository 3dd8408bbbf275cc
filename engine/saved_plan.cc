#include "engine/saved_plan.h"

#include <map>

#include "engine/params.h"

namespace runbook {

namespace {

const char* TypeName(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return "an object";
}

// Checks one field's type; `want` says in words what it must be.
class FieldChecker {
 public:
  bool Has(const nlohmann::json& obj, const std::string& where, const char* key,
           bool (nlohmann::json::*is)() const noexcept, const char* want, bool required = true) {
    if (!error_.empty()) return false;
    const std::string name = where.empty() ? key : where + "." + key;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) error_ = "field " + name + " is missing";
      return false;
    }
    return Is(*it, name, is, want);
  }
  bool Is(const nlohmann::json& v, const std::string& name,
          bool (nlohmann::json::*is)() const noexcept, const char* want) {
    if (!error_.empty()) return false;
    if (!(v.*is)()) error_ = name + " must be " + want + ", not " + TypeName(v);
    return error_.empty();
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

using J = nlohmann::json;

void CheckIds(const J& obj, const std::string& where, const char* key, FieldChecker* c) {
  if (!c->Has(obj, where, key, &J::is_array, "a list", false)) return;
  const J& ids = obj[key];
  for (size_t i = 0; i < ids.size(); ++i) {
    c->Is(ids[i], where + "." + key + "[" + std::to_string(i) + "]", &J::is_string, "a string");
  }
}

void CheckSelection(const J& saved, FieldChecker* c) {
  if (!c->Has(saved, "", "selection", &J::is_object, "an object", false)) return;
  const J& selection = saved["selection"];
  CheckIds(selection, "selection", "only", c);
  CheckIds(selection, "selection", "rerun", c);
  if (selection.contains("from") && !selection["from"].is_null()) {
    c->Has(selection, "selection", "from", &J::is_string, "a string or null");
  }
}

void CheckStep(const J& step, const std::string& name, FieldChecker* c) {
  if (!c->Is(step, name, &J::is_object, "an object")) return;
  c->Has(step, name, "id", &J::is_string, "a string");
  c->Has(step, name, "hash", &J::is_string, "a string", false);
  c->Has(step, name, "definition", &J::is_object, "an object", false);
  if (!c->Has(step, name, "guards", &J::is_array, "a list", false)) return;
  const J& guards = step["guards"];
  for (size_t i = 0; i < guards.size(); ++i) {
    const std::string g = name + ".guards[" + std::to_string(i) + "]";
    if (!c->Is(guards[i], g, &J::is_object, "an object")) return;
    for (const char* key : {"phase", "kind", "summary"}) {
      c->Has(guards[i], g, key, &J::is_string, "a string", false);
    }
    c->Has(guards[i], g, "evaluated", &J::is_boolean, "true or false", false);
  }
}

}  // namespace

Status CheckSavedPlan(const J& saved) {
  FieldChecker c;
  if (!c.Is(saved, "the plan", &J::is_object, "an object")) return Status::Error(c.error());
  if (c.Has(saved, "", "format", &J::is_number_integer, "an integer") && saved["format"] != 1) {
    return Status::Error("format " + saved["format"].dump() +
                         " is not a plan format this "
                         "runbook reads (1)");
  }
  c.Has(saved, "", "file_hash", &J::is_string, "a string");
  c.Has(saved, "", "path", &J::is_string, "a string");
  if (c.Has(saved, "", "params", &J::is_object, "an object")) {
    for (const auto& [k, v] : saved["params"].items()) {
      if (v.is_object() || v.is_array()) {
        c.Is(v, "params." + k, &J::is_primitive, "a single value");
      }
    }
  }
  if (c.Has(saved, "", "inventories", &J::is_array, "a list")) {
    const J& inv = saved["inventories"];
    for (size_t i = 0; i < inv.size(); ++i) {
      c.Is(inv[i], "inventories[" + std::to_string(i) + "]", &J::is_string, "a string");
    }
  }
  if (c.Has(saved, "", "sets", &J::is_array, "a list")) {
    const J& sets = saved["sets"];
    for (size_t i = 0; i < sets.size(); ++i) {
      const std::string name = "sets[" + std::to_string(i) + "]";
      if (!c.Is(sets[i], name, &J::is_array, "a [NAME, VALUE] pair")) break;
      if (sets[i].size() != 2 || !sets[i][0].is_string() || !sets[i][1].is_string()) {
        return Status::Error(name + " must be a [NAME, VALUE] pair of strings");
      }
    }
  }
  CheckSelection(saved, &c);
  if (c.Has(saved, "", "steps", &J::is_array, "a list")) {
    const J& steps = saved["steps"];
    for (size_t i = 0; i < steps.size(); ++i) {
      CheckStep(steps[i], "steps[" + std::to_string(i) + "]", &c);
    }
  }
  return c.error().empty() ? Status::Ok() : Status::Error(c.error());
}

StepSelection SavedSelection(const J& saved) {
  StepSelection selection;
  if (!saved.contains("selection")) return selection;
  const J& s = saved["selection"];
  if (s.contains("only")) selection.only = s["only"].get<std::vector<std::string>>();
  if (s.contains("from") && s["from"].is_string()) selection.from = s["from"].get<std::string>();
  if (s.contains("rerun")) selection.rerun = s["rerun"].get<std::vector<std::string>>();
  return selection;
}

std::vector<std::string> ComparePlans(const nlohmann::json& saved, const nlohmann::json& now) {
  std::vector<std::string> diffs;
  const std::string chosen = SavedSelection(saved).Describe();
  const std::string chosen_now = SavedSelection(now).Describe();
  if (chosen != chosen_now) {
    diffs.push_back("the steps chosen: " + (chosen.empty() ? "every step" : chosen) +
                    " in the plan, " + (chosen_now.empty() ? "every step" : chosen_now) + " now");
  }
  if (saved.value("file_hash", "") != now.value("file_hash", "")) {
    diffs.push_back("the runbook file " + now.value("path", "") +
                    " changed since the plan was made");
  }
  const auto& sp = saved["params"];
  const auto& np = now["params"];
  for (const auto& [k, v] : sp.items()) {
    if (!np.contains(k)) {
      diffs.push_back("param '" + k + "' is gone");
    } else if (ParamText(np[k]) != ParamText(v)) {
      diffs.push_back("param '" + k + "': " + v.dump() + " in the plan, " + np[k].dump() + " now");
    }
  }
  for (const auto& [k, v] : np.items()) {
    if (!sp.contains(k)) diffs.push_back("param '" + k + "' is new: " + v.dump());
  }
  std::map<std::string, nlohmann::json> saved_steps, now_steps;
  for (const auto& s : saved["steps"]) saved_steps[s.value("id", "")] = s;
  for (const auto& s : now["steps"]) now_steps[s.value("id", "")] = s;
  for (const auto& [id, s] : saved_steps) {
    auto it = now_steps.find(id);
    if (it == now_steps.end()) {
      diffs.push_back("step '" + id + "' is no longer in the runbook");
      continue;
    }
    if (s.value("hash", "") != it->second.value("hash", "")) {
      std::string d = "step '" + id + "' resolves differently:";
      const J none = J::object();
      const J& a = s.contains("definition") ? s["definition"] : none;
      const J& b = it->second.contains("definition") ? it->second["definition"] : none;
      for (const auto& [k, v] : a.items()) {
        if (!b.contains(k) || b[k] != v) {
          d += " " + k + " was " + v.dump() + ", now " + (b.contains(k) ? b[k].dump() : "unset") +
               ";";
        }
      }
      for (const auto& [k, v] : b.items()) {
        if (!a.contains(k)) d += " " + k + " is new: " + v.dump() + ";";
      }
      diffs.push_back(d);
    }
  }
  for (const auto& [id, s] : now_steps) {
    if (!saved_steps.count(id)) diffs.push_back("step '" + id + "' is new since the plan");
  }
  return diffs;
}

}  // namespace runbook
