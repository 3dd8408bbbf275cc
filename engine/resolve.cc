#include "engine/resolve.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "engine/fnv.h"
#include "engine/shell_quote.h"

namespace runbook {

RunScope::RunScope(const Runbook* rb, const ParamValues* params, const SecretValues* secrets,
                   std::string run_id, std::string run_dir)
    : rb_(rb),
      params_(params),
      secrets_(secrets),
      run_id_(std::move(run_id)),
      run_dir_(std::move(run_dir)) {}

TemplateScope RunScope::MakeScope(const std::map<std::string, std::string>* outcomes,
                                  std::string run_id, std::string run_dir) const {
  TemplateScope scope;
  scope.params = params_;
  scope.secrets = secrets_;
  scope.env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  scope.run_id = std::move(run_id);
  scope.run_dir = std::move(run_dir);
  scope.step_outcomes = outcomes;
  const Runbook* rb = rb_;
  const ParamValues* params = params_;
  const SecretValues* secrets = secrets_;
  scope.db_conninfo = [rb, params, secrets](const std::string& name) -> std::optional<std::string> {
    const Database* db = rb->FindDatabase(name);
    if (!db) return std::nullopt;
    // A conninfo may itself use params; it never carries the password (that is `password`).
    TemplateScope inner;
    inner.params = params;
    inner.secrets = secrets;
    inner.env = [](const std::string& var) -> std::optional<std::string> {
      const char* v = std::getenv(var.c_str());
      if (!v) return std::nullopt;
      return std::string(v);
    };
    auto r = RenderText(db->conninfo, inner, Quote::kNone);
    if (!r.ok()) return std::nullopt;
    return r->value;
  };
  return scope;
}

TemplateScope RunScope::Scope(std::map<std::string, std::string>* outcomes) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    *outcomes = outcomes_;
  }
  return MakeScope(outcomes, run_id_, run_dir_);
}

TemplateScope RunScope::StableScope() const {
  TemplateScope scope = MakeScope(nullptr, "<run.id>", "<run.dir>");
  scope.outcome_placeholders = true;
  return scope;
}

void RunScope::SetOutcome(const std::string& step_id, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  outcomes_[step_id] = outcome;
}

Result<ResolvedCommand> RenderCommand(const Command& command, const TemplateScope& scope) {
  ResolvedCommand out;
  out.shell = command.shell;
  for (const Text& word : command.words) {
    auto r = RenderText(word, scope, command.shell ? Quote::kShell : Quote::kNone);
    if (!r.ok()) return Result<ResolvedCommand>::Error(r.message());
    out.words.push_back(std::move(r.value().value));
    if (!out.display.empty()) out.display += ' ';
    out.display += command.shell ? r->display : ShellQuote(r->display);
  }
  return out;
}

Result<std::vector<ResolvedEnv>> RenderEnv(const Step& step, const TemplateScope& scope,
                                           const ParamValues& params) {
  std::vector<ResolvedEnv> env;
  // Every param is exported as RUNBOOK_PARAM_<NAME>; the step's own env comes after and wins.
  for (const auto& [name, value] : params) {
    std::string var = "RUNBOOK_PARAM_";
    for (char c : name) var += (c == '-') ? '_' : static_cast<char>(std::toupper(c));
    env.push_back({var, value, value, false});
  }
  for (const auto& [name, text] : step.env) {
    auto r = RenderText(text, scope, Quote::kNone);
    if (!r.ok()) return Result<std::vector<ResolvedEnv>>::Error(r.message());
    env.push_back({name, r->value, r->display, r->used_secret});
  }
  return env;
}

namespace {

Result<std::string> Display(const Text& text, const TemplateScope& scope) {
  auto r = RenderText(text, scope, Quote::kNone);
  if (!r.ok()) return Result<std::string>::Error(r.message());
  return std::move(r.value().display);
}

// Renders fields into the definition, keeping the first error.
struct DefinitionBuilder {
  const TemplateScope& scope;
  StepDefinition& def;
  std::string error;

