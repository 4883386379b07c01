// host/engine/preflight.hpp - checks of a built experiment that no single section can make.
#pragma once

namespace tailor::host {

class Experiment;

/// Refuses, with ConfigError naming the key and the fix, what would run but give nothing
/// useful: an [experiment] name that is not one path component (it would place the run
/// directory outside output_dir), and a stage whose batch_size exceeds the train split.
void preflight(const Experiment& experiment);

}  // namespace tailor::host
