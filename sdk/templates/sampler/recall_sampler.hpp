// recall_sampler: the template of an out-of-tree tailor sampler plugin. Each draw picks
// class c with probability proportional to (1 - recall_c) + floor, where recall_c is the
// class's recall on val in the last validation (uniform before the first one), then a
// uniform train sample of that class: classes the model gets wrong are visited more.
//
// The class lives in this header so that test_recall_sampler.cpp can construct it;
// recall_sampler.cpp turns it into the plugin.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace recall_sampler {

class RecallSampler final : public tailor::Sampler {
 public:
  struct Options {
    double floor = 0.1;

    template <class V>
    void visit(V& v) {
      v("floor", floor, "Added to every class's 1 - recall, so no class is left out.",
        tailor::greater_than(0.0));
    }
  };

  // Created once per stage: keep what the draws need (here the positions of each class).
  RecallSampler(const Options& options, const tailor::SamplerContext& context)
      : options_(options), by_class_(static_cast<size_t>(context.num_classes)) {
    for (size_t i = 0; i < context.labels.size(); ++i)
      by_class_[static_cast<size_t>(context.labels[i])].push_back(static_cast<int64_t>(i));
  }

  // The epoch's global stream: a pure function of the context and `epoch`, drawn from a
  // generator seeded with epoch.seed (never LibTorch's), as many positions as the split has.
  std::vector<int64_t> indices(const tailor::SamplerEpoch& epoch) override {
    std::vector<double> weight(by_class_.size(), 0.0);
    for (size_t c = 0; c < by_class_.size(); ++c) {
      if (by_class_[c].empty()) continue;
      const bool known = epoch.has_val_stats() && !std::isnan(epoch.val_stats.accuracy[c]);
      weight[c] = (known ? 1.0 - epoch.val_stats.accuracy[c] : 1.0) + options_.floor;
    }
    std::mt19937_64 rng(epoch.seed);
    std::discrete_distribution<size_t> pick_class(weight.begin(), weight.end());
    size_t total = 0;
    for (const auto& members : by_class_) total += members.size();
    std::vector<int64_t> out;
    out.reserve(total);
    while (out.size() < total) {
      const auto& members = by_class_[pick_class(rng)];
      std::uniform_int_distribution<size_t> pick_member(0, members.size() - 1);
      out.push_back(members[pick_member(rng)]);
    }
    return out;
  }

 private:
  Options options_;
  std::vector<std::vector<int64_t>> by_class_;
};

}  // namespace recall_sampler
