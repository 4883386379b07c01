// host/report/records.hpp - training and evaluation results as JSON records, and back.
#pragma once

#include "eval/metrics.hpp"

#include <ATen/Tensor.h>
#include <nlohmann/json.hpp>

#include <string>

namespace tailor::host {

/// Every metric of `r`, per-class vectors included (metrics.jsonl, checkpoints).
nlohmann::json to_json(const EvalResult& r);
/// Inverse of to_json (the confusion matrix is not restored).
EvalResult eval_from_json(const nlohmann::json& j);
/// The headline numbers only (summary.json, logs).
nlohmann::json headline(const EvalResult& r);
/// The metrics.jsonl record of a training epoch (1-based over all stages); the loss's
/// current per-class weights go in as "class_weights" when defined and not empty.
nlohmann::json train_record(int64_t epoch, const std::string& stage, double loss, double lr,
                            int64_t samples, const at::Tensor& class_weights);

}  // namespace tailor::host
