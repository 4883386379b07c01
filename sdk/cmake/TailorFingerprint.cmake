# TailorFingerprint.cmake - identify the LibTorch build a target compiles against.
#
# tailor_torch_fingerprint() reads the variables find_package(Torch) set and defines, in the
# caller's scope:
#   TAILOR_TORCH_VERSION    major.minor (the patch is unreliable: Debian's 1.13.1 says 1.13.0)
#   TAILOR_TORCH_CXX11_ABI  0 or 1, from TORCH_CXX_FLAGS (1 when they do not say)
#   TAILOR_TORCH_HAS_CUDA   0 or 1
#   TAILOR_TORCH_BUILD_ID   "<major.minor>:<real file name of libtorch>:<cpu|cuda>"
#   TAILOR_FINGERPRINT_MARKER  tailor_fp_v<major>_<16 hex digits of SHA-256 of all of the above
#                              and of the ABI major>
# TAILOR_ABI_MAJOR must be set: the SDK's CMakeLists reads it from tailor/abi.h and the
# installed TailorSDKConfig.cmake records it.
# Every plugin built with tailor_add_plugin() exports the marker as a symbol; the host is
# compiled with its own marker and refuses a plugin whose marker differs, before loading it.
function(tailor_torch_fingerprint)
  if(NOT TAILOR_ABI_MAJOR)
    message(FATAL_ERROR "tailor_torch_fingerprint(): TAILOR_ABI_MAJOR is not set")
  endif()
  if(NOT DEFINED Torch_VERSION OR NOT TORCH_LIBRARY)
    message(FATAL_ERROR "tailor_torch_fingerprint(): call find_package(Torch) first")
  endif()
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" version "${Torch_VERSION}")
  # LibTorch 2.7 and later no longer state the ABI: they only come with the new one, which is
  # also the compiler's default.
  set(cxx11 1)
  if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
    set(cxx11 0)
  endif()
  set(cuda 0)
  set(flavour cpu)
  if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda)
    set(cuda 1)
    set(flavour cuda)
  endif()
  get_filename_component(real "${TORCH_LIBRARY}" REALPATH)
  get_filename_component(real "${real}" NAME)
  set(build_id "${version}:${real}:${flavour}")
  string(SHA256 digest "abi=${TAILOR_ABI_MAJOR};torch=${version};cxx11=${cxx11};cuda=${cuda};build=${build_id}")
  string(SUBSTRING "${digest}" 0 16 digest)
  set(TAILOR_TORCH_VERSION "${version}" PARENT_SCOPE)
  set(TAILOR_TORCH_CXX11_ABI "${cxx11}" PARENT_SCOPE)
  set(TAILOR_TORCH_HAS_CUDA "${cuda}" PARENT_SCOPE)
  set(TAILOR_TORCH_BUILD_ID "${build_id}" PARENT_SCOPE)
  set(TAILOR_FINGERPRINT_MARKER "tailor_fp_v${TAILOR_ABI_MAJOR}_${digest}" PARENT_SCOPE)
endfunction()
