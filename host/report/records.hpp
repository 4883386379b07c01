// host/report/records.hpp - evaluation results as JSON records, and back.
#pragma once

#include "eval/metrics.hpp"

#include <nlohmann/json.hpp>

namespace tailor::host {

/// Every metric of `r`, per-class vectors included (metrics.jsonl, checkpoints).
nlohmann::json to_json(const EvalResult& r);
/// Inverse of to_json (the confusion matrix is not restored).
EvalResult eval_from_json(const nlohmann::json& j);
/// The headline numbers only (summary.json, logs).
nlohmann::json headline(const EvalResult& r);

}  // namespace tailor::host
