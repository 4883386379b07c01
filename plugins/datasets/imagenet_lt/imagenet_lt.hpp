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

    /// The preset names its lists, so root is what the experiment must give.
    template <class V>
    void visit(V& v) {
      visit_fields(v, required(), Constraint{});
    }
  };

  explicit ImagenetLt(const Options& options);
};

}  // namespace tailor::plugins
