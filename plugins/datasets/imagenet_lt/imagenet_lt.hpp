// imagenet_lt: ImageNet-LT (Liu et al., CVPR 2019), a thin plugin over the list-file engine
// (common/image_list.hpp) with its official lists, class-count profile and list checksums.
#pragma once

#include "common/image_list.hpp"

namespace tailor::plugins {

/// ImageList with ImageNet-LT's defaults; every option of image_list can still be changed.
class ImagenetLt final : public ImageList {
 public:
  struct Options : ImageList::Options {
    Options();
  };

  explicit ImagenetLt(const Options& options);
};

}  // namespace tailor::plugins
