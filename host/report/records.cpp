// host/report/records.cpp - JSON forms of evaluation results.
#include "report/records.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace tailor::host {
namespace {

nlohmann::json numbers(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x));
  return a;
}

std::vector<double> from_numbers(const nlohmann::json& a) {
  std::vector<double> v;
  for (const auto& x : a)
    v.push_back(x.is_null() ? std::numeric_limits<double>::quiet_NaN() : x.get<double>());
  return v;
}

// An empty group's NaN is written as null: absent, not a number.
nlohmann::json number_or_null(double v) {
  return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

// `scaled`: the pass was also scored after temperature scaling (ece_ts; null when empty).
nlohmann::json group_json(const GroupResult& g, bool scaled) {
  nlohmann::json j = {{"classes", g.classes},
                      {"samples", g.samples},
                      {"accuracy", number_or_null(g.accuracy)},
                      {"ece", number_or_null(g.ece)}};
  if (scaled) j["ece_ts"] = number_or_null(g.ece_ts);
  return j;
}

// null (an empty group) reads back as NaN.
double number_or_nan(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

GroupResult group_from(const nlohmann::json& j) {
  GroupResult g;
  g.classes = j.at("classes").get<int64_t>();
  g.samples = j.at("samples").get<int64_t>();
  g.accuracy = number_or_nan(j.at("accuracy"));
  g.ece = number_or_nan(j.at("ece"));
  if (j.contains("ece_ts")) g.ece_ts = number_or_nan(j.at("ece_ts"));
  return g;
}

nlohmann::json threshold_group_json(const ThresholdGroupResult& g) {
  return {{"classes", g.classes},
          {"samples", g.samples},
          {"recall", g.recall},
          {"precision", g.precision}};
}

ThresholdGroupResult threshold_group_from(const nlohmann::json& j) {
  ThresholdGroupResult g;
  g.classes = j.at("classes").get<int64_t>();
  g.samples = j.at("samples").get<int64_t>();
  g.recall = j.at("recall").get<double>();
  g.precision = j.at("precision").get<double>();
  return g;
}

}  // namespace

nlohmann::json headline(const EvalResult& r) {
  const bool scaled = !std::isnan(r.ece_ts);
  nlohmann::json j = {{"samples", r.num_samples},
                      {"top1", r.top1},
                      {"top5", r.top5},
                      {"error", 1.0 - r.top1},
                      {"mean_class_recall", r.mean_class_recall},
                      {"mean_class_precision", r.mean_class_precision},
                      {"loss", r.loss},
                      {"ece", r.ece},
                      {"many", group_json(r.many, scaled)},
                      {"medium", group_json(r.medium, scaled)},
                      {"few", group_json(r.few, scaled)}};
  // Temperature scaling: the T fitted (val) or applied (test), and the test ECE at T.
  if (!std::isnan(r.temperature)) j["temperature"] = r.temperature;
  if (!std::isnan(r.ece_ts)) j["ece_ts"] = r.ece_ts;
  if (r.majority_threshold > 0) {
    // CDB's EGTEA groups: train count above / below the threshold.
    j["majority_threshold"] = r.majority_threshold;
    j["majority"] = threshold_group_json(r.majority);
    j["minority"] = threshold_group_json(r.minority);
  }
  return j;
}

nlohmann::json to_json(const EvalResult& r) {
  nlohmann::json j = headline(r);
  j["per_class_recall"] = numbers(r.recall);
  j["per_class_precision"] = numbers(r.precision);
  j["support"] = r.support;
  j["correct"] = r.correct;
  j["predicted"] = r.predicted;
  return j;
}

EvalResult eval_from_json(const nlohmann::json& j) {
  EvalResult r;
  r.num_samples = j.at("samples").get<int64_t>();
  r.top1 = j.at("top1").get<double>();
  r.top5 = j.at("top5").get<double>();
  r.mean_class_recall = j.at("mean_class_recall").get<double>();
  r.mean_class_precision = j.at("mean_class_precision").get<double>();
  r.loss = j.at("loss").get<double>();
  r.ece = j.at("ece").get<double>();
  r.many = group_from(j.at("many"));
  r.medium = group_from(j.at("medium"));
  r.few = group_from(j.at("few"));
  if (j.contains("temperature")) r.temperature = j.at("temperature").get<double>();
  if (j.contains("ece_ts")) r.ece_ts = j.at("ece_ts").get<double>();
  if (j.contains("majority_threshold")) {
    r.majority_threshold = j.at("majority_threshold").get<int64_t>();
    r.majority = threshold_group_from(j.at("majority"));
    r.minority = threshold_group_from(j.at("minority"));
  }
  r.recall = from_numbers(j.at("per_class_recall"));
  r.precision = from_numbers(j.at("per_class_precision"));
  r.support = j.at("support").get<std::vector<int64_t>>();
  r.correct = j.at("correct").get<std::vector<int64_t>>();
  r.predicted = j.at("predicted").get<std::vector<int64_t>>();
  return r;
}

nlohmann::json train_record(int64_t epoch, const std::string& stage, double loss, double lr,
                            int64_t samples, const at::Tensor& class_weights) {
  nlohmann::json record = {{"epoch", epoch}, {"stage", stage}, {"split", "train"},
                           {"loss", loss},   {"lr", lr},       {"samples", samples}};
  if (class_weights.defined() && class_weights.numel() > 0) {
    const at::Tensor w = class_weights.detach().to(at::kCPU, at::kDouble).contiguous();
    record["class_weights"] =
        std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
  }
  return record;
}

}  // namespace tailor::host
