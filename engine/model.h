// The runbook model: plain data produced by the loader, read by everything else. No I/O here.
//
// Field names follow docs/format.md. Values that may hold `${{ ... }}` templates are
// kept as Text (the raw source string and where it came from); they are rendered per step at plan
// or run time (engine/template.h). Values that can never be templated (ids, names, durations of
// timeouts and retries) are checked and converted by the loader.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/diag.h"

namespace runbook {

using Duration = std::chrono::milliseconds;

// A string from the runbook that may contain `${{ ... }}` expressions.
struct Text {
  std::string raw;
  Location loc;
  // Column of raw[0] when raw is written verbatim on the line of `loc` (a one-line plain scalar,
  // or a quoted one without escapes), so an error inside a `${{ }}` can point at its column;
  // 0 when raw does not map onto the source column by column (errors then point at `loc`).
  int raw_col = 0;
  bool HasTemplate() const { return raw.find("${{") != std::string::npos; }
};

// A name with the place it was written, e.g. an entry of `needs` or a `db:` reference.
struct NameRef {
  std::string name;
  Location loc;
};

// ---- params, secrets, hosts, databases ------------------------------------------------------

enum class ParamType { kString, kInteger, kNumber, kBoolean, kPath, kDuration };

struct Param {
  std::string name;
  Location loc;
  ParamType type = ParamType::kString;
  std::optional<std::string> default_value;  // canonical text of the default; none = required
  Location default_loc;
  std::string description;
};

struct Secret {
  enum class Source { kEnv, kFile };
  std::string name;
  Location loc;
  Source source = Source::kEnv;
  std::string ref;  // the environment variable name or the file path
};

struct Host {
  std::string name;
  Location loc;
  bool local = false;  // `local: true`; otherwise `ssh` is set
  std::string ssh;     // "user@host" or "host"
  std::optional<int> port;
  std::string identity_file;
  std::vector<std::string> options;  // extra `-o` options, "Key=Value"
  bool multiplex = true;  // false (`multiplex: false`): a new connection per command, no master
};

struct Database {
  std::string name;
  Location loc;
  Text conninfo;                  // libpq conninfo string (or URI)
  std::optional<Text> password;   // usually "${{ secrets.X }}"
  std::optional<NameRef> tunnel;  // a host to reach the database through (ssh forward)
};

// ---- commands and guards --------------------------------------------------------------------

// A `run:` value: a string is one shell command (run by /bin/sh -c); a list is an argv, no shell.
struct Command {
  bool shell = true;
  std::vector<Text> words;  // shell: exactly one element, the script
};

enum class OnFail { kAbort, kSkip, kWarn };

// A guard's kind: steps/<kind>.h, behind the interface of engine/step_kind.h.
class GuardKind;

struct Guard {
  std::shared_ptr<const GuardKind> kind;
  Location loc;  // of the kind key
  std::optional<Duration> wait;
  // `wait: "${{ params.NAME }}"`: the duration param, set into `wait` by ApplyParamDurations
  // (engine/params.h) once param values are known.
  std::optional<NameRef> wait_param;
  OnFail on_fail = OnFail::kAbort;
};

// ---- steps ----------------------------------------------------------------------------------

// A step's kind: steps/<kind>.h, behind the interface of engine/step_kind.h.
class StepKind;

struct Step {
  std::string id;
  Location loc;                          // of the `id` value
  Location kind_loc;                     // of the kind key
  std::shared_ptr<const StepKind> kind;  // shared by copies: a kind never changes once read
  std::string description;
  std::vector<NameRef> needs;
  std::optional<Text> if_expr;
  std::optional<NameRef> host;  // unset: defaults.host
  std::optional<Text> user;
  std::optional<Text> cwd;
  std::vector<std::pair<std::string, Text>> env;  // in file order
  std::optional<Duration> timeout;                // unset: defaults.timeout
  std::optional<int> retries;                     // unset: defaults.retries
  bool idempotent = false;
  std::optional<Text> confirm;
  std::vector<Guard> guards;
  std::vector<Guard> done_when;
  std::vector<Guard> verify;
  bool in_finally = false;
  // `on_interrupt: run` on a finally step: it still runs after a first Ctrl-C (it restores
  // service); a second Ctrl-C stops it. `on_interrupt_loc` is set when the key was written.
  bool run_on_interrupt = false;
  std::optional<Location> on_interrupt_loc;
};

// `downtime:`: the service the runbook maintains is down from the start of step `from` to the
// end of step `to` (engine/downtime.h).
struct DowntimeWindow {
  NameRef from, to;
  Location loc;  // of the `downtime` key's value
};

struct Defaults {
  NameRef host{"local", {}};
  Duration timeout = std::chrono::minutes(30);
  int retries = 0;
};

struct Runbook {
  std::string path;  // the file it was loaded from
  std::string name;
  Location name_loc;
  std::string description;
  // `lock:`: the name runs take their locks under, shared by runbooks that must not run at the
  // same time; empty: the runbook's name (LockName()).
  std::string lock;
  std::vector<Param> params;
  std::vector<Secret> secrets;
  std::vector<Host> hosts;  // always contains "local" after loading
  std::vector<Database> databases;
  Defaults defaults;
  std::optional<DowntimeWindow> downtime;
  std::vector<Step> steps;
  std::vector<Step> finally;
  // The team's state store an inventory names (`state: {url:}`, the last inventory's wins); ""
  // when none does. --state and RUNBOOK_STATE_URL go before it (StoreUrl).
  std::string state_url;

  const std::string& LockName() const { return lock.empty() ? name : lock; }
  const Param* FindParam(std::string_view name) const;
  const Secret* FindSecret(std::string_view name) const;
  const Host* FindHost(std::string_view name) const;
  const Database* FindDatabase(std::string_view name) const;
  const Step* FindStep(std::string_view id) const;  // in steps or finally; linear
};

// An inventory file: hosts, databases and param values that override the runbook's.
struct Inventory {
  std::string path;
  std::vector<Host> hosts;
  std::vector<Database> databases;
  std::vector<std::pair<NameRef, std::string>> params;  // name, value as written
  std::string state_url;                                // `state: {url:}`; "" when absent
};

}  // namespace runbook
