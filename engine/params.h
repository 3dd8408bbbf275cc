// Param types and values: checking a value against its declared type, and resolving the final
// value of every param from its default, the inventories and --set.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/diag.h"
#include "engine/loader.h"
#include "engine/model.h"

namespace runbook {

// "string", "integer", "number", "boolean", "path", "duration": the names used in `type:`.
const char* ParamTypeName(ParamType type);
std::optional<ParamType> ParamTypeFromName(std::string_view name);
const std::vector<std::string>& ParamTypeNames();

// "a string", "an integer", "a number", "a boolean (true or false)", "a path",
// "a duration (e.g. 90s, 5m, 2h)": completes "param 'x' is ...".
std::string DescribeParamType(ParamType type);

// Why `value` does not fit `type`, completing "... is ...": DescribeParamType, plus the reason
// for an integer written with a leading zero ("an integer; 010 has a leading zero ...").
std::string DescribeMisfit(ParamType type, std::string_view value);

// The canonical text of `value` as a `type`, or nullopt when it does not fit:
//  integer: optional sign and decimal digits without a leading zero (engine/units.h), fits in
//           64 bits; canonical without '+' ("+7" -> "7", "-0" -> "0");
//  number:  a decimal number, optionally with fraction and exponent ("1.5", "-2e3"), as written;
//  boolean: true or false in any letter case, canonical lower case;
//  duration: as engine/units.h ParseDuration accepts, as written;
//  path: any non-empty text; string: any text.
std::optional<std::string> CanonicalParamValue(ParamType type, std::string_view value);

// A canonical value as JSON keeps its type: an integer or a number as a JSON number, a boolean as
// true or false, anything else (and a number too large for a double, "1e999") as its text.
nlohmann::json ParamJson(ParamType type, const std::string& canonical);

// The text of a param value read back from JSON: a string as it is, a number or boolean as its
// JSON text (a plan saved by a version that wrote every value as text compares equal).
std::string ParamText(const nlohmann::json& value);

// Final param values: each param's default, overridden by the inventories in order, then by the
// --set values in order (later wins). Every value is checked against the param's type:
//  - an inventory value that does not fit is an error at the value:
//      "value 'abc' does not fit: param 'sample_every' is an integer"
//    Inventory params the runbook does not declare are ignored: one inventory may serve several
//    runbooks.
//  - a --set value that does not fit, or names an unknown param, is an error located at
//    "--set" (line 0), e.g. "--set sample_every=abc: param 'sample_every' is an integer" and
//    "--set sampel_every=5: unknown param 'sampel_every' (did you mean 'sample_every'?)";
//  - with RequireParams::kYes, a param left without any value is an error at its declaration:
//      "param 'workdir' is required: set it with --set workdir=VALUE or in an inventory"
//    With kNo such params are simply absent from the result.
// Every problem is reported, not only the first.
ParamValues ResolveParams(const Runbook& runbook, const std::vector<Inventory>& inventories,
                          const std::vector<std::pair<std::string, std::string>>& sets,
                          RequireParams require, Diagnostics* diags);

// Sets the durations that a runbook takes from params (a guard's `wait: "${{ params.NAME }}"`,
// Guard::wait_param) from the resolved values. Call after ResolveParams. Errors, at the
// reference: an unknown param ("unknown param 'idle_wiat' (did you mean 'idle_wait'?)"), or one
// whose type is not duration. A param without a value (RequireParams::kNo) leaves `wait` unset.
void ApplyParamDurations(const ParamValues& values, Runbook* runbook, Diagnostics* diags);

}  // namespace runbook
