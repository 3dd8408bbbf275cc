// The human rendering of a plan (engine/plan.h builds it as JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace runbook {

std::string PlanToText(const nlohmann::json& plan, bool color);

}  // namespace runbook
