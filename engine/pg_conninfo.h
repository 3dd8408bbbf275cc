// A database's conninfo, keyword by keyword: the one place conninfo text is parsed and written.
//
// A conninfo template (`host=... dbname=${{ params.db }}` or a `postgresql://` URI) is parsed by
// libpq itself (PQconninfoParse) with each `${{ }}` standing in as a placeholder; each rendered
// value then takes its placeholder's place inside the one keyword value where it was written.
// So a value is data whatever it holds: `db = 'src host=10.0.0.9'` makes a database name with a
// space in it, never a second `host` keyword. The keywords reach libpq as keyword/value arrays
// (PQconnectdbParams without expand_dbname), never as text to parse again.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/diag.h"

namespace runbook {

struct Text;           // engine/model.h
struct TemplateScope;  // engine/template.h

// libpq keywords and their values, in the order libpq lists its keywords. Where a keyword
// appears twice (a caller's override appended), the later one wins, as in PQconnectdbParams.
using Conninfo = std::vector<std::pair<std::string, std::string>>;

// Parses literal conninfo text (keyword=value pairs or a URI; a text without '=' that is not a
// URI is a database name, as libpq reads it). Errors are libpq's ("invalid connection option").
Result<Conninfo> ParseConninfo(std::string_view text);

struct ResolvedConninfo {
  Conninfo keywords;
  std::string display;  // FormatConninfo with the password and any secret value shown as ***
};

// Parses the template, then renders its `${{ }}` into the keyword values (see above). A `${{ }}`
// in a keyword's name is an error; so is a template libpq cannot parse (the message quotes the
// expressions as written, never their values).
Result<ResolvedConninfo> ResolveConninfo(const Text& tmpl, const TemplateScope& scope);

// keyword=value text that libpq parses back into `conninfo`: values quoted ('...', with \' and
// \\) where they are empty or hold a space, quote or backslash. With `mask_password`, the
// password keyword's value is ***.
std::string FormatConninfo(const Conninfo& conninfo, bool mask_password);

// The value of `keyword` (the last one), or nullptr.
const std::string* FindKeyword(const Conninfo& conninfo, std::string_view keyword);

}  // namespace runbook
