#include "engine/parse.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "engine/params.h"
#include "engine/pg_conninfo.h"
#include "engine/reader.h"
#include "engine/step_kind.h"
#include "engine/suggest.h"
#include "engine/units.h"
#include "engine/yaml_parse.h"

namespace runbook {
namespace {

bool IsLowerOrDigit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// [a-z0-9][a-z0-9<extra>]*
bool MatchesLowerName(std::string_view s, std::string_view extra) {
  if (s.empty() || !IsLowerOrDigit(s[0])) return false;
  for (char c : s) {
    if (!IsLowerOrDigit(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// [A-Za-z_][A-Za-z0-9_]*
bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(IsAlpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(IsAlpha(c) || IsDigit(c) || c == '_')) return false;
  }
  return true;
}

// [A-Za-z0-9_][A-Za-z0-9_-]*
bool IsResourceName(std::string_view s) {
  if (s.empty() || s[0] == '-') return false;
  for (char c : s) {
    if (!(IsAlpha(c) || IsDigit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

const std::vector<std::string> kTopKeys = {"name",     "description", "lock",      "params",
                                           "secrets",  "hosts",       "databases", "defaults",
                                           "downtime", "steps",       "finally"};
const std::vector<std::string> kDowntimeKeys = {"from", "to"};
const std::vector<std::string> kInventoryKeys = {"hosts", "databases", "params", "state"};
const std::vector<std::string> kParamKeys = {"type", "default", "description"};
const std::vector<std::string> kSecretKeys = {"env", "file"};
const std::vector<std::string> kHostKeys = {"ssh",     "port",  "identity_file",
                                            "options", "local", "multiplex"};
const std::vector<std::string> kDatabaseKeys = {"conninfo", "password", "tunnel"};
const std::vector<std::string> kDefaultsKeys = {"host", "timeout", "retries"};
const std::vector<std::string> kStepFields = {
    "id",     "description", "needs",   "if",          "host",       "user",
    "cwd",    "env",         "timeout", "retries",     "idempotent", "confirm",
    "guards", "done_when",   "verify",  "on_interrupt"};
// `host` beside the kind key is accepted for the guards that run a command somewhere
// (`- command: test -f /x` + `host: prod` reads naturally); it may also sit inside their mapping.
const std::vector<std::string> kGuardOptions = {"wait", "on_fail", "host"};

std::vector<std::string> Concat(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
template <class Entry>
std::vector<std::string> KeysOf(const std::vector<Entry>& entries) {
  std::vector<std::string> keys;
  for (const Entry& e : entries) keys.push_back(e.key);
  return keys;
}

template <class Entry>
const Entry* FindEntry(const std::vector<Entry>& entries, std::string_view key) {
  for (const Entry& e : entries) {
    if (key == e.key) return &e;
  }
  return nullptr;
}

constexpr int64_t kMaxRetries = 100;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// Iterates a `name: {...}` section; calls f(key node, value node) for each entry.
template <class F>
void ForEachNamed(const DocNode* section, std::string_view what, Diagnostics* d, F f) {
  if (!section || section->IsNull()) return;
  if (!section->IsMap()) {
    ReportType(*section, "a mapping of names", "'" + std::string(what) + "'", d);
    return;
  }
  for (size_t i = 0; i < section->MapSize(); ++i) f(section->Key(i), section->Value(i));
}

// Finds the one kind key among `kinds` in mapping `r`. Reports zero or two kinds unless an
// unknown key already suggested a kind (then that error says it all).
const DocNode* FindKind(const MapReader& r, const std::vector<std::string>& kinds,
                        const std::string& owner, Diagnostics* d) {
  const DocNode* found = nullptr;
  for (size_t i = 0; i < r.node().MapSize(); ++i) {
    const DocNode& key = r.node().Key(i);
    bool is_kind = false;
    for (const std::string& k : kinds) is_kind = is_kind || k == key.scalar;
    if (!is_kind) continue;
    if (found) {
      d->Error(key.loc, owner + " has two kinds, '" + found->scalar + "' and '" + key.scalar +
                            "': keep one");
      return nullptr;
    }
    found = &key;
  }
  if (!found) {
    for (const auto& [key, suggestion] : r.unknown_keys()) {
      for (const std::string& k : kinds) {
        if (suggestion == k) return nullptr;
      }
    }
    d->Error(r.node().loc, owner + " has no kind: add one of " + JoinNames(kinds));
  }
  return found;
}

// A value that must be exactly `${{ params.NAME }}`: the param's name, located at the name.
std::optional<NameRef> ParamReference(const DocNode& n, std::string_view what, Diagnostics* d) {
  const std::string& s = n.scalar;
  size_t b = s.find_first_not_of(' ');
  size_t e = s.find_last_not_of(' ');
  std::string_view v = b == std::string::npos ? "" : std::string_view(s).substr(b, e - b + 1);
  if (v.size() > 5 && v.substr(0, 3) == "${{" && v.substr(v.size() - 2) == "}}") {
    std::string_view inner = v.substr(3, v.size() - 5);
    size_t ib = inner.find_first_not_of(' ');
    size_t ie = inner.find_last_not_of(' ');
    if (ib != std::string_view::npos) inner = inner.substr(ib, ie - ib + 1);
    if (inner.substr(0, 7) == "params." && IsIdentifier(inner.substr(7))) {
      Location loc = n.loc;
      if (n.raw_col > 0) loc.col = n.raw_col + static_cast<int>(inner.data() + 7 - s.data());
      return NameRef{std::string(inner.substr(7)), loc};
    }
  }
  d->Error(n.loc, std::string(what) +
                      " must be a duration (e.g. 5m) or \"${{ params.NAME }}\" "
                      "naming a duration param, got '" +
                      s + "'");
  return std::nullopt;
}

// "'host' applies only to backup_fresh and command guards": those that run a command somewhere.
std::string HostBesideMessage(const KindRegistry& kinds, const char* key) {
  std::vector<std::string> takers;
  for (const KindRegistry::GuardEntry& e : kinds.guards) {
    if (e.host_beside) takers.push_back(e.key);
  }
  std::string names;
  for (size_t i = 0; i < takers.size(); ++i) {
    if (i > 0) names += i + 1 == takers.size() ? " and " : ", ";
    names += takers[i];
  }
  return "'host' applies only to " + names + " guards, not " + key;
}

std::vector<Guard> ParseGuards(const DocNode& list, const std::string& field,
                               const std::string& step_owner, const KindRegistry& kinds,
                               Diagnostics* d) {
  const std::vector<std::string> guard_kinds = KeysOf(kinds.guards);
  const std::vector<std::string> guard_keys = Concat(guard_kinds, kGuardOptions);
  std::vector<Guard> guards;
  const std::string what = "'" + field + "' of " + step_owner;
  if (!list.IsSeq()) {
    ReportType(list, "a list of guards", what, d);
    return guards;
  }
  guards.reserve(list.children.size());
  for (size_t i = 0; i < list.children.size(); ++i) {
    const DocNode& item = list.children[i];
    const std::string owner = "guard #" + std::to_string(i + 1) + " in " + what;
    MapReader r(item, owner, guard_keys, d);
    if (!r.ok()) continue;
    const DocNode* kind_key = FindKind(r, guard_kinds, owner, d);
    Guard g;
    if (const DocNode* wait = r.Get("wait")) {
      if (wait->IsScalar() && wait->scalar.find("${{") != std::string::npos) {
        g.wait_param = ParamReference(*wait, "'wait'", d);
      } else {
        g.wait = ReadDuration(*wait, "'wait'", d);
      }
    }
    if (auto on_fail = r.Choice("on_fail", {"abort", "skip", "warn"})) {
      g.on_fail = std::array{OnFail::kAbort, OnFail::kSkip, OnFail::kWarn}[*on_fail];
    }
    if (!kind_key) continue;
    g.loc = kind_key->loc;
    const KindRegistry::GuardEntry& entry = *FindEntry(kinds.guards, kind_key->scalar);
    std::unique_ptr<GuardKind> kind = entry.parse(r, *r.Get(kind_key->scalar), step_owner, d);
    bool ok = kind != nullptr;
    if (ok && r.Has("host") && !entry.host_beside) {
      d->Error(r.GetKey("host")->loc, HostBesideMessage(kinds, entry.key));
      ok = false;
    }
    if (ok) g.kind = std::move(kind);
    if (ok) guards.push_back(std::move(g));
  }
  return guards;
}

// Fills `*out` (a fresh Step, constructed in place by the caller: Steps are big, so moving them
// around shows in the load time of large runbooks). Returns false when the step is unusable.
bool ParseStep(const DocNode& n, const std::string& list_name, size_t index,
               const KindRegistry& kinds, Step* out, Diagnostics* d) {
  Step& s = *out;
  s.in_finally = list_name == "finally";
  // The step in messages: "step 'ID'", or by position when it has no id.
  auto numbered = [&] { return "step #" + std::to_string(index + 1) + " of '" + list_name + "'"; };
  std::string owner;
  if (!n.IsMap()) {
    ReportType(n, "a step (a mapping with an id and a kind)", numbered(), d);
    return false;
  }
  bool ok = true;
  s.loc = n.loc;
  if (const DocNode* id = n.Find("id")) {
    if (!id->IsScalar()) {
      ReportType(*id, "a step id", "'id'", d);
      ok = false;
    } else {
      s.id = id->scalar;
      s.loc = id->loc;
      if (!MatchesLowerName(s.id, "_-")) {
        d->Error(id->loc, "invalid step id '" + s.id +
                              "': use lower-case letters, digits, '-' and '_', starting with a "
                              "letter or digit");
        ok = false;
      }
      owner = "step '" + s.id + "'";
    }
  } else {
    d->Error(n.loc, numbered() + " has no 'id'");
    ok = false;
  }
  if (owner.empty()) owner = numbered();
  const std::vector<std::string> step_kinds = KeysOf(kinds.steps);
  MapReader r(n, owner, Concat(kStepFields, step_kinds), d);
  const DocNode* kind_key = FindKind(r, step_kinds, owner, d);
  if (kind_key) {
    s.kind_loc = kind_key->loc;
    s.kind = FindEntry(kinds.steps, kind_key->scalar)->parse(*r.Get(kind_key->scalar), owner, d);
    ok = ok && s.kind != nullptr;
  } else {
    ok = false;
  }
  if (auto desc = r.String("description")) s.description = std::move(*desc);
  if (auto needs = r.TextList("needs", AllowSingle::kYes)) {
    s.needs.reserve(needs->size());
    for (Text& t : *needs) s.needs.push_back({std::move(t.raw), t.loc});
  }
  s.if_expr = r.GetText("if");
  s.host = r.Name("host");
  s.user = r.GetText("user");
  s.cwd = r.GetText("cwd");
  if (const DocNode* env = r.Get("env")) {
    if (!env->IsMap()) {
      ReportType(*env, "a mapping of environment variables", "'env'", d);
    } else {
      s.env.reserve(env->MapSize());
      for (size_t i = 0; i < env->MapSize(); ++i) {
        const DocNode& key = env->Key(i);
        if (!IsIdentifier(key.scalar)) {
          d->Error(key.loc, "invalid environment variable name '" + key.scalar +
                                "': use letters, digits and '_', not starting with a digit");
        }
        if (auto v = ReadText(env->Value(i), "'env." + key.scalar + "'", d)) {
          s.env.emplace_back(key.scalar, std::move(*v));
        }
      }
    }
  }
  if (auto t = r.GetDuration("timeout")) {
    if (t->count() == 0) {
      d->Error(r.Get("timeout")->loc, "'timeout' must be longer than 0s");
    }
    s.timeout = *t;
  }
  if (auto retries = r.Int("retries", 0, kMaxRetries)) s.retries = static_cast<int>(*retries);
  if (auto idem = r.Bool("idempotent")) s.idempotent = *idem;
  s.confirm = r.GetText("confirm");
  if (auto when = r.Choice("on_interrupt", {"skip", "run"})) {
    s.run_on_interrupt = *when == 1;
    s.on_interrupt_loc = r.Get("on_interrupt")->loc;
  }
  if (const DocNode* g = r.Get("guards")) s.guards = ParseGuards(*g, "guards", owner, kinds, d);
  if (const DocNode* g = r.Get("done_when"))
    s.done_when = ParseGuards(*g, "done_when", owner, kinds, d);
  if (const DocNode* g = r.Get("verify")) s.verify = ParseGuards(*g, "verify", owner, kinds, d);
  return ok;
}

std::vector<Step> ParseSteps(const DocNode& list, const std::string& name,
                             const KindRegistry& kinds, Diagnostics* d) {
  std::vector<Step> steps;
  if (!list.IsSeq()) {
    ReportType(list, "a list of steps", "'" + name + "'", d);
    return steps;
  }
  steps.reserve(list.children.size());
  for (size_t i = 0; i < list.children.size(); ++i) {
    steps.emplace_back();
    if (!ParseStep(list.children[i], name, i, kinds, &steps.back(), d)) steps.pop_back();
  }
  return steps;
}

std::optional<Param> ParseParam(const DocNode& key, const DocNode& value, Diagnostics* d) {
  Param p;
  p.name = key.scalar;
  p.loc = key.loc;
  if (!IsIdentifier(p.name)) {
    d->Error(key.loc, "invalid param name '" + p.name +
                          "': use letters, digits and '_', not starting with a digit");
  }
  const std::string owner = "param '" + p.name + "'";
  MapReader r(value, owner, kParamKeys, d);
  if (!r.ok()) return std::nullopt;
  if (const DocNode* type = r.Get("type")) {
    std::optional<ParamType> t;
    if (type->IsScalar()) t = ParamTypeFromName(type->scalar);
    if (!t) {
      d->Error(type->loc, "unknown type " +
                              (type->IsScalar() ? "'" + type->scalar + "'" : type->KindName()) +
                              " for " + owner +
                              (type->IsScalar() ? DidYouMean(type->scalar, ParamTypeNames()) : "") +
                              ": use one of " + JoinNames(ParamTypeNames()));
      return std::nullopt;
    }
    p.type = *t;
  }
  if (const DocNode* def = r.Get("default")) {
    p.default_loc = def->loc;
    if (!def->IsScalar()) {
      ReportType(*def, "a single value", "the default of " + owner, d);
      return std::nullopt;
    }
    p.default_value = CanonicalParamValue(p.type, def->scalar);
    if (!p.default_value) {
      d->Error(def->loc, "default '" + def->scalar + "' does not fit: " + owner + " is " +
                             DescribeMisfit(p.type, def->scalar));
      return std::nullopt;
    }
  }
  if (auto desc = r.String("description")) p.description = std::move(*desc);
  return p;
}

std::optional<Secret> ParseSecret(const DocNode& key, const DocNode& value, Diagnostics* d) {
  Secret s;
  s.name = key.scalar;
  s.loc = key.loc;
  if (!IsIdentifier(s.name)) {
    d->Error(key.loc, "invalid secret name '" + s.name +
                          "': use letters, digits and '_', not starting with a digit");
  }
  const std::string owner = "secret '" + s.name + "'";
  MapReader r(value, owner, kSecretKeys, d);
  if (!r.ok()) return std::nullopt;
  auto env = r.String("env");
  auto file = r.String("file");
  if (r.Has("env") && r.Has("file")) {
    d->Error(r.GetKey("file")->loc, owner + " has both 'env' and 'file': keep one");
    return std::nullopt;
  }
  if (!r.Has("env") && !r.Has("file")) {
    d->Error(value.loc, owner + " needs 'env: VARIABLE' or 'file: PATH'");
    return std::nullopt;
  }
  if (env) {
    if (!IsIdentifier(*env)) {
      d->Error(r.Get("env")->loc, "invalid environment variable name '" + *env + "' in " + owner);
      return std::nullopt;
    }
    s.source = Secret::Source::kEnv;
    s.ref = std::move(*env);
  } else if (file) {
    if (file->empty()) {
      d->Error(r.Get("file")->loc, "empty 'file' in " + owner);
      return std::nullopt;
    }
    s.source = Secret::Source::kFile;
    s.ref = std::move(*file);
  } else {
    return std::nullopt;
  }
  return s;
}

std::optional<Host> ParseHost(const DocNode& key, const DocNode& value, Diagnostics* d) {
  Host h;
  h.name = key.scalar;
  h.loc = key.loc;
  if (!IsResourceName(h.name)) {
    d->Error(key.loc, "invalid host name '" + h.name +
                          "': use letters, digits, '-' and '_', not starting with '-'");
  }
  const std::string owner = "host '" + h.name + "'";
  MapReader r(value, owner, kHostKeys, d);
  if (!r.ok()) return std::nullopt;
  bool ok = true;
  if (auto local = r.Bool("local")) {
    if (!*local) {
      d->Error(r.Get("local")->loc, "'local' can only be true; for a remote host use 'ssh'");
      ok = false;
    }
    h.local = *local;
    if (r.Has("ssh")) {
      d->Error(r.GetKey("ssh")->loc, owner + " has both 'local' and 'ssh': keep one");
      ok = false;
    }
    for (const char* k : {"port", "identity_file", "options", "multiplex"}) {
      if (const DocNode* kn = r.GetKey(k)) {
        d->Error(kn->loc,
                 "'" + std::string(k) + "' applies only to ssh hosts, and " + owner + " is local");
        ok = false;
      }
    }
  } else if (r.Has("local")) {
    ok = false;
  } else if (!r.Has("ssh")) {
    d->Error(value.loc, owner + " needs 'ssh: user@host' or 'local: true'");
    ok = false;
  }
  if (auto ssh = r.String("ssh")) {
    if (ssh->empty() || (*ssh)[0] == '-' || ssh->find_first_of(" \t\n") != std::string::npos) {
      d->Error(r.Get("ssh")->loc,
               "invalid ssh destination '" + *ssh + "': expected user@host or host");
      ok = false;
    }
    h.ssh = std::move(*ssh);
  }
  if (auto port = r.Int("port", 1, 65535)) h.port = static_cast<int>(*port);
  if (auto id = r.String("identity_file")) {
    if (id->empty()) {
      d->Error(r.Get("identity_file")->loc, "empty 'identity_file' in " + owner);
      ok = false;
    }
    h.identity_file = std::move(*id);
  }
  if (auto multiplex = r.Bool("multiplex")) h.multiplex = *multiplex;
  if (const DocNode* opts = r.Get("options")) {
    if (opts->IsMap()) {
      for (size_t i = 0; i < opts->MapSize(); ++i) {
        if (auto v = ReadString(opts->Value(i), "'options." + opts->Key(i).scalar + "'", d)) {
          h.options.push_back(opts->Key(i).scalar + "=" + *v);
        }
      }
    } else if (auto list = ReadTextList(*opts, "'options'", AllowSingle::kNo, d)) {
      for (Text& t : *list) {
        if (t.raw.find('=') == std::string::npos || t.raw[0] == '-') {
          d->Error(t.loc, "ssh option '" + t.raw + "' must look like Key=Value");
          ok = false;
        }
        h.options.push_back(std::move(t.raw));
      }
    }
  }
  if (h.name == "local" && !h.local) {
    d->Error(key.loc, "host 'local' is reserved for this machine: it can only be {local: true}");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return h;
}

std::optional<Database> ParseDatabase(const DocNode& key, const DocNode& value, Diagnostics* d) {
  Database db;
  db.name = key.scalar;
  db.loc = key.loc;
  if (!IsResourceName(db.name)) {
    d->Error(key.loc, "invalid database name '" + db.name +
                          "': use letters, digits, '-' and '_', not starting with '-'");
  }
  MapReader r(value, "database '" + db.name + "'", kDatabaseKeys, d);
  if (!r.ok()) return std::nullopt;
  auto conninfo = r.RequireText("conninfo");
  db.password = r.GetText("password");
  db.tunnel = r.Name("tunnel");
  if (!conninfo) return std::nullopt;
  db.conninfo = std::move(*conninfo);
  return db;
}

void ParseHosts(const DocNode* section, std::vector<Host>* hosts, Diagnostics* d) {
  ForEachNamed(section, "hosts", d, [&](const DocNode& k, const DocNode& v) {
    if (auto h = ParseHost(k, v, d)) hosts->push_back(std::move(*h));
  });
}

void ParseDatabases(const DocNode* section, std::vector<Database>* dbs, Diagnostics* d) {
  ForEachNamed(section, "databases", d, [&](const DocNode& k, const DocNode& v) {
    if (auto db = ParseDatabase(k, v, d)) dbs->push_back(std::move(*db));
  });
}

void ParseDefaults(const DocNode& node, Defaults* defaults, Diagnostics* d) {
  MapReader r(node, "'defaults'", kDefaultsKeys, d);
  if (auto host = r.Name("host")) defaults->host = std::move(*host);
  if (auto t = r.GetDuration("timeout")) {
    if (t->count() == 0) d->Error(r.Get("timeout")->loc, "'timeout' must be longer than 0s");
    defaults->timeout = *t;
  }
  if (auto retries = r.Int("retries", 0, kMaxRetries)) {
    defaults->retries = static_cast<int>(*retries);
  }
}

std::optional<DowntimeWindow> ParseDowntime(const DocNode& node, Diagnostics* d) {
  MapReader r(node, "'downtime'", kDowntimeKeys, d);
  if (!r.ok()) return std::nullopt;
  auto from = r.RequireName("from");
  auto to = r.RequireName("to");
  if (!from || !to) return std::nullopt;
  return DowntimeWindow{std::move(*from), std::move(*to), node.loc};
}

// Decodes the top level into a Runbook; its problems are added to `d`.
Runbook DecodeRunbook(const std::string& path, const DocNode& root, const KindRegistry& kinds,
                      Diagnostics* d) {
  Runbook rb;
  rb.path = path;
  if (root.IsNull()) {
    d->Error(root.loc, "the runbook is empty: it needs at least 'name' and 'steps'");
    return rb;
  }
  MapReader r(root, "the runbook", kTopKeys, d);
  if (!r.ok()) return rb;
  if (auto name = r.RequireName("name")) {
    rb.name = name->name;
    rb.name_loc = name->loc;
    if (!MatchesLowerName(rb.name, "-")) {
      d->Error(name->loc, "invalid runbook name '" + rb.name +
                              "': use lower-case letters, digits and '-', starting with a letter "
                              "or digit");
    }
  }
  if (auto desc = r.String("description")) rb.description = std::move(*desc);
  if (r.Get("lock")) {
    if (auto lock = r.RequireName("lock")) {
      rb.lock = lock->name;
      if (!MatchesLowerName(rb.lock, "-")) {
        d->Error(lock->loc, "invalid lock name '" + rb.lock +
                                "': use lower-case letters, digits and '-', starting with a letter "
                                "or digit");
      }
    }
  }
  ForEachNamed(r.Get("params"), "params", d, [&](const DocNode& k, const DocNode& v) {
    if (auto p = ParseParam(k, v, d)) rb.params.push_back(std::move(*p));
  });
  ForEachNamed(r.Get("secrets"), "secrets", d, [&](const DocNode& k, const DocNode& v) {
    if (auto s = ParseSecret(k, v, d)) rb.secrets.push_back(std::move(*s));
  });
  ParseHosts(r.Get("hosts"), &rb.hosts, d);
  if (!rb.FindHost("local")) {
    Host local;
    local.name = "local";
    local.local = true;
    rb.hosts.push_back(std::move(local));
  }
  ParseDatabases(r.Get("databases"), &rb.databases, d);
  if (const DocNode* defaults = r.Get("defaults")) ParseDefaults(*defaults, &rb.defaults, d);
  if (const DocNode* downtime = r.Get("downtime")) rb.downtime = ParseDowntime(*downtime, d);
  if (const DocNode* steps = r.Require("steps")) {
    if (steps->IsNull() || (steps->IsSeq() && steps->children.empty())) {
      d->Error(steps->loc, "'steps' is empty: a runbook needs at least one step");
    } else {
      rb.steps = ParseSteps(*steps, "steps", kinds, d);
    }
  }
  if (const DocNode* fin = r.Get("finally")) {
    if (!fin->IsNull()) rb.finally = ParseSteps(*fin, "finally", kinds, d);
  }
  return rb;
}

}  // namespace

std::optional<Runbook> ParseRunbook(const std::string& path, const std::string& text,
                                    const KindRegistry& kinds, Diagnostics* diags) {
  Diagnostics d;
  std::optional<Runbook> rb;
  if (std::optional<DocNode> root = ParseYaml(path, text, &d))
    rb = DecodeRunbook(path, *root, kinds, &d);
  // Problems in file order, whichever part of the decoding found them.
  d.SortByLocation();
  diags->Append(d);
  if (!d.ok()) return std::nullopt;
  return rb;
}

namespace {

// `state: {url: URL}`: the team's state store (docs/team.md). The URL sits in a file that is
// shared and committed, so it may not hold a password (~/.pgpass or PGPASSWORD give it).
void ParseStateUrl(const DocNode& state, Inventory* inv, Diagnostics* d) {
  MapReader r(state, "'state' of the inventory", {"url"}, d);
  const DocNode* url = r.Require("url");
  if (!url) return;
  std::optional<std::string> text = ReadString(*url, "'state.url'", d);
  if (!text) return;
  Result<Conninfo> keywords = ParseConninfo(*text);
  if (!keywords.ok()) {
    d->Error(url->loc, "'state.url' is not a PostgreSQL URL or conninfo: " + keywords.message());
    return;
  }
  for (const auto& [keyword, value] : *keywords) {
    if (keyword == "password") {
      d->Error(url->loc,
               "'state.url' holds a password, which would be kept in the inventory file: give "
               "it in ~/.pgpass or PGPASSWORD instead");
      return;
    }
  }
  inv->state_url = std::move(*text);
}

}  // namespace

std::optional<Inventory> ParseInventory(const std::string& path, const std::string& text,
                                        Diagnostics* diags) {
  std::optional<DocNode> root = ParseYaml(path, text, diags);
  if (!root) return std::nullopt;
  Diagnostics d;
  Inventory inv;
  inv.path = path;
  if (root->IsNull()) return inv;  // an empty inventory changes nothing
  MapReader r(*root, "the inventory", kInventoryKeys, &d);
  ParseHosts(r.Get("hosts"), &inv.hosts, &d);
  ParseDatabases(r.Get("databases"), &inv.databases, &d);
  ForEachNamed(r.Get("params"), "params", &d, [&](const DocNode& k, const DocNode& v) {
    if (auto value = ReadString(v, "param '" + k.scalar + "'", &d)) {
      inv.params.emplace_back(NameRef{k.scalar, k.loc}, std::move(*value));
    }
  });
  if (const DocNode* state = r.Get("state")) ParseStateUrl(*state, &inv, &d);
  d.SortByLocation();
  diags->Append(d);
  if (!d.ok()) return std::nullopt;
  return inv;
}

namespace {
template <class T>
void MergeByName(const std::vector<T>& from, std::vector<T>* into) {
  for (const T& item : from) {
    bool replaced = false;
    for (T& existing : *into) {
      if (existing.name == item.name) {
        existing = item;
        replaced = true;
        break;
      }
    }
    if (!replaced) into->push_back(item);
  }
}
}  // namespace

void ApplyInventory(const Inventory& inventory, Runbook* runbook) {
  MergeByName(inventory.hosts, &runbook->hosts);
  MergeByName(inventory.databases, &runbook->databases);
  if (!inventory.state_url.empty()) runbook->state_url = inventory.state_url;
}

}  // namespace runbook
