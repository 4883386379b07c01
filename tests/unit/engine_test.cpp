// Unit tests of the engine's parts: batch shards, schedules, metrics, optimiser groups.
// (Samplers and heads are plugins; their tests are in plugins/samplers and plugins/heads.)
#include "data/batch_loader.hpp"
#include "dist/env.hpp"
#include "engine/optim.hpp"
#include "eval/metrics.hpp"
#include "report/records.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>

using namespace tailor;
using namespace tailor::host;

TEST_CASE("a batch's shards are contiguous, in rank order, and differ by at most one",
          "[sampler][distributed]") {
  for (int64_t world : {1, 2, 3, 4}) {
    for (int64_t n : {1, 5, 12, 13}) {
      int64_t next = 0, smallest = n, largest = 0;
      for (int64_t rank = 0; rank < world; ++rank) {
        const BatchShard s = shard_batch(n, rank, world);
        CHECK(s.offset == next);
        next += s.count;
        smallest = std::min(smallest, s.count);
        largest = std::max(largest, s.count);
      }
      CHECK(next == n);
      CHECK(largest - smallest <= 1);
    }
  }
}

TEST_CASE("N ranks together draw exactly one process's stream", "[distributed]") {
  // Any global stream (a sampler plugin's, with repetitions): here a fixed pseudo-random one.
  std::vector<int64_t> order(100);
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>((i * 37 + 11) % 23);
  const int64_t batch = 12;
  for (int64_t world : {1, 2, 3}) {
    // Batch by batch, the ranks' slices put together are the one-process batch.
    std::vector<int64_t> joined;
    for (size_t begin = 0; begin < order.size(); begin += batch) {
      const int64_t n = std::min<int64_t>(batch, static_cast<int64_t>(order.size() - begin));
      for (int64_t rank = 0; rank < world; ++rank) {
        const BatchShard shard = shard_batch(n, rank, world);
        joined.insert(joined.end(), order.begin() + static_cast<int64_t>(begin) + shard.offset,
                      order.begin() + static_cast<int64_t>(begin) + shard.offset + shard.count);
      }
    }
    INFO("world " << world);
    CHECK(joined == order);
  }
}

TEST_CASE("learning-rate schedules follow their curves", "[schedule]") {
  ScheduleOptions s;
  SECTION("cosine from lr to min_lr") {
    s.type = ScheduleOptions::Type::kCosine;
    s.min_lr = 0.0;
    CHECK(scheduled_lr(s, 0.1, 0, 10) == Approx(0.1));
    CHECK(scheduled_lr(s, 0.1, 5, 10) == Approx(0.05));
    CHECK(scheduled_lr(s, 0.1, 9, 10) == Approx(0.05 * (1 + std::cos(M_PI * 0.9))));
  }
  SECTION("multistep (LDAM-DRW: x0.01 at 160, x0.0001 at 180) with linear warm-up") {
    s.type = ScheduleOptions::Type::kMultistep;
    s.milestones = {160, 180};
    s.gamma = 0.01;
    s.warmup_epochs = 5;
    CHECK(scheduled_lr(s, 0.1, 0, 200) == Approx(0.02));  // (e+1)/5
    CHECK(scheduled_lr(s, 0.1, 4, 200) == Approx(0.1));
    CHECK(scheduled_lr(s, 0.1, 159, 200) == Approx(0.1));
    CHECK(scheduled_lr(s, 0.1, 160, 200) == Approx(0.001));
    CHECK(scheduled_lr(s, 0.1, 180, 200) == Approx(0.00001));
  }
  SECTION("step") {
    s.type = ScheduleOptions::Type::kStep;
    s.step_size = 3;
    s.gamma = 0.5;
    CHECK(scheduled_lr(s, 1.0, 2, 10) == Approx(1.0));
    CHECK(scheduled_lr(s, 1.0, 3, 10) == Approx(0.5));
    CHECK(scheduled_lr(s, 1.0, 7, 10) == Approx(0.25));
  }
  SECTION("warm-up from a start factor") {
    s.type = ScheduleOptions::Type::kConstant;
    s.warmup_epochs = 4;
    s.warmup_start = 0.2;
    CHECK(scheduled_lr(s, 1.0, 0, 10) == Approx(0.2 + 0.8 * 0.25));
    CHECK(scheduled_lr(s, 1.0, 4, 10) == Approx(1.0));
  }
}

