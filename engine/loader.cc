#include "engine/loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/params.h"
#include "engine/parse.h"
#include "engine/validate.h"

namespace runbook {

namespace {

bool ReadFile(const std::string& path, std::string* text, Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags->Error({InternFileName(path), 0, 0}, "cannot read the file");
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  *text = buf.str();
  return true;
}

}  // namespace

std::optional<LoadedRunbook> LoadRunbookFromString(const std::string& path, const std::string& text,
                                                   const LoadOptions& options, Diagnostics* diags) {
  Diagnostics local;
  std::optional<Runbook> rb = ParseRunbook(path, text, &local);
  std::vector<Inventory> inventories;
  for (const std::string& inv_path : options.inventories) {
    std::string inv_text;
    if (!ReadFile(inv_path, &inv_text, &local)) continue;
    if (auto inv = ParseInventory(inv_path, inv_text, &local)) inventories.push_back(std::move(*inv));
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
  ParamValues params = ResolveParams(*rb, inventories, options.sets, options.require_params, &local);
  ApplyParamDurations(params, &*rb, &local);
  ValidateRunbook(*rb, &local);
  if (!local.ok()) {
    local.SortByLocation();
    diags->Append(local);
    return std::nullopt;
  }
  return LoadedRunbook{std::move(*rb), std::move(params)};
}

std::optional<LoadedRunbook> LoadRunbook(const std::string& path, const LoadOptions& options,
                                         Diagnostics* diags) {
  std::string text;
  if (!ReadFile(path, &text, diags)) return std::nullopt;
  return LoadRunbookFromString(path, text, options, diags);
}

}  // namespace runbook
