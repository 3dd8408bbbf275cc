#include "engine/loader.h"

#include <filesystem>

#include "engine/params.h"
#include "engine/parse.h"
#include "engine/read_file.h"
#include "engine/validate.h"

namespace runbook {

namespace {

bool ReadInput(const std::string& path, std::string* text, Diagnostics* diags) {
  if (!ReadFile(path, text)) {
    diags->Error({InternFileName(path), 0, 0}, "cannot read the file");
    return false;
  }
  return true;
}

// Loading after the runbook's text has been parsed into `rb` (nullopt: it had errors, already
// in `local`): inventories, params, validation.
std::optional<LoadedRunbook> FinishLoading(const std::string& path, std::optional<Runbook> rb,
                                           Diagnostics local, const LoadOptions& options,
                                           Diagnostics* diags) {
  std::vector<Inventory> inventories;
  for (const std::string& inv_path : options.inventories) {
    std::string inv_text;
    if (!ReadInput(inv_path, &inv_text, &local)) continue;
    if (auto inv = ParseInventory(inv_path, inv_text, &local))
      inventories.push_back(std::move(*inv));
  }
  if (!rb) {
    diags->Append(local);
    if (diags->ok()) diags->Error({InternFileName(path), 0, 0}, "invalid runbook");
    return std::nullopt;
  }
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  rb->path = ec ? path : abs.lexically_normal().string();
  for (const Inventory& inv : inventories) ApplyInventory(inv, &*rb);
  ParamValues params =
      ResolveParams(*rb, inventories, options.sets, options.require_params, &local);
  ApplyParamDurations(params, &*rb, &local);
  Graph graph;
  ValidateRunbook(*rb, &local, &graph);
  if (!local.ok()) {
    local.SortByLocation();
    diags->Append(local);
    return std::nullopt;
  }
  return LoadedRunbook{std::move(*rb), std::move(params), std::move(graph)};
}

}  // namespace

std::optional<LoadedRunbook> LoadRunbookFromString(const std::string& path, const std::string& text,
                                                   const LoadOptions& options, Diagnostics* diags) {
  Diagnostics local;
  std::optional<Runbook> rb = ParseRunbook(path, text, *options.kinds, &local);
  return FinishLoading(path, std::move(rb), std::move(local), options, diags);
}

std::optional<LoadedRunbook> LoadRunbook(const std::string& path, const LoadOptions& options,
                                         Diagnostics* diags) {
  InputFile file;
  if (!file.Open(path)) {
    diags->Error({InternFileName(path), 0, 0}, "cannot read the file");
    return std::nullopt;
  }
  std::optional<Runbook> rb;
  Diagnostics local;
  if (file.regular()) {
    rb = ParseRunbookFile(path, &file, *options.kinds, &local);  // read as it is parsed
  } else {
    rb = ParseRunbook(path, file.ReadRest(), *options.kinds,
                      &local);  // a pipe: it can be read once only
  }
  return FinishLoading(path, std::move(rb), std::move(local), options, diags);
}

}  // namespace runbook
