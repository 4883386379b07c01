// image_list plugin entry: registers tailor::plugins::ImageList as the "image_list" dataset.
#include "common/image_list.hpp"

#include <tailor/plugin.hpp>

TAILOR_DATASET_PLUGIN(tailor::plugins::ImageList, "image_list", "1.0.0",
                      "JPEG images named by `<path> <label>` list files, one per split.")
