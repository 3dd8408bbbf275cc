#include "engine/loader.h"

#include <filesystem>

#include "engine/params.h"
#include "engine/parse.h"
#include "engine/read_file.h"
#include "engine/validate.h"

namespace runbook {

namespace {

bool ReadInput(const std::string& path, std::string* text, Diagnostics* diags) {
  Result<std::string> read = ReadFile(path);
  if (!read.ok()) {
    diags->Error({path, 0, 0}, read.message());
    return false;
  }
  *text = std::move(read).value();
  return true;
}

}  // namespace

std::optional<LoadedRunbook> LoadRunbookFromString(const std::string& path, const std::string& text,
                                                   const LoadOptions& options, Diagnostics* diags) {
  Diagnostics local;
  std::optional<Runbook> rb = ParseRunbook(path, text, *options.kinds, &local);
  std::vector<Inventory> inventories;
  for (const std::string& inv_path : options.inventories) {
    std::string inv_text;
    if (!ReadInput(inv_path, &inv_text, &local)) continue;
    if (auto inv = ParseInventory(inv_path, inv_text, &local))
      inventories.push_back(std::move(*inv));
  }
  if (!rb) {
    diags->Append(local);
    if (diags->ok()) diags->Error({path, 0, 0}, "invalid runbook");
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

std::optional<LoadedRunbook> LoadRunbook(const std::string& path, const LoadOptions& options,
                                         Diagnostics* diags) {
  std::string text;
  if (!ReadInput(path, &text, diags)) return std::nullopt;
  return LoadRunbookFromString(path, text, options, diags);
}

}  // namespace runbook
