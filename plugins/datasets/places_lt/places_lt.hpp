// places_lt: Places-LT (Liu et al., CVPR 2019) read through image_list with its official
// lists, class-count profile and list checksums as defaults.
#pragma once

#include "image_list/image_list.hpp"

namespace tailor::plugins {

/// image_list with Places-LT's defaults; every image_list option can still be changed.
class PlacesLt final : public ImageList {
 public:
  struct Options : ImageList::Options {
    Options();
  };

  explicit PlacesLt(const Options& options);
};

}  // namespace tailor::plugins
