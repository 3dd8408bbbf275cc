#include "engine/resolve.h"

#include <cstdint>
#include <cstdio>

#include "engine/fnv.h"
#include "engine/shell_quote.h"

namespace runbook {

RunScope::RunScope(const Runbook* rb, const ParamValues* params, const SecretValues* secrets,
                   std::string run_id, std::string run_dir)
    : rb_(rb), params_(params), secrets_(secrets), run_id_(std::move(run_id)),
      run_dir_(std::move(run_dir)) {
  for (const auto* list : {&rb->steps, &rb->finally}) {
    for (const Step& s : *list) placeholders_[s.id] = "<outcome of " + s.id + ">";
  }
}

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
  return MakeScope(&placeholders_, "<run.id>", "<run.dir>");
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
    out.words.push_back(r->value);
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
  return r->display;
}

// Renders optional fields into `json[key]`, collecting the first error.
struct DefinitionBuilder {
  const TemplateScope& scope;
  nlohmann::json& def;
  std::string error;

  void Put(const char* key, const Text& text) {
    auto r = Display(text, scope);
    if (!r.ok()) {
      if (error.empty()) error = r.message();
      return;
    }
    def[key] = *r;
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
    def[key] = r->display;
  }
};

}  // namespace

Result<nlohmann::json> StepDefinition(const Step& step, const Runbook& rb,
                                      const TemplateScope& scope) {
  nlohmann::json def;
  def["kind"] = StepKindName(step.kind);
  DefinitionBuilder b{scope, def, {}};
  std::visit(
      [&](const auto& alternative) {
        const auto& k = Unbox(alternative);
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RunStep>) {
          b.PutCommand("command", k.command);
          b.def["host"] = StepHost(step, rb);
          b.Put("user", step.user);
          b.Put("cwd", step.cwd);
          nlohmann::json env = nlohmann::json::object();
          for (const auto& [name, text] : step.env) {
            auto r = Display(text, scope);
            env[name] = r.ok() ? *r : std::string("<error>");
          }
          b.def["env"] = env;
        } else if constexpr (std::is_same_v<K, SqlStep>) {
          b.def["db"] = k.db.name;
          b.Put("query", k.query);
          b.Put("file", k.file);
          b.def["show"] = k.show == ShowMode::kTable ? "table" : "none";
          b.Put("expect", k.expect);
        } else if constexpr (std::is_same_v<K, CopyRowsStep>) {
          b.def["from"] = k.from.name;
          b.def["to"] = k.to.name;
          b.Put("table", k.table);
          nlohmann::json cols = nlohmann::json::array();
          for (const Text& c : k.columns) {
            auto r = Display(c, scope);
            cols.push_back(r.ok() ? *r : std::string("<error>"));
          }
          b.def["columns"] = cols;
          b.Put("where", k.where);
          b.Put("order_by", k.order_by);
          b.Put("every", k.every);
          b.Put("limit", k.limit);
          if (k.match) {
            b.def["match"] = {{"column", k.match->column},
                              {"step", k.match->step.name},
                              {"parent_column", k.match->parent_column}};
          }
          b.def["truncate"] = k.truncate;
        } else if constexpr (std::is_same_v<K, CancelQueriesStep>) {
          b.def["db"] = k.db.name;
          b.Put("older_than", k.older_than);
          b.def["read_only"] = k.read_only;
          b.Put("application_name", k.application_name);
        } else if constexpr (std::is_same_v<K, ManualStep>) {
          b.Put("text", k.text);
        }
      },
      step.kind);
  if (!b.error.empty()) return Result<nlohmann::json>::Error(b.error);
  return def;
}

std::string DefinitionHash(const nlohmann::json& definition) {
  Fnv1a64 hash;  // the definition holds no secret values
  hash.Update(definition.dump());
  return hash.Hex();
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
