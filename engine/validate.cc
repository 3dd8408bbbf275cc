#include "engine/validate.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/graph.h"
#include "engine/step_kind.h"
#include "engine/suggest.h"
#include "engine/template.h"

namespace runbook {

namespace {

// Where a text field sits, which decides what its `${{ }}` may use.
enum class Field {
  kPlain,        // any reference
  kCommandLine,  // no secrets (visible in the process list)
  kUser,         // no secrets (visible in the process list)
  kCwd,          // no secrets
  kConninfo,     // a database's conninfo: params and env only
  kPassword,     // a database's password: params, env and secrets
  kStatement,    // becomes a statement's text (pg_stat_activity, the server's log): no secrets
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
    if (rb_.downtime) CheckDowntime(*rb_.downtime);
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
          const Location& at = StepAt(positions_[first->second]).loc;
          if (at.line == s.loc.line && at.col == s.loc.col) {
            // The same text twice: a YAML alias (*name) repeated an anchored step or list.
            diags_->Error(s.loc, "duplicate step id '" + s.id +
                                     "': an alias (*name) repeats this step; a step is listed "
                                     "once, so copy it under its own id instead");
          } else {
            diags_->Error(s.loc, "duplicate step id '" + s.id + "' (first at " + LineCol(at) + ")");
          }
          continue;
        }
        positions_.push_back(StepPos{in_finally, i});
      }
    }
  }

  // The ids of all steps, for suggestions.
  std::vector<std::string> StepIds() const {
    std::vector<std::string> ids;
    for (const StepPos& p : positions_) ids.push_back(StepAt(p).id);
    return ids;
  }

  const Step& StepAt(StepPos p) const {
    return p.in_finally ? rb_.finally[p.index] : rb_.steps[p.index];
  }

  StepPos PosOf(const Step& step) const {
    const bool in_finally = step.in_finally;
    const Step* first = in_finally ? rb_.finally.data() : rb_.steps.data();
    return {in_finally, static_cast<int>(&step - first)};
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
        diags_->Error(need.loc,
                      "needs unknown step '" + need.name + "'" + DidYouMean(need.name, StepIds()));
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

  // `from` and `to` name steps, and `to` surely ends after `from` starts, whatever --jobs runs
  // together: it is `from`, or needs it (directly or not), or is a later finally step.
  void CheckDowntime(const DowntimeWindow& w) {
    const StepPos* from = FindStep(w.from.name);
    const StepPos* to = FindStep(w.to.name);
    for (const NameRef* ref : {&w.from, &w.to}) {
      if (FindStep(ref->name) == nullptr) {
        diags_->Error(ref->loc, "downtime names unknown step '" + ref->name + "'" +
                                    DidYouMean(ref->name, StepIds()));
      }
    }
    if (!from || !to || w.from.name == w.to.name) return;
    RequireRunsAfter(*to, *from, w.to.loc,
                     "downtime ends with '" + w.to.name + "', which may run before '" +
                         w.from.name + "' starts it: 'to' must be 'from', a step that needs it " +
                         "(directly or not), or a finally step after it");
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
  // `where` names the field in messages (Field::kCommandLine, Field::kStatement).
  void CheckText(const Text& text, const Step* step, StepPos pos, Field field,
                 std::string_view where = {}) {
    if (!text.HasTemplate()) return;
    for (const TemplateRef& ref : CollectRefs(text, diags_)) {
      CheckRef(ref, step, pos, field, where);
    }
  }

  void CheckOptText(const std::optional<Text>& text, const Step* step, StepPos pos,
                    Field field = Field::kPlain) {
    if (text) CheckText(*text, step, pos, field);
  }

  void CheckRef(const TemplateRef& ref, const Step* step, StepPos pos, Field field,
                std::string_view where = {}) {
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
        CheckSecretPlace(ref, field, where, "secret '" + name() + "'");
        return;
      case TemplateRef::Kind::kEnv:
        // The variable a secret is read from holds that secret.
        if (std::any_of(rb_.secrets.begin(), rb_.secrets.end(), [&](const Secret& sec) {
              return sec.source == Secret::Source::kEnv && sec.ref == ref.name;
            })) {
          CheckSecretPlace(ref, field, where,
                           "environment variable '" + name() + "' (a secret's source)");
        }
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
                                   DidYouMean(ref.name, StepIds()));
      } else {
        RequireRunsAfter(pos, *target, ref.loc,
                         "step '" + step->id + "' uses steps." + name() +
                             ".outcome but does not need " + name());
      }
    }
  }

  void CheckSecretPlace(const TemplateRef& ref, Field field, std::string_view where,
                        const std::string& what) {
    const std::string name(ref.name);
    const std::string secret = what + " in ";
    const std::string via_env = ": pass it through env, e.g. env: {PGPASSWORD: ...}";
    switch (field) {
      case Field::kCommandLine:
        diags_->Error(ref.loc, secret + std::string(where) + via_env);
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
      case Field::kStatement:
        diags_->Error(ref.loc, secret + std::string(where) +
                                   ": its fields become the statement's text (seen in "
                                   "pg_stat_activity and the server's log); filter on a value "
                                   "the servers can see without it");
        break;
      case Field::kPlain:
      case Field::kPassword:
        break;
    }
  }

  // ---- steps ----------------------------------------------------------------------------------

  // A value spliced into shell text could become code whatever the quoting (the shell's syntax
  // has too many contexts to quote for), so every `${{` there is refused, with the fix. `what`
  // names the command ("a run command").
  void RefuseShellTemplates(const Text& script, std::string_view what) {
    for (size_t at = script.raw.find("${{"); at != std::string::npos;
         at = script.raw.find("${{", at + 3)) {
      const size_t close = script.raw.find("}}", at + 3);
      const std::string expr =
          script.raw.substr(at, close == std::string::npos ? std::string::npos : close + 2 - at);
      std::string message = expr + " in the shell text of " + std::string(what) +
                            ": a value never becomes shell code. ";
      // env.X too: the command may run on another host, whose environment is not this one's.
      std::string var = EnvVarFor(expr);
      if (var.empty()) var = "NAME";
      message += "Pass it through the step's env (env: {" + var + ": \"" + expr +
                 "\"}) and write \"$" + var +
                 "\" in the command, or use the argv form ([PROGRAM, ARG, ...]: each element is "
                 "one argument, no shell)";
      const Location loc = LocationIn(script, at);
      if (script.raw_col == 0 && script.raw.find('\n') != std::string::npos) {
        message +=
            " (line " +
            std::to_string(1 + std::count(script.raw.begin(), script.raw.begin() + at, '\n')) +
            " of the script)";
      }
      diags_->Error(loc, message);
    }
  }

  // For `${{ KIND.NAME[.FIELD] }}`: the environment variable the value would travel in (NAME as
  // written for env, else NAME_FIELD upper case with '-' as '_'); "" for anything else (a
  // condition, a literal).
  static std::string EnvVarFor(std::string_view expr) {
    std::string_view e = expr;
    if (e.size() < 5 || e.substr(0, 3) != "${{" || e.substr(e.size() - 2) != "}}") return "";
    e = e.substr(3, e.size() - 5);
    while (!e.empty() && e.front() == ' ') e.remove_prefix(1);
    while (!e.empty() && e.back() == ' ') e.remove_suffix(1);
    const size_t dot = e.find('.');
    if (dot == std::string_view::npos) return "";
    const bool env = e.substr(0, dot) == "env";
    std::string var;
    for (char c : e.substr(dot + 1)) {
      if (env && (std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
        var += c;
      } else if (std::isalnum(static_cast<unsigned char>(c))) {
        var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      } else if (c == '-' || c == '_' || c == '.') {
        var += '_';
      } else {
        return "";
      }
    }
    if (var.empty() || std::isdigit(static_cast<unsigned char>(var[0]))) return "";
    return var;
  }

  // What the kinds of one step and of its guards check through.
  class StepCheck final : public KindCheck {
   public:
    StepCheck(Validator& v, const Step& step, StepPos pos) : v_(v), step_(step), pos_(pos) {}
    using KindCheck::Statement;
    using KindCheck::Template;
    const Runbook& runbook() const override { return v_.rb_; }
    const Step& step() const override { return step_; }
    void Template(const Text& text) override { v_.CheckText(text, &step_, pos_, Field::kPlain); }
    void CommandLine(const Command& command, std::string_view what) override {
      if (command.shell) {
        v_.RefuseShellTemplates(command.words.at(0), what);
        return;
      }
      // Each word is one argument: values are data there, but visible in the process list.
      const std::string where = std::string(what) + " line";
      for (const Text& word : command.words) {
        v_.CheckText(word, &step_, pos_, Field::kCommandLine, where);
      }
    }
    void Sql(const Text& query) override {
      Template(query);
      CheckSqlTemplate(query, v_.diags_);
    }
    void Database(const NameRef& db) override { v_.CheckDb(db); }
    void Host(const NameRef& host) override { v_.CheckHost(host); }
    void RunsAfter(const Step& target, const Location& loc, std::string message) override {
      v_.RequireRunsAfter(pos_, v_.PosOf(target), loc, std::move(message));
    }
    void Error(const Location& loc, std::string message) override {
      v_.diags_->Error(loc, std::move(message));
    }

    void Statement(const Text& text, std::string_view where) override {
      v_.CheckText(text, &step_, pos_, Field::kStatement, where);
    }

   private:
    Validator& v_;
    const Step& step_;
    StepPos pos_;
  };

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
    if (s.on_interrupt_loc && !pos.in_finally) {
      diags_->Error(*s.on_interrupt_loc,
                    "'on_interrupt' is for finally steps: Ctrl-C stops the steps of 'steps' "
                    "(step '" +
                        s.id + "')");
    }
    StepCheck check(*this, s, pos);
    s.kind->Check(check);
    for (const auto* guards : {&s.guards, &s.done_when, &s.verify}) {
      for (const Guard& g : *guards) g.kind->Check(check);
    }
  }

  const Runbook& rb_;
  Diagnostics* diags_;
  Graph* graph_out_;
  std::unordered_map<std::string_view, size_t> by_id_;  // id -> index into positions_
  std::vector<StepPos> positions_;                      // first occurrence of each id
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
