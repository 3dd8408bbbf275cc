// Resolving a step for execution or preview: the template scope of a run, commands rendered into
// argv, and the step's canonical definition (secrets masked) whose hash the journal keeps so that
// resume can tell when a finished step's definition changed.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
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
  mutable std::mutex mu_;
  std::map<std::string, std::string> outcomes_;
  std::map<std::string, std::string> placeholders_;       // every step id -> "<outcome of ID>"
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

// The canonical description of what the step does, all templates rendered with `scope`, secrets
// masked. The plan shows it; its hash is the step's definition hash.
Result<nlohmann::json> StepDefinition(const Step& step, const Runbook& rb, const TemplateScope& scope);
std::string DefinitionHash(const nlohmann::json& definition);

// The effective host, timeout and retries of a step (the step's own, else the defaults).
const std::string& StepHost(const Step& step, const Runbook& rb);
Duration StepTimeout(const Step& step, const Runbook& rb);
int StepRetries(const Step& step, const Runbook& rb);

}  // namespace runbook
