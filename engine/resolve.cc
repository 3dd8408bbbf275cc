#include "engine/resolve.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "engine/fnv.h"
#include "engine/pg_conninfo.h"
#include "engine/shell_quote.h"
#include "engine/step_kind.h"

namespace runbook {

RunScope::RunScope(const Runbook* rb, const ParamValues* params, const SecretValues* secrets,
                   std::string run_id, std::string run_dir)
    : rb_(rb),
      params_(params),
      secrets_(secrets),
      run_id_(std::move(run_id)),
      run_dir_(std::move(run_dir)),
      secret_env_(SecretEnvNames(*rb)) {}

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
  scope.secret_env = &secret_env_;
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
    // Resolved keyword by keyword and written back quoted: a value cannot add a keyword for
    // the command that reads this text either.
    auto r = ResolveConninfo(db->conninfo, inner);
    if (!r.ok()) return std::nullopt;
    return FormatConninfo(r->keywords, /*mask_password=*/false);
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
  if (command.shell) {
    // The script runs as written: a value reaches it only through the environment.
    const Text& script = command.words.at(0);
    if (script.HasTemplate()) {
      return Result<ResolvedCommand>::Error(
          script.loc.ToString() +
          ": a ${{ }} in shell text is never rendered: pass the value through env and write "
          "\"$NAME\"");
    }
    out.words.push_back(script.raw);
    out.display = script.raw;
    return out;
  }
  for (const Text& word : command.words) {
    auto r = RenderText(word, scope);
    if (!r.ok()) return Result<ResolvedCommand>::Error(r.message());
    out.words.push_back(std::move(r.value().value));
    if (!out.display.empty()) out.display += ' ';
    out.display += ShellQuote(r->display);
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
    auto r = RenderText(text, scope);
    if (!r.ok()) return Result<std::vector<ResolvedEnv>>::Error(r.message());
    env.push_back({name, r->value, r->display, r->used_secret});
  }
  return env;
}

namespace {

Result<std::string> Display(const Text& text, const TemplateScope& scope) {
  auto r = RenderText(text, scope);
  if (!r.ok()) return Result<std::string>::Error(r.message());
  return std::move(r.value().display);
}

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

DefinitionBuilder::DefinitionBuilder(const Step& step, const Runbook& rb,
                                     const TemplateScope& scope, StepDefinition* def)
    : step_(step), rb_(rb), scope_(scope), def_(*def) {}

const std::string& DefinitionBuilder::host() const {
  return StepHost(step_, rb_);
}

void DefinitionBuilder::Put(const char* key, const Text& text) {
  auto r = runbook::Display(text, scope_);
  if (!r.ok()) {
    if (error_.empty()) error_ = r.message();
    return;
  }
  def_.Set(key, std::move(r.value()));
}

void DefinitionBuilder::Put(const char* key, const std::optional<Text>& text) {
  if (text) Put(key, *text);
}

void DefinitionBuilder::PutCommand(const char* key, const Command& command) {
  auto r = RenderCommand(command, scope_);
  if (!r.ok()) {
    if (error_.empty()) error_ = r.message();
    return;
  }
  def_.Set(key, std::move(r.value().display));
}

std::string DefinitionBuilder::Display(const Text& text) const {
  auto r = runbook::Display(text, scope_);
  return r.ok() ? std::move(r.value()) : std::string("<error>");
}

Result<StepDefinition> ResolveDefinition(const Step& step, const Runbook& rb,
                                         const TemplateScope& scope) {
  StepDefinition def;
  def.Set("kind", std::string(step.kind->Name()));
  DefinitionBuilder builder(step, rb, scope, &def);
  step.kind->Define(builder);
  if (!builder.error().empty()) return Result<StepDefinition>::Error(builder.error());
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
