// Resolving a step for execution or preview: the template scope of a run, commands rendered into
// argv, and the step's canonical definition (secrets masked) whose hash the journal keeps so that
// resume can tell when a finished step's definition changed.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/diag.h"
#include "engine/loader.h"
#include "engine/model.h"
#include "engine/secrets.h"
#include "engine/template.h"

namespace runbook {

// Everything templates of one run can refer to. Step outcomes fill in as the run proceeds.
class RunScope {
 public:
  RunScope(const Runbook* rb, const ParamValues* params, const SecretValues* secrets,
           std::string run_id, std::string run_dir);

  // A scope for rendering now. The outcomes so far are copied into `*outcomes`, which must
  // outlive the returned scope (steps render on several threads while outcomes change).
  TemplateScope Scope(std::map<std::string, std::string>* outcomes) const;
  // A scope whose run id, run dir and step outcomes are fixed placeholders: renders the same
  // text in a plan and in the run that executes it, so definitions can be compared.
  TemplateScope StableScope() const;

  void SetOutcome(const std::string& step_id, const std::string& outcome);
  const Runbook& runbook() const { return *rb_; }
  const ParamValues& params() const { return *params_; }
  const SecretValues& secrets() const { return *secrets_; }
  const std::string& run_id() const { return run_id_; }
  const std::string& run_dir() const { return run_dir_; }

 private:
  TemplateScope MakeScope(const std::map<std::string, std::string>* outcomes, std::string run_id,
                          std::string run_dir) const;
  const Runbook* rb_;
  const ParamValues* params_;
  const SecretValues* secrets_;
  std::string run_id_, run_dir_;
  std::vector<std::string> secret_env_;  // SecretEnvNames of the runbook
  mutable std::mutex mu_;
  std::map<std::string, std::string> outcomes_;
};

// A command rendered for a local exec: `sh -c SCRIPT` for a shell command, or the argv.
struct ResolvedCommand {
  bool shell = true;
  std::vector<std::string> words;  // shell: {script}; argv: the words
  std::string display;             // secrets as ***
};
Result<ResolvedCommand> RenderCommand(const Command& command, const TemplateScope& scope);

// The step's env rendered. `secret` marks values that contain a secret: they travel only as
// environment variables (or on stdin for sudo/ssh), never in argv or output.
struct ResolvedEnv {
  std::string name;
  std::string value;
  std::string display;
  bool secret = false;
};
Result<std::vector<ResolvedEnv>> RenderEnv(const Step& step, const TemplateScope& scope,
                                           const ParamValues& params);

// The canonical description of what a step does, all templates rendered, secrets masked: a JSON
// object whose members are strings, booleans, lists of strings or objects of strings. The plan
// shows it as the step's "definition"; its hash is the step's definition hash, kept in journals
// and plans and compared on resume and by `run --plan`.
class StepDefinition {
 public:
  using Strings = std::vector<std::string>;
  using StringMap = std::vector<std::pair<std::string, std::string>>;  // keys ascending, unique
  using Value = std::variant<std::string, bool, Strings, StringMap>;

  // Sets the member `key` (a string literal), replacing an earlier value.
  void Set(const char* key, Value value);
  // The member, or nullptr; FindString: nullptr also when it is not a string.
  const Value* Find(std::string_view key) const;
  const std::string* FindString(std::string_view key) const;

  // The object as JSON.
  nlohmann::json ToJson() const;
  // FNV-1a 64 of the compact JSON (16 hex digits).
  std::string Hash() const;

 private:
  std::vector<std::pair<std::string_view, Value>> members_;  // keys ascending
};

// Renders a step's fields into its definition, for its kind's StepKind::Define: the first field
// that fails to render (Put, PutCommand) makes the definition an error; Display shows a failure
// as "<error>" instead (for values inside lists and maps).
class DefinitionBuilder {
 public:
  DefinitionBuilder(const Step& step, const Runbook& rb, const TemplateScope& scope,
                    StepDefinition* def);
  const Step& step() const { return step_; }
  const std::string& host() const;  // the step's effective host
  void Set(const char* key, StepDefinition::Value value) { def_.Set(key, std::move(value)); }
  void Put(const char* key, const Text& text);
  void Put(const char* key, const std::optional<Text>& text);
  void PutCommand(const char* key, const Command& command);  // as displayed, secrets as ***
  std::string Display(const Text& text) const;
  const std::string& error() const { return error_; }

 private:
  const Step& step_;
  const Runbook& rb_;
  const TemplateScope& scope_;
  StepDefinition& def_;
  std::string error_;
};

// The step's definition rendered with `scope`: "kind" and what the kind sets.
Result<StepDefinition> ResolveDefinition(const Step& step, const Runbook& rb,
                                         const TemplateScope& scope);

// The effective host, timeout and retries of a step (the step's own, else the defaults).
const std::string& StepHost(const Step& step, const Runbook& rb);
Duration StepTimeout(const Step& step, const Runbook& rb);
int StepRetries(const Step& step, const Runbook& rb);

}  // namespace runbook
