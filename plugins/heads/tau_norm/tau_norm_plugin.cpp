// tau_norm plugin entry: registers tailor::plugins::TauNormHead as the "tau_norm" head.
#include "tau_norm.hpp"

#include <tailor/plugin.hpp>

TAILOR_HEAD_PLUGIN(
    tailor::plugins::TauNormHead, "tau_norm", "1.0.0",
    "Linear classifier; at evaluation each w_c is divided by |w_c|^tau (Kang et al. 2020).")
