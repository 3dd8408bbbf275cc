// Decoding helpers over DocNode that report problems into Diagnostics and keep going.
//
// Every getter returns nullopt both when the key is absent (no error) and when the value has the
// wrong shape (one error, at the value). Decoders read every field they can, so one pass reports
// every problem in a file. Message shapes (the location is the value's, or the key's):
//   expected a string for 'description', got a mapping
//   expected true or false for 'idempotent', got 'yes'
//   'timeout': '5 minutes' is not a duration: use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d
//   unknown key 'nedds' in step 'x' (did you mean 'needs'?)
//   unknown key 'zz' in step 'x'; valid keys: id, description, ...
//   missing required key 'db' in 'sql' of step 'x'
//
// Scalar rules:
//  - strings and Text accept any scalar, plain or quoted (`port: 22` read as a string is "22"),
//    never null, a mapping or a sequence;
//  - booleans are plain true/false (also True/TRUE/False/FALSE). yes/no/on/off and quoted
//    "true" are refused: YAML 1.1 and 1.2 disagree on them, so we do not guess;
//  - integers are decimal, optionally signed, plain or quoted; out of range is an error;
//  - durations and sizes as in engine/units.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/diag.h"
#include "engine/doc.h"
#include "engine/model.h"

namespace runbook {

// Free decoders for one node; `what` names it in messages, e.g. "'needs'" or "param 'x'".
std::optional<std::string> ReadString(const DocNode& n, std::string_view what, Diagnostics* d);
std::optional<Text> ReadText(const DocNode& n, std::string_view what, Diagnostics* d);
std::optional<NameRef> ReadName(const DocNode& n, std::string_view what, Diagnostics* d);
std::optional<bool> ReadBool(const DocNode& n, std::string_view what, Diagnostics* d);
std::optional<int64_t> ReadInt(const DocNode& n, std::string_view what, int64_t min, int64_t max,
                               Diagnostics* d);
std::optional<Duration> ReadDuration(const DocNode& n, std::string_view what, Diagnostics* d);
// The index in `choices` of a scalar that is one of them. Otherwise reports "WHAT must be a, b or
// c, got 'x'", with a suggestion when the scalar is near one of them.
std::optional<size_t> ReadChoice(const DocNode& n, std::string_view what,
                                 const std::vector<std::string>& choices, Diagnostics* d);
// A sequence of scalars. With AllowSingle::kYes a lone scalar counts as a one-item list
// (`needs: build`).
enum class AllowSingle { kNo, kYes };
std::optional<std::vector<Text>> ReadTextList(const DocNode& n, std::string_view what,
                                              AllowSingle single, Diagnostics* d);
// Reports "expected EXPECTED for WHAT, got KIND" at n.
void ReportType(const DocNode& n, std::string_view expected, std::string_view what, Diagnostics* d);

// Text with a literal value checked now: when `t` has no `${{ }}`, `check` (a units.h parser)
// must accept it, else an error "WHAT: MESSAGE" at t.loc. Templated values are left for later.
template <class Check>
void CheckLiteral(const Text& t, std::string_view what, Check check, Diagnostics* d) {
  if (t.HasTemplate()) return;
  auto r = check(t.raw);
  if (!r.ok()) d->Error(t.loc, std::string(what) + ": " + r.message());
}

// Reads one mapping. Construction checks the shape and the keys; getters mark nothing and may be
// called in any order.
class MapReader {
 public:
  // `context` names the mapping in messages ("step 'x'", "the runbook", "'sql' of step 'x'").
  // `allowed` lists every valid key. When `node` is not a mapping, reports
  // "expected a mapping for CONTEXT, got KIND" and the reader has no entries (ok() is false).
  MapReader(const DocNode& node, std::string context, const std::vector<std::string>& allowed,
            Diagnostics* diags);

  bool ok() const { return ok_; }
  const DocNode& node() const { return node_; }
  const std::string& context() const { return context_; }
  Diagnostics* diags() const { return diags_; }
  // Unknown keys found, with the suggestion made for each (empty when none).
  const std::vector<std::pair<const DocNode*, std::string>>& unknown_keys() const {
    return unknown_;
  }

  // The value and key nodes of `key`, or nullptr when absent.
  const DocNode* Get(std::string_view key) const;
  const DocNode* GetKey(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key) != nullptr; }
  // Reports "missing required key 'KEY' in CONTEXT" at the mapping when absent.
  const DocNode* Require(std::string_view key) const;

  std::optional<std::string> String(std::string_view key) const;
  std::optional<Text> GetText(std::string_view key) const;
  std::optional<NameRef> Name(std::string_view key) const;
  std::optional<bool> Bool(std::string_view key) const;
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max) const;
  std::optional<Duration> GetDuration(std::string_view key) const;
  std::optional<size_t> Choice(std::string_view key, const std::vector<std::string>& choices) const;
  std::optional<std::vector<Text>> TextList(std::string_view key, AllowSingle single) const;
  // Required variants: absent is an error (see Require).
  std::optional<Text> RequireText(std::string_view key) const;
  std::optional<NameRef> RequireName(std::string_view key) const;

 private:
  std::string Quoted(std::string_view key) const { return "'" + std::string(key) + "'"; }

  const DocNode& node_;
  std::string context_;
  Diagnostics* diags_;
  bool ok_ = false;
  std::vector<std::pair<const DocNode*, std::string>> unknown_;
};

}  // namespace runbook