  void Put(const char* key, const Text& text) {
    auto r = Display(text, scope);
    if (!r.ok()) {
      if (error.empty()) error = r.message();
      return;
    }
    def.Set(key, std::move(r.value()));
  }
  void Put(const char* key, const std::optional<Text>& text) {
    if (text) Put(key, *text);
  }
  void PutCommand(const char* key, const Command& command) {
    auto r = RenderCommand(command, scope);
    if (!r.ok()) {
      if (error.empty()) error = r.message();
      return;
    }
    def.Set(key, std::move(r.value().display));
  }
};

nlohmann::json ValueJson(const StepDefinition::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* b = std::get_if<bool>(&value)) return *b;
  if (const auto* list = std::get_if<StepDefinition::Strings>(&value)) return *list;
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [k, v] : std::get<StepDefinition::StringMap>(value)) object[k] = v;
  return object;
}

}  // namespace

void StepDefinition::Set(const char* key, Value value) {
  const std::string_view k(key);
  auto it =
      std::lower_bound(members_.begin(), members_.end(), k,
                       [](const auto& member, std::string_view key) { return member.first < key; });
  if (it != members_.end() && it->first == k) {
    it->second = std::move(value);
  } else {
    members_.emplace(it, k, std::move(value));
  }
}

const StepDefinition::Value* StepDefinition::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const std::string* StepDefinition::FindString(std::string_view key) const {
  const Value* v = Find(key);
  return v ? std::get_if<std::string>(v) : nullptr;
}

nlohmann::json StepDefinition::ToJson() const {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : members_) object[std::string(key)] = ValueJson(value);
  return object;
}

std::string StepDefinition::Hash() const {
  Fnv1a64 hash;  // the definition holds no secret values
  hash.Update(ToJson().dump());
  return hash.Hex();
}

Result<StepDefinition> ResolveDefinition(const Step& step, const Runbook& rb,
                                         const TemplateScope& scope) {
  StepDefinition def;
  def.Set("kind", std::string(StepKindName(step.kind)));
  DefinitionBuilder b{scope, def, {}};
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RunStep>) {
          b.PutCommand("command", k.command);
          def.Set("host", StepHost(step, rb));
          b.Put("user", step.user);
          b.Put("cwd", step.cwd);
          StepDefinition::StringMap env;
          env.reserve(step.env.size());
          for (const auto& [name, text] : step.env) {
            auto r = Display(text, scope);
            env.emplace_back(name, r.ok() ? std::move(r.value()) : std::string("<error>"));
          }
          // A JSON object's order (the names are unique: they were keys of one YAML mapping).
          std::sort(env.begin(), env.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
          def.Set("env", std::move(env));
        } else if constexpr (std::is_same_v<K, SqlStep>) {
          def.Set("db", k.db.name);
          b.Put("query", k.query);
          b.Put("file", k.file);
          def.Set("show", std::string(k.show == ShowMode::kTable ? "table" : "none"));
          b.Put("expect", k.expect);
        } else if constexpr (std::is_same_v<K, CopyRowsStep>) {
          def.Set("from", k.from.name);
          def.Set("to", k.to.name);
          b.Put("table", k.table);
          StepDefinition::Strings cols;
          for (const Text& c : k.columns) {
            auto r = Display(c, scope);
            cols.push_back(r.ok() ? std::move(r.value()) : std::string("<error>"));
          }
          def.Set("columns", std::move(cols));
          b.Put("where", k.where);
          b.Put("order_by", k.order_by);
          b.Put("every", k.every);
          b.Put("limit", k.limit);
          if (k.match) {
            def.Set("match", StepDefinition::StringMap{{"column", k.match->column},
                                                       {"parent_column", k.match->parent_column},
                                                       {"step", k.match->step.name}});
          }
          def.Set("truncate", k.truncate);
          def.Set("foreign_keys",
                  std::string(k.foreign_keys == ForeignKeyCheck::kAfterCopy ? "after_copy"
                                                                            : "per_row"));
        } else if constexpr (std::is_same_v<K, CancelQueriesStep>) {
          def.Set("db", k.db.name);
          b.Put("older_than", k.older_than);
          def.Set("read_only", k.read_only);
          b.Put("application_name", k.application_name);
        } else if constexpr (std::is_same_v<K, ManualStep>) {
          b.Put("text", k.text);
        }
      },
      step.kind);
  if (!b.error.empty()) return Result<StepDefinition>::Error(b.error);
  return def;
}

const std::string& StepHost(const Step& step, const Runbook& rb) {
  return step.host ? step.host->name : rb.defaults.host.name;
}

Duration StepTimeout(const Step& step, const Runbook& rb) {
  return step.timeout ? *step.timeout : rb.defaults.timeout;
}

int StepRetries(const Step& step, const Runbook& rb) {
  return step.retries ? *step.retries : rb.defaults.retries;
}

}  // namespace runbook
