#include "engine/validate.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/graph.h"
#include "engine/suggest.h"
#include "engine/template.h"

namespace runbook {

namespace {

// Where a text field sits, which decides what its `${{ }}` may use.
enum class Field {
  kPlain,          // any reference
  kRunCommand,     // a `run` command line: no secrets
  kGuardCommand,   // a `command` guard's command: no secrets
  kVerifyCommand,  // a backup_fresh `verify` command: no secrets
  kUser,           // no secrets (visible in the process list)
  kCwd,            // no secrets
  kConninfo,       // a database's conninfo: params and env only
  kPassword,       // a database's password: params, env and secrets
};

struct StepPos {
  bool in_finally = false;
  int index = 0;  // into rb.steps or rb.finally
};

template <class T>
std::vector<std::string> NamesOf(const std::vector<T>& items) {
  std::vector<std::string> names;
  names.reserve(items.size());
  for (const T& item : items) names.push_back(item.name);
  return names;
}

std::string LineCol(const Location& loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

class Validator {
 public:
  Validator(const Runbook& rb, Diagnostics* diags, Graph* graph)
      : rb_(rb), diags_(diags), graph_out_(graph) {}

  void Run() {
    param_names_ = NamesOf(rb_.params);
    secret_names_ = NamesOf(rb_.secrets);
    host_names_ = NamesOf(rb_.hosts);
    db_names_ = NamesOf(rb_.databases);
    IndexSteps();
    BuildDeps();

    CheckHost(rb_.defaults.host);
    for (const Database& db : rb_.databases) CheckDatabase(db);
    for (int i = 0; i < static_cast<int>(rb_.steps.size()); ++i)
      CheckStep(rb_.steps[i], {false, i});
    for (int i = 0; i < static_cast<int>(rb_.finally.size()); ++i) {
      CheckStep(rb_.finally[i], {true, i});
    }
    Result<Graph> graph = BuildGraph(rb_, deps_, diags_);  // reports cycles
    if (graph_out_ && graph.ok()) *graph_out_ = std::move(graph.value());
  }

 private:
  // ---- steps and needs ----------------------------------------------------------------------

  void IndexSteps() {
    for (const auto* list : {&rb_.steps, &rb_.finally}) {
      const bool in_finally = list == &rb_.finally;
      for (int i = 0; i < static_cast<int>(list->size()); ++i) {
        const Step& s = (*list)[i];
        auto [first, added] = by_id_.emplace(s.id, positions_.size());
        if (!added) {
          diags_->Error(s.loc, "duplicate step id '" + s.id + "' (first at " +
                                   LineCol(StepAt(positions_[first->second]).loc) + ")");
          continue;
        }
        positions_.push_back(StepPos{in_finally, i});
      }
    }
  }

  // The ids of all steps (or only of copy_rows steps), for suggestions: made when an error
  // needs them, not for every runbook.
  const std::vector<std::string>& StepIds(bool copy_rows_only) {
    std::optional<std::vector<std::string>>& ids = copy_rows_only ? copy_ids_ : step_ids_;
    if (!ids) {
      ids.emplace();
      for (const StepPos& p : positions_) {
        const Step& s = StepAt(p);
        if (!copy_rows_only || std::holds_alternative<CopyRowsStep>(s.kind)) ids->push_back(s.id);
      }
    }
    return *ids;
  }

  const Step& StepAt(StepPos p) const {
    return p.in_finally ? rb_.finally[p.index] : rb_.steps[p.index];
  }

  const StepPos* FindStep(std::string_view id) const {
    auto at = by_id_.find(id);
    return at == by_id_.end() ? nullptr : &positions_[at->second];
  }

  // The needs of `steps` as indices, for the graph and for Needs (problems are reported by
  // CheckNeeds).
  void BuildDeps() {
    deps_.resize(rb_.steps.size());
    for (size_t i = 0; i < rb_.steps.size(); ++i) {
      for (const NameRef& need : rb_.steps[i].needs) {
        const StepPos* target = FindStep(need.name);
        if (target && !target->in_finally) deps_[i].push_back(target->index);
      }
    }
    seen_.assign(rb_.steps.size(), 0);
  }

  // Whether step `from` (of `steps`) needs step `to` (of `steps`), directly or not.
  bool Needs(int from, int to) {
    for (int d : deps_[from]) {
      if (d == to) return true;
    }
    ++stamp_;
    std::vector<int> stack(deps_[from].begin(), deps_[from].end());
    while (!stack.empty()) {
      int v = stack.back();
      stack.pop_back();
      if (v == to) return true;
      if (seen_[v] == stamp_) continue;
      seen_[v] = stamp_;
      stack.insert(stack.end(), deps_[v].begin(), deps_[v].end());
    }
    return false;
  }

  // Reports `message` at `loc` unless the step at `at` surely runs after `target` has finished:
  // `target` is among its needs, directly or not; for a finally step, `target` is a step or an
  // earlier finally step.
  void RequireRunsAfter(StepPos at, StepPos target, const Location& loc, std::string message) {
    bool ok;
    if (at.in_finally) {
      ok = !target.in_finally || target.index < at.index;
    } else {
      ok = !target.in_finally && Needs(at.index, target.index);
    }
    if (!ok) diags_->Error(loc, std::move(message));
  }

  void CheckNeeds(const Step& s, StepPos pos) {
    std::unordered_set<std::string_view> seen;
    for (const NameRef& need : s.needs) {
      if (!seen.insert(need.name).second) {
        diags_->Error(need.loc, "'" + need.name + "' is listed twice in needs");
        continue;
      }
      const StepPos* target = FindStep(need.name);
      if (target == nullptr) {
        diags_->Error(need.loc, "needs unknown step '" + need.name + "'" +
                                    DidYouMean(need.name, StepIds(false)));
      } else if (!pos.in_finally && target->in_finally) {
        diags_->Error(need.loc, "step '" + s.id + "' needs '" + need.name +
                                    "', a finally step: finally steps run after all steps");
      } else if (pos.in_finally && target->in_finally && target->index == pos.index) {
        diags_->Error(need.loc, "step '" + s.id + "' needs itself");
      } else if (pos.in_finally && target->in_finally && target->index > pos.index) {
        diags_->Error(need.loc, "finally step '" + s.id + "' needs '" + need.name +
                                    "', which comes after it: finally steps run in file order");
      }
      // A step needing itself among `steps` is a cycle: BuildGraph reports it.
    }
  }

  // ---- hosts and databases ------------------------------------------------------------------

  void CheckHost(const NameRef& host) {
    if (rb_.FindHost(host.name) == nullptr) {
      diags_->Error(host.loc,
                    "unknown host '" + host.name + "'" + DidYouMean(host.name, host_names_));
    }
  }

  void CheckDb(const NameRef& db) {
    if (rb_.FindDatabase(db.name) == nullptr) {
      diags_->Error(db.loc, "unknown database '" + db.name + "'" + DidYouMean(db.name, db_names_));
    }
  }

  void CheckDatabase(const Database& db) {
    if (db.tunnel) {
      CheckHost(*db.tunnel);
      const Host* host = rb_.FindHost(db.tunnel->name);
      if (host != nullptr && !host->local && !host->multiplex) {
        diags_->Error(db.tunnel->loc, "database '" + db.name + "' tunnels through host '" +
                                          host->name +
                                          "', which has multiplex: false: a tunnel is forwarded "
                                          "over the host's master connection");
      }
    }
    CheckText(db.conninfo, nullptr, {}, Field::kConninfo);
    if (db.password) CheckText(*db.password, nullptr, {}, Field::kPassword);
  }

  // ---- templates ----------------------------------------------------------------------------

  // `step` is null for a database's fields.
  void CheckText(const Text& text, const Step* step, StepPos pos, Field field) {
    if (!text.HasTemplate()) return;
    for (const TemplateRef& ref : CollectRefs(text, diags_)) CheckRef(ref, step, pos, field);
  }

  void CheckTexts(const std::vector<Text>& texts, const Step* step, StepPos pos, Field field) {
    for (const Text& t : texts) CheckText(t, step, pos, field);
  }

  void CheckOptText(const std::optional<Text>& text, const Step* step, StepPos pos,
                    Field field = Field::kPlain) {
    if (text) CheckText(*text, step, pos, field);
  }

  void CheckRef(const TemplateRef& ref, const Step* step, StepPos pos, Field field) {
    // For messages only: most references are fine, and are not copied.
    auto name = [&] { return std::string(ref.name); };
    auto expr = [&] { return std::string(ref.expr); };
    const bool db_field = field == Field::kConninfo || field == Field::kPassword;
    switch (ref.kind) {
      case TemplateRef::Kind::kParam:
        if (rb_.FindParam(ref.name) == nullptr) {
          diags_->Error(ref.loc, "unknown param '" + name() + "' in " + expr() +
                                     DidYouMean(ref.name, param_names_));
        }
        return;
      case TemplateRef::Kind::kSecret:
        if (rb_.FindSecret(ref.name) == nullptr) {
          diags_->Error(ref.loc, "unknown secret '" + name() + "' in " + expr() +
                                     DidYouMean(ref.name, secret_names_));
          return;
        }
        CheckSecretPlace(ref, field);
        return;
      case TemplateRef::Kind::kEnv:
        return;
      case TemplateRef::Kind::kRun:
      case TemplateRef::Kind::kStep:
      case TemplateRef::Kind::kDatabase:
        if (db_field) {
          diags_->Error(ref.loc, expr() +
                                     " cannot be used in a database's fields (they may use "
                                     "params, env and, in password, secrets)");
          return;
        }
        break;
    }
    if (ref.kind == TemplateRef::Kind::kDatabase) {
      if (rb_.FindDatabase(ref.name) == nullptr) {
        diags_->Error(ref.loc, "unknown database '" + name() + "' in " + expr() +
                                   DidYouMean(ref.name, db_names_));
      }
    } else if (ref.kind == TemplateRef::Kind::kStep) {
      const StepPos* target = FindStep(ref.name);
      if (target == nullptr) {
        diags_->Error(ref.loc, "unknown step '" + name() + "' in " + expr() +
                                   DidYouMean(ref.name, StepIds(false)));
      } else {
        RequireRunsAfter(pos, *target, ref.loc,
                         "step '" + step->id + "' uses steps." + name() +
                             ".outcome but does not need " + name());
      }
    }
  }

  void CheckSecretPlace(const TemplateRef& ref, Field field) {
    const std::string name(ref.name);
    const std::string secret = "secret '" + name + "' in ";
    const std::string via_env = ": pass it through env, e.g. env: {PGPASSWORD: ...}";
    switch (field) {
      case Field::kRunCommand:
        diags_->Error(ref.loc, secret + "a run command line" + via_env);
        break;
      case Field::kGuardCommand:
        diags_->Error(ref.loc, secret + "a command guard's command line" + via_env);
        break;
      case Field::kVerifyCommand:
        diags_->Error(ref.loc, secret + "a backup_fresh verify command line" + via_env);
        break;
      case Field::kUser:
        diags_->Error(ref.loc, secret + "user: it would show in the process list");
        break;
      case Field::kCwd:
        diags_->Error(ref.loc, secret + "cwd: it would show in the process list");
        break;
      case Field::kConninfo:
        diags_->Error(ref.loc, secret +
                                   "a conninfo, which is shown and passed on: put it in "
                                   "password, e.g. password: \"${{ secrets." +
                                   name + " }}\"");
        break;
      case Field::kPlain:
      case Field::kPassword:
        break;
    }
  }

  // ---- steps --------------------------------------------------------------------------------

  void CheckCommand(const Command& c, const Step* step, StepPos pos, Field field) {
    CheckTexts(c.words, step, pos, field);
  }

  void CheckGuards(const std::vector<Guard>& guards, const Step& s, StepPos pos) {
    for (const Guard& g : guards) {
      std::visit(
          [&](const auto& k) {
            using K = std::decay_t<decltype(k)>;
            if constexpr (std::is_same_v<K, PostgresIdleGuard>) {
              CheckDb(k.db);
            } else if constexpr (std::is_same_v<K, MigrationsAppliedGuard>) {
              CheckDb(k.db);
              if (k.django) {
                CheckText(k.django->manage, &s, pos, Field::kPlain);
                CheckOptText(k.django->python, &s, pos);
              }
              CheckOptText(k.migrations_dir, &s, pos);
            } else if constexpr (std::is_same_v<K, BackupFreshGuard>) {
              CheckText(k.path, &s, pos, Field::kPlain);
              CheckOptText(k.max_age, &s, pos);
              CheckOptText(k.min_size, &s, pos);
              if (k.verify) CheckCommand(*k.verify, &s, pos, Field::kVerifyCommand);
              if (k.host) CheckHost(*k.host);
            } else if constexpr (std::is_same_v<K, SqlGuard>) {
              CheckDb(k.db);
              CheckText(k.query, &s, pos, Field::kPlain);
              CheckSqlTemplate(k.query, diags_);
              CheckOptText(k.expect, &s, pos);
            } else if constexpr (std::is_same_v<K, CommandGuard>) {
              CheckCommand(k.command, &s, pos, Field::kGuardCommand);
              if (k.host) CheckHost(*k.host);
            }
          },
          g.kind);
    }
  }

  void CheckMatch(const CopyMatch& m, const Step& s, StepPos pos) {
    const StepPos* target = FindStep(m.step.name);
    if (target == nullptr) {
      diags_->Error(m.step.loc, "match names unknown step '" + m.step.name + "'" +
                                    DidYouMean(m.step.name, StepIds(true)));
      return;
    }
    const Step& t = StepAt(*target);
    if (!std::holds_alternative<CopyRowsStep>(t.kind)) {
      diags_->Error(m.step.loc, "match names step '" + t.id + "', a " + StepKindName(t.kind) +
                                    " step: it must be a copy_rows step");
    } else if (target->in_finally == pos.in_finally && target->index == pos.index) {
      diags_->Error(m.step.loc,
                    "match names the step itself: it must be an earlier copy_rows step");
    } else {
      RequireRunsAfter(pos, *target, m.step.loc,
                       "match step '" + t.id + "' must run before '" + s.id + "': add it to needs");
    }
  }

  void CheckKind(const Step& s, StepPos pos) {
    std::visit(
        [&](const auto& k) {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, RunStep>) {
            CheckCommand(k.command, &s, pos, Field::kRunCommand);
          } else if constexpr (std::is_same_v<K, SqlStep>) {
            CheckDb(k.db);
            if (k.query.has_value() == k.file.has_value()) {
              diags_->Error(s.kind_loc, "sql needs exactly one of query and file");
            }
            if (k.query) {
              CheckText(*k.query, &s, pos, Field::kPlain);
              CheckSqlTemplate(*k.query, diags_);
            }
            CheckOptText(k.file, &s, pos);
            CheckOptText(k.expect, &s, pos);
          } else if constexpr (std::is_same_v<K, CopyRowsStep>) {
            CheckDb(k.from);
            CheckDb(k.to);
            CheckText(k.table, &s, pos, Field::kPlain);
            CheckTexts(k.columns, &s, pos, Field::kPlain);
            CheckOptText(k.where, &s, pos);
            CheckOptText(k.order_by, &s, pos);
            CheckOptText(k.every, &s, pos);
            CheckOptText(k.limit, &s, pos);
            if (k.match) CheckMatch(*k.match, s, pos);
          } else if constexpr (std::is_same_v<K, CancelQueriesStep>) {
            CheckDb(k.db);
            CheckOptText(k.older_than, &s, pos);
            CheckOptText(k.application_name, &s, pos);
          } else if constexpr (std::is_same_v<K, ManualStep>) {
            CheckText(k.text, &s, pos, Field::kPlain);
          }
        },
        s.kind);
  }

  void CheckStep(const Step& s, StepPos pos) {
    CheckNeeds(s, pos);
    if (s.host) CheckHost(*s.host);
    if (s.if_expr) {
      for (const TemplateRef& ref : CollectConditionRefs(*s.if_expr, diags_)) {
        CheckRef(ref, &s, pos, Field::kPlain);
      }
    }
    CheckOptText(s.user, &s, pos, Field::kUser);
    CheckOptText(s.cwd, &s, pos, Field::kCwd);
    for (const auto& [name, value] : s.env) CheckText(value, &s, pos, Field::kPlain);
    CheckOptText(s.confirm, &s, pos);
    CheckKind(s, pos);
    CheckGuards(s.guards, s, pos);
    CheckGuards(s.done_when, s, pos);
    CheckGuards(s.verify, s, pos);
  }

  const Runbook& rb_;
  Diagnostics* diags_;
  Graph* graph_out_;
  std::unordered_map<std::string_view, size_t> by_id_;  // id -> index into positions_
  std::vector<StepPos> positions_;                      // first occurrence of each id
  std::optional<std::vector<std::string>> step_ids_, copy_ids_;
  std::vector<std::string> param_names_, secret_names_, host_names_, db_names_;
  std::vector<std::vector<int>> deps_;  // of rb.steps
  std::vector<int> seen_;               // by Needs: the search that saw each step last
  int stamp_ = 0;
};

}  // namespace

void ValidateRunbook(const Runbook& rb, Diagnostics* diags, Graph* graph) {
  Validator(rb, diags, graph).Run();
}

}  // namespace runbook