TEST_CASE("no_decay rules select parameters", "[optimizer]") {
  const at::Tensor matrix = at::zeros({2, 2}), vector = at::zeros({2});
  CHECK(excluded_from_decay("head.bias", vector, {"head.bias"}));
  CHECK_FALSE(excluded_from_decay("head.weight", matrix, {"head.bias"}));
  CHECK(excluded_from_decay("backbone.conv.bias", vector, {"bias"}));
  CHECK(excluded_from_decay("backbone.bn1.weight", vector, {"norm"}));
  CHECK_FALSE(excluded_from_decay("backbone.conv1.weight", matrix, {"norm"}));
  CHECK(excluded_from_decay("backbone.layer1.x", matrix, {"backbone.layer1."}));
}

TEST_CASE("metrics on an unbalanced test set", "[metrics]") {
  // Train counts give groups: class 0 many (200), class 1 medium (50), class 2 few (5).
  Evaluator e({200, 50, 5}, 100, 20, 15);
  // 6 samples of class 0 (all right), 3 of class 1 (1 right), 1 of class 2 (wrong).
  const at::Tensor targets = at::tensor({0, 0, 0, 0, 0, 0, 1, 1, 1, 2}, at::kLong);
  const at::Tensor pred = at::tensor({0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, at::kLong);
  e.add(at::one_hot(pred, 3).to(at::kFloat) * 10.0, targets);
  const EvalResult r = e.result();
  CHECK(r.top1 == Approx(0.7));                                     // 7 of 10
  CHECK(r.mean_class_recall == Approx((1.0 + 1.0 / 3 + 0.0) / 3));  // micro != macro
  CHECK(r.recall[1] == Approx(1.0 / 3));
  CHECK(r.precision[0] == Approx(6.0 / 9));
  CHECK(r.precision[2] == 0.0);  // never predicted counts as 0
  CHECK(r.mean_class_precision == Approx((6.0 / 9 + 1.0 + 0.0) / 3));
  CHECK(r.many.classes == 1);
  CHECK(r.medium.accuracy == Approx(1.0 / 3));
  CHECK(r.few.accuracy == 0.0);
  CHECK(r.few.samples == 1);
  CHECK(r.confusion[1][0].item<int64_t>() == 2);
  CHECK(r.top5 == 1.0);
}

TEST_CASE("an empty shot group is absent: NaN, null in JSON, a dash in logs", "[metrics]") {
  // Train counts 500 and 300: many (> 100) and none medium or few.
  Evaluator e({500, 300}, 100, 20, 15);
  const at::Tensor targets = at::tensor({0, 1, 1}, at::kLong);
  e.add(at::one_hot(targets, 2).to(at::kFloat) * 10.0, targets);
  const EvalResult r = e.result();
  CHECK(r.many.accuracy == 1.0);
  CHECK(r.few.classes == 0);
  CHECK(std::isnan(r.few.accuracy));
  CHECK(std::isnan(r.few.ece));
  CHECK(std::isnan(r.medium.accuracy));
  CHECK(group_percent(r.many) == "100.0");
  CHECK(group_percent(r.few) == "–");
  const nlohmann::json j = to_json(r);
  CHECK(j["few"]["accuracy"].is_null());
  CHECK(j["few"]["ece"].is_null());
  CHECK(j.dump().find("nan") == std::string::npos);
  const EvalResult back = eval_from_json(j);
  CHECK(std::isnan(back.few.accuracy));
  CHECK(back.many.accuracy == 1.0);
}

TEST_CASE("majority/minority recall and precision (CDB on EGTEA)", "[metrics]") {
  // Train counts with threshold 600: classes 0, 1 majority (> 600), 3, 4 minority (< 600),
  // class 2 (exactly 600) in neither group.
  Evaluator e({900, 700, 600, 100, 20}, 100, 20, 15, /*majority_threshold=*/600);
  const at::Tensor targets = at::tensor({0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4}, at::kLong);
  const at::Tensor pred = at::tensor({0, 0, 0, 1, 1, 0, 2, 2, 0, 3, 0}, at::kLong);
  e.add(at::one_hot(pred, 5).to(at::kFloat) * 10.0, targets);
  const EvalResult r = e.result();
  // Recall 3/4, 1/2, 1, 1/2, 0; predictions per class 6, 2, 2, 1, 0, so precision
  // 3/6, 1/2, 1, 1, 0 (class 4 is never predicted: 0).
  CHECK(r.top1 == Approx(7.0 / 11));
  CHECK(r.mean_class_recall == Approx((0.75 + 0.5 + 1 + 0.5 + 0) / 5));
  CHECK(r.mean_class_precision == Approx((0.5 + 0.5 + 1 + 1 + 0) / 5));
  CHECK(r.majority_threshold == 600);
  CHECK(r.majority.classes == 2);
  CHECK(r.majority.samples == 6);
  CHECK(r.majority.recall == Approx((0.75 + 0.5) / 2));
  CHECK(r.majority.precision == Approx((0.5 + 0.5) / 2));
  CHECK(r.minority.classes == 2);
  CHECK(r.minority.samples == 3);
  CHECK(r.minority.recall == Approx((0.5 + 0.0) / 2));
  CHECK(r.minority.precision == Approx((1.0 + 0.0) / 2));

  // Recorded next to many/medium/few, and read back.
  const nlohmann::json j = tailor::host::headline(r);
  CHECK(j.at("majority_threshold").get<int64_t>() == 600);
  CHECK(j.at("majority").at("recall").get<double>() == Approx(0.625));
  CHECK(j.at("minority").at("precision").get<double>() == Approx(0.5));
  const EvalResult back = tailor::host::eval_from_json(tailor::host::to_json(r));
  CHECK(back.majority.precision == Approx(0.5));
  CHECK(back.minority.classes == 2);

  // Off by default: no groups, nothing recorded.
  Evaluator off({900, 700, 600, 100, 20}, 100, 20, 15);
  off.add(at::one_hot(pred, 5).to(at::kFloat), targets);
  const EvalResult none = off.result();
  CHECK(none.majority.classes == 0);
  CHECK_FALSE(tailor::host::headline(none).contains("majority"));
}

TEST_CASE("expected calibration error on a hand-made example", "[metrics]") {
  Evaluator e({200, 200}, 100, 20, 10);
  // Two samples at confidence 0.9 (one right), two at confidence 0.6 (both right).
  const double l9 = std::log(0.9 / 0.1), l6 = std::log(0.6 / 0.4);
  const at::Tensor logits =
      at::tensor({l9, 0.0, l9, 0.0, l6, 0.0, 0.0, l6}, at::kDouble).view({4, 2});
  const at::Tensor targets = at::tensor({0, 1, 0, 1}, at::kLong);
  e.add(logits, targets);
  const EvalResult r = e.result();
  // Bins: (0.8, 0.9] holds conf 0.9 x2 with accuracy 0.5 -> |1.8 - 1|; (0.5, 0.6] holds
  // 0.6 x2 with accuracy 1 -> |1.2 - 2|. ECE = (0.8 + 0.8) / 4.
  CHECK(r.ece == Approx(0.4).epsilon(1e-5));
  CHECK(r.many.ece == Approx(0.4).epsilon(1e-5));
}

namespace {
nlohmann::json calibration_golden() {
  std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/golden/data/calibration.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

at::Tensor golden_logits(const nlohmann::json& c) {
  const auto rows = c.at("logits").get<std::vector<std::vector<float>>>();
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return at::tensor(flat).view({static_cast<int64_t>(rows.size()), -1});
}

double nan_if_null(const nlohmann::json& j) {
  return j.is_null() ? std::nan("") : j.get<double>();
}
}  // namespace

// tests/golden/calibration.py: SciPy's bounded minimiser for T, the ECE from its definition.
TEST_CASE("temperature scaling fits the least-NLL temperature and scores the ECE after it",
          "[metrics][golden]") {
  for (const auto& c : calibration_golden().at("cases")) {
    DYNAMIC_SECTION(c.at("name").get<std::string>()) {
      const auto counts = c.at("class_counts").get<std::vector<int64_t>>();
      const at::Tensor logits = golden_logits(c);
      const at::Tensor targets = at::tensor(c.at("targets").get<std::vector<int64_t>>());
      const int64_t bins = c.at("bins").get<int64_t>();
      const double t = c.at("temperature").get<double>();

      Evaluator fit(counts, 100, 20, bins);
      fit.fit_temperature();
      // Two batches, as an evaluation pass adds them.
      const int64_t half = logits.size(0) / 2;
      fit.add(logits.slice(0, 0, half), targets.slice(0, 0, half));
      fit.add(logits.slice(0, half), targets.slice(0, half));
      const EvalResult fitted = fit.result();
      // Grid plus parabola: within 0.1 % of the exact minimiser; no ECE after T on a fit pass.
      CHECK(fitted.temperature == Approx(t).epsilon(1e-3));
      CHECK(std::isnan(fitted.ece_ts));
      CHECK_FALSE(headline(fitted).contains("ece_ts"));

      Evaluator scored(counts, 100, 20, bins);
      scored.set_temperature(t);
      scored.add(logits, targets);
      const EvalResult r = scored.result();
      CHECK(r.temperature == t);
      CHECK(r.ece_ts == Approx(c.at("ece_ts").get<double>()).margin(1e-6));
      const GroupResult* groups[3] = {&r.many, &r.medium, &r.few};
      const char* names[3] = {"many_ece_ts", "medium_ece_ts", "few_ece_ts"};
      for (int g = 0; g < 3; ++g) {
        const double expected = nan_if_null(c.at(names[g]));
        if (std::isnan(expected)) {
          CHECK(std::isnan(groups[g]->ece_ts));
        } else {
          CHECK(groups[g]->ece_ts == Approx(expected).margin(1e-6));
        }
      }
      // Scaling never changes a prediction: the same accuracy as without it.
      Evaluator plain(counts, 100, 20, bins);
      plain.add(logits, targets);
      CHECK(plain.result().top1 == r.top1);
      CHECK(std::isnan(plain.result().ece_ts));
      const nlohmann::json j = headline(r);
      CHECK(j.at("ece_ts").get<double>() == r.ece_ts);
      CHECK(j.at("temperature").get<double>() == t);
    }
  }
}

TEST_CASE("an empty group's ECE after temperature scaling is null", "[metrics]") {
  Evaluator e({500, 300}, 100, 20, 15);
  e.set_temperature(2.0);
  e.add(at::tensor({2.0f, 0.0f, 0.0f, 1.0f}).view({2, 2}), at::tensor({0, 1}, at::kLong));
  const nlohmann::json j = headline(e.result());
  CHECK(j.at("few").at("ece_ts").is_null());
  CHECK(j.at("medium").at("ece_ts").is_null());
  CHECK(j.at("many").at("ece_ts").is_number());
  CHECK_THROWS_WITH(Evaluator({1, 1}, 100, 20, 15).set_temperature(0.0), "temperature must be > 0");
}

// ---- launchers' environment variables -----------------------------------------------------

namespace {
std::function<const char*(const char*)> env_of(std::map<std::string, std::string> vars) {
  auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [held](const char* name) -> const char* {
    const auto it = held->find(name);
    return it == held->end() ? nullptr : it->second.c_str();
  };
}
}  // namespace

TEST_CASE("a rank reads torchrun's and Slurm's variables", "[distributed]") {
  const DistEnv single = read_dist_env(env_of({}));
  CHECK_FALSE(single.distributed());
  CHECK(single.world_size == 1);

  const DistEnv torchrun = read_dist_env(env_of({{"RANK", "3"},
                                                 {"WORLD_SIZE", "8"},
                                                 {"LOCAL_RANK", "1"},
                                                 {"LOCAL_WORLD_SIZE", "2"},
                                                 {"MASTER_ADDR", "node0"},
                                                 {"MASTER_PORT", "29511"}}));
  CHECK(torchrun.distributed());
  CHECK(torchrun.rank == 3);
  CHECK(torchrun.world_size == 8);
  CHECK(torchrun.local_rank == 1);
  CHECK(torchrun.local_world_size == 2);
  CHECK(torchrun.master_addr == "node0");
  CHECK(torchrun.master_port == 29511);
  CHECK(torchrun.launcher == "torchrun");
  CHECK(torchrun.agent_store_prefix.empty());

  // torchrun's elastic agent hosts the store; its ranks are clients under the attempt's prefix.
  const DistEnv elastic = read_dist_env(env_of({{"RANK", "0"},
                                                {"WORLD_SIZE", "2"},
                                                {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                {"TORCHELASTIC_RESTART_COUNT", "3"}}));
  CHECK(elastic.agent_store_prefix == "/worker/attempt_3");

  const DistEnv slurm = read_dist_env(env_of({{"SLURM_PROCID", "5"},
                                              {"SLURM_NTASKS", "16"},
                                              {"SLURM_LOCALID", "5"},
                                              {"SLURM_NTASKS_PER_NODE", "8"},
                                              {"MASTER_ADDR", "gpu01"},
                                              {"MASTER_PORT", "29500"}}));
  CHECK(slurm.launcher == "slurm");
  CHECK(slurm.rank == 5);
  CHECK(slurm.world_size == 16);
  CHECK(slurm.local_world_size == 8);
  CHECK(slurm.master_addr == "gpu01");
}

TEST_CASE("bad launcher variables are refused naming the variable", "[distributed]") {
  CHECK_THROWS_WITH(read_dist_env(env_of({{"RANK", "0"}})),
                    Catch::Contains("RANK and WORLD_SIZE must be set together"));
  CHECK_THROWS_WITH(read_dist_env(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})),
                    Catch::Contains("rank 2 is not below the world size 2"));
  CHECK_THROWS_WITH(read_dist_env(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}})),
                    Catch::Contains("RANK=x: expected a whole number"));
  CHECK_THROWS_WITH(
      read_dist_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}})),
      Catch::Contains("MASTER_PORT=70000"));
  CHECK_THROWS_WITH(read_dist_env(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}})),
                    Catch::Contains("export MASTER_ADDR"));
}
