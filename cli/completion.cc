#include "cli/completion.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/executor.h"
#include "engine/journal.h"
#include "engine/loader.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"
#include "steps/registry.h"

namespace runbook {

namespace {

// Options that take a step id, a run id, a file, or one of a fixed set of words.
const char* const kStepOptions = "--only|--from|--rerun";

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Every long and short name of a subcommand's options, with --help.
std::string OptionNames(const CLI::App& sub) {
  std::vector<std::string> names = {"--help"};
  for (const CLI::Option* o : sub.get_options()) {
    if (o->get_positional()) continue;
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  }
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return Join(names);
}

void Replace(std::string* text, const std::string& placeholder, const std::string& value) {
  text->replace(text->find(placeholder), placeholder.size(), value);
}

}  // namespace

std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  std::vector<std::string> commands;
  std::string per_command;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) {
         return !s->get_group().empty();  // hidden commands have no group
       })) {
    commands.push_back(sub->get_name());
    per_command += "    " + sub->get_name() + ") opts=\"" + OptionNames(*sub) + "\" ;;\n";
  }
  std::string script;
  if (shell == "zsh") {
    // zsh's compgen (bashcompinit) ignores the word being completed: compadd filters later.
    script +=
        "#compdef runbook\n# zsh: source <(runbook completion zsh) in ~/.zshrc\n"
        "(( $+functions[compdef] )) || { autoload -U compinit && compinit; }\n"
        "autoload -U +X bashcompinit && bashcompinit\n";
  } else {
    script += "# bash: source <(runbook completion bash) in ~/.bashrc\n";
  }
  std::string body = R"sh(_runbook() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local cmd=${COMP_WORDS[1]} file="" w opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "@COMMANDS@ --help --version" -- "$cur"))
    return
  fi
  for w in "${COMP_WORDS[@]:2}"; do
    case $w in *.yaml|*.yml|[0-9]*T*Z-*) [ -z "$file" ] && file=$w ;; esac
  done
  case $prev in
    @STEP_OPTIONS@)
      local pre=""
      [[ $cur == *,* ]] && pre=${cur%,*},
      COMPREPLY=($(compgen -P "$pre" -W "$(command runbook __complete steps "$file" 2>/dev/null)" -- "${cur##*,}"))
      return ;;
    -i|--inventory|--plan|--out|--report|-o)
      COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
    --format)
      COMPREPLY=($(compgen -W "text json dot mermaid" -- "$cur"))
      return ;;
  esac
  case $cmd in
@PER_COMMAND@    *) opts="" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case $cmd in
    logs|report)
      COMPREPLY=($(compgen -W "$(command runbook __complete runs 2>/dev/null)" -- "$cur")) ;;
    resume|status)
      COMPREPLY=($(compgen -W "$(command runbook __complete runs 2>/dev/null)" -- "$cur") $(compgen -f -X '!*.y*ml' -- "$cur")) ;;
    completion)
      COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    *)
      COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -o filenames -F _runbook runbook
)sh";
  Replace(&body, "@COMMANDS@", Join(commands));
  Replace(&body, "@STEP_OPTIONS@", kStepOptions);
  Replace(&body, "@PER_COMMAND@", per_command);
  script += body;
  return script;
}

int CmdCompleteIds(const std::string& what, const std::string& file) {
  if (what == "runs") {
    std::vector<RunInfo> runs = ListRuns(StateDir(), "");
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) std::printf("%s\n", it->run_id.c_str());
    return kExitOk;
  }
  if (what != "steps" || file.empty()) return kExitOk;
  if (IsRunId(file)) {  // `resume RUN_ID --only`: the steps of that run's runbook, as it last ran
    std::optional<RunInfo> run = FindRun(StateDir(), file);
    if (!run) return kExitOk;
    auto contents = ReadJournal(run->journal);
    if (!contents.ok()) return kExitOk;
    for (const std::string& id : ReplayJournal(contents->records).step_ids) {
      std::printf("%s\n", id.c_str());
    }
    return kExitOk;
  }
  LoadOptions options;
  options.kinds = &BuiltinKinds();
  options.require_params = RequireParams::kNo;
  Diagnostics diags;
  auto loaded = LoadRunbook(file, options, &diags);
  if (!loaded) return kExitOk;
  for (const auto* list : {&loaded->runbook.steps, &loaded->runbook.finally}) {
    for (const Step& s : *list) std::printf("%s\n", s.id.c_str());
  }
  return kExitOk;
}

}  // namespace runbook
