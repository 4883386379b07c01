// blend_mix: the template of an out-of-tree tailor batch-mix plugin. With probability `prob`
// per batch, every sample is blended with its neighbour in the batch (the sample before it,
// the first with the last): inputs' = w x + (1 - w) x.roll(1, 0), and sample i carries label
// mass w of its own target and 1 - w of its neighbour's. Otherwise the batch passes unmixed.
//
// The class lives in this header so that test_blend_mix.cpp can construct it; blend_mix.cpp
// turns it into the plugin.
#pragma once

#include <tailor/components.hpp>
#include <tailor/options.hpp>
#include <tailor/random.hpp>

#include <ATen/ATen.h>

namespace blend_mix {

class BlendMix final : public tailor::BatchMix {
 public:
  struct Options {
    double prob = 0.5;
    double weight = 0.8;

    template <class V>
    void visit(V& v) {
      v("prob", prob, "Probability that a batch is blended; the others pass unmixed.",
        tailor::range(0.0, 1.0));
      v("weight", weight,
        "w: the share of its own input and target a blended sample keeps; 1 - w is its "
        "neighbour's.",
        weight_range());
    }

    // (0, 1]: the SDK has no helper for a bound open below and closed above, so set the
    // Constraint's fields directly.
    static tailor::Constraint weight_range() {
      tailor::Constraint c = tailor::range(0.0, 1.0);
      c.lo_open = true;
      return c;
    }
  };

  // Created once per stage: keep what mix() needs (here only the options).
  BlendMix(const Options& options, const tailor::BatchMixContext& /*context*/)
      : options_(options) {}

  // true would make the host draw a second batch for every step from [batch_mix.sampler]
  // (MixInput::inputs_b / targets_b), as CMO does; this mix only needs the batch itself.
  bool wants_second_batch() const override { return false; }

  // One batch on the training device, after augmentation. Every random number comes from the
  // step's seed (never LibTorch's generator), so a step is reproducible and every
  // data-parallel rank decides alike.
  tailor::MixOutput mix(const tailor::MixInput& input) override {
    TAILOR_CHECK(input.inputs.defined() && input.inputs.dim() >= 1,
                 "blend_mix: inputs must be a batch [N, ...] of rank >= 1");
    tailor::SampleRng rng(input.seed, 0);
    if (rng.uniform() >= options_.prob) return {};  // undefined inputs: the batch passes unmixed
    const double w = options_.weight;
    tailor::MixOutput out;
    out.inputs = w * input.inputs + (1.0 - w) * input.inputs.roll(1, 0);
    out.targets_b = input.targets.roll(1, 0);
    out.mix_weight = at::full({input.inputs.size(0)}, w, input.inputs.options());
    return out;
  }

 private:
  Options options_;
};

}  // namespace blend_mix
