// Cross-reference validation of a parsed runbook: everything that needs the whole model.
//
// The loader (engine/parse.h) has checked the shape of every field; this checks that the
// pieces fit together, and reports every problem in one pass, each at the offending value, with
// a "did you mean" suggestion when a known name is close:
//  - step ids are unique across `steps` and `finally`
//      "duplicate step id 'x' (first at 12:5)";
//  - `needs` names known steps, not itself, not a finally step (from a step), not a later
//    finally step (from a finally step: they run in file order); no dependency cycles
//      "dependency cycle: a -> b -> c -> a" (at the first step of the cycle);
//  - every `${{ }}` in every text field parses and names known params, secrets, steps and
//    databases; `steps.Y.outcome` in step X needs Y among X's (transitive) needs, or, in a
//    finally step, a step or an earlier finally step; database fields may use params, env and
//    (in `password` only) secrets;
//  - no secret in a command line (`run`, a `command` guard, a backup's `verify`) or in `user` or
//    `cwd`: they are visible to every user of the machine in the process list;
//  - hosts and databases named by `host`, `db`, `from`, `to`, `tunnel`, guard `host` and
//    `defaults.host` exist;
//  - `copy_rows.match.step` is an earlier copy_rows step the step (transitively) needs;
//  - `sql` has exactly one of `query` and `file`; no `${{ }}` inside an SQL string or comment;
//  - an `if:` is a well-formed condition;
//  - `downtime` names steps, and its `to` ends after its `from` starts whatever runs in parallel
//    (the same step, one that needs it directly or not, or a later finally step).
#pragma once

#include "engine/diag.h"
#include "engine/graph.h"
#include "engine/model.h"

namespace runbook {

// Reports every problem to `diags`. When the steps have no dependency cycle and `graph` is not
// null, `*graph` receives their graph (BuildGraph's), so that callers need not build it again.
void ValidateRunbook(const Runbook& rb, Diagnostics* diags, Graph* graph = nullptr);

}  // namespace runbook
