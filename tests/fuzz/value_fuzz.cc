// libFuzzer target: values as an attacker would write them, where they meet templates and conninfo.
// The first byte picks a case, the rest is the value (or the template text):
//   - a conninfo template from kConninfos with the value as params.v: resolving it must either
//     fail or give exactly the keywords the template gives with a harmless value, the value whole
//     inside its own keyword, and text that libpq parses back to the same keywords;
//   - the bytes as a template (RenderText, CollectRefs, CollectConditionRefs) with a scope whose
//     param and secret hold the bytes too: no crash, and a rendered secret never in the display.
// A broken promise aborts, which libFuzzer reports with the input that broke it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"
#include "engine/pg_conninfo.h"
#include "engine/template.h"

namespace {

using runbook::Conninfo;

// Templates the shipped runbooks and docs use, and the odd places a template can sit. Where
// `whole` is set, params.v is the keyword's whole value.
struct ConninfoCase {
  const char* text;
  const char* keyword;
  bool whole;
};
constexpr ConninfoCase kConninfos[] = {
    {"host=db.internal port=5432 dbname=${{ params.v }} user=jane", "dbname", true},
    {"dbname='${{ params.v }}' host=/run/postgresql", "dbname", true},
    {"host=${{ params.v }}.internal dbname=app", "host", false},
    {"postgresql://jane@db.internal/${{ params.v }}", "dbname", true},
    {"postgresql://${{ params.v }}@db.internal/app", "user", true},
    {"${{ params.v }}", "dbname", true},
    {"dbname=app options='-c search_path=${{ params.v }}'", "options", false},
    {"dbname=app password=${{ secrets.v }}", "password", true},
};

[[noreturn]] void Broken(const char* promise, const std::string& detail) {
  std::fprintf(stderr, "broken promise: %s: %s\n", promise, detail.c_str());
  std::abort();
}

std::vector<std::string> Keywords(const Conninfo& c) {
  std::vector<std::string> names;
  for (const auto& [k, v] : c) names.push_back(k);
  return names;
}

void FuzzConninfo(const ConninfoCase& c, const std::string& value) {
  std::map<std::string, std::string> params{{"v", value}}, secrets{{"v", value}};
  runbook::TemplateScope scope;
  scope.params = &params;
  scope.secrets = &secrets;
  runbook::Text tmpl;
  tmpl.raw = c.text;
  auto r = runbook::ResolveConninfo(tmpl, scope);
  if (!r.ok()) return;  // refused: the value went nowhere

  std::map<std::string, std::string> harmless_params{{"v", "x"}}, harmless_secrets{{"v", "x"}};
  runbook::TemplateScope harmless = scope;
  harmless.params = &harmless_params;
  harmless.secrets = &harmless_secrets;
  auto expected = runbook::ResolveConninfo(tmpl, harmless);
  if (!expected.ok()) Broken("the template resolves with a harmless value", expected.message());
  if (Keywords(r->keywords) != Keywords(expected->keywords)) {
    Broken("no value adds or removes a keyword", runbook::FormatConninfo(r->keywords, true));
  }
  const std::string* got = runbook::FindKeyword(r->keywords, c.keyword);
  if (got == nullptr) Broken("the value's keyword is there", c.keyword);
  if (c.whole ? *got != value : got->find(value) == std::string::npos) {
    Broken("the value stays whole inside its keyword", c.keyword);
  }
  if (value.find('\0') == std::string::npos) {
    auto again = runbook::ParseConninfo(runbook::FormatConninfo(r->keywords, false));
    if (!again.ok() || *again != r->keywords) {
      Broken("written back, libpq reads the same keywords",
             again.ok() ? runbook::FormatConninfo(*again, true) : again.message());
    }
  }
  if (runbook::FindKeyword(r->keywords, "password") != nullptr &&
      r->display.find("password=***") == std::string::npos) {
    Broken("the display masks the password", r->display);
  }
}

void FuzzTemplate(const std::string& text) {
  // A secret long enough that finding it in the display means it was not masked.
  const std::string secret = "s3cret-" + text;
  std::map<std::string, std::string> params{{"v", text}}, secrets{{"v", secret}};
  std::map<std::string, std::string> outcomes{{"a", "success"}};
  runbook::TemplateScope scope;
  scope.params = &params;
  scope.secrets = &secrets;
  scope.step_outcomes = &outcomes;
  scope.run_id = "20261207T000000Z-fuzz";
  scope.env = [](const std::string&) { return std::optional<std::string>("e"); };
  scope.db_conninfo = [](const std::string&) { return std::optional<std::string>("dbname=x"); };
  runbook::Text t;
  t.raw = text;
  runbook::Diagnostics diags;
  (void)runbook::CollectRefs(t, &diags);
  (void)runbook::CollectConditionRefs(t, &diags);
  auto r = runbook::RenderText(t, scope);
  if (r.ok() && r->used_secret && r->display.find(secret) != std::string::npos) {
    Broken("a rendered secret is masked in the display", r->display);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr size_t kCases = sizeof kConninfos / sizeof kConninfos[0];
  const size_t pick = data[0] % (kCases + 1);
  if (pick < kCases) {
    FuzzConninfo(kConninfos[pick], rest);
  } else {
    FuzzTemplate(rest);
  }
  return 0;
}
