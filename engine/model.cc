#include "engine/model.h"

#include <algorithm>

namespace runbook {

namespace {
template <class T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.name == name; });
  return it == items.end() ? nullptr : &*it;
}
}  // namespace

const Param* Runbook::FindParam(std::string_view n) const {
  return FindByName(params, n);
}
const Secret* Runbook::FindSecret(std::string_view n) const {
  return FindByName(secrets, n);
}
const Host* Runbook::FindHost(std::string_view n) const {
  return FindByName(hosts, n);
}
const Database* Runbook::FindDatabase(std::string_view n) const {
  return FindByName(databases, n);
}

const Step* Runbook::FindStep(std::string_view id) const {
  for (const auto* list : {&steps, &finally}) {
    for (const Step& s : *list) {
      if (s.id == id) return &s;
    }
  }
  return nullptr;
}

}  // namespace runbook
