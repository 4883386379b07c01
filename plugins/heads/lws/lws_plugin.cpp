// lws plugin entry: registers tailor::plugins::LwsHead as the "lws" head.
#include "lws.hpp"

#include <tailor/plugin.hpp>

TAILOR_HEAD_PLUGIN(
    tailor::plugins::LwsHead, "lws", "1.0.0",
    "Linear classifier times a learnable per-class scale g_c (LWS, Kang et al. 2020).")
