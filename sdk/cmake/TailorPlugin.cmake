# TailorPlugin.cmake - tailor_add_plugin(), the one call that builds a plugin.
#
#   tailor_add_plugin(<name> KIND <dataset|backbone|loss|sampler|head|batch_mix> SOURCES <src>...
#                     [NO_INSTALL])
#
# Creates MODULE library <name>.so (target <name>) for datasets, backbones and losses, and
# <kind>_<name>.so (target <kind>_<name>) for samplers, heads and batch mixes, whose names may match a
# loss's (the class_balanced loss and sampler); the host looks for both file names. It links Tailor::sdk and LibTorch only, compiled with
# hidden visibility and linked with a version script so that exactly two symbols are
# exported: tailor_plugin_v<major> and the fingerprint marker. Fails at configure time when the
# LibTorch found now is not the one the SDK was built against (a plugin built that way
# would be refused by the host). Output goes to TAILOR_PLUGIN_OUTPUT_DIR when set, and the
# library installs to <libdir>/tailor/plugins.
include_guard(GLOBAL)
include(GNUInstallDirs)
include("${CMAKE_CURRENT_LIST_DIR}/TailorFingerprint.cmake")

# The version script, written for the SDK's ABI major: the entry point and the marker, nothing
# else.
if(NOT TAILOR_ABI_MAJOR)
  message(FATAL_ERROR "TailorPlugin.cmake: TAILOR_ABI_MAJOR is not set")
endif()
set(TAILOR_PLUGIN_MAP "${CMAKE_BINARY_DIR}/tailor_plugin_v${TAILOR_ABI_MAJOR}.map" CACHE INTERNAL "")
file(WRITE "${TAILOR_PLUGIN_MAP}.in"
  "/* Exports of a tailor plugin: the entry point and the fingerprint marker, nothing else. */\n"
  "{\n  global:\n    tailor_plugin_v${TAILOR_ABI_MAJOR};\n    tailor_fp_v${TAILOR_ABI_MAJOR}_*;\n"
  "  local:\n    *;\n};\n")
configure_file("${TAILOR_PLUGIN_MAP}.in" "${TAILOR_PLUGIN_MAP}" COPYONLY)

function(tailor_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_INSTALL" "KIND" "SOURCES")
  if(NOT arg_KIND MATCHES "^(dataset|backbone|loss|sampler|head|batch_mix)$")
    message(FATAL_ERROR "tailor_add_plugin(${name}): KIND must be dataset, backbone, loss, "
                        "sampler, head or batch_mix, got '${arg_KIND}'")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "tailor_add_plugin(${name}): SOURCES is empty")
  endif()
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "tailor_add_plugin(${name}): plugin names are lower_snake_case")
  endif()

  tailor_torch_fingerprint()
  get_target_property(sdk_marker Tailor::sdk TAILOR_FINGERPRINT_MARKER)
  get_target_property(sdk_build Tailor::sdk TAILOR_TORCH_BUILD_ID)
  if(sdk_marker AND NOT sdk_marker STREQUAL TAILOR_FINGERPRINT_MARKER)
    message(FATAL_ERROR
      "tailor_add_plugin(${name}): LibTorch mismatch.\n"
      "  TailorSDK was built against: ${sdk_build}\n"
      "  this project found:          ${TAILOR_TORCH_BUILD_ID} (cxx11_abi=${TAILOR_TORCH_CXX11_ABI})\n"
      "The host would refuse this plugin. Point Torch_DIR at the LibTorch the SDK used "
      "(or rebuild tailor against this one).")
  endif()

  set(target ${name})
  if(arg_KIND MATCHES "^(sampler|head|batch_mix)$")
    set(target ${arg_KIND}_${name})
  endif()
  add_library(${target} MODULE ${arg_SOURCES})
  target_link_libraries(${target} PRIVATE Tailor::sdk torch)
  target_compile_features(${target} PRIVATE cxx_std_17)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    TAILOR_KIND ${arg_KIND})
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${TAILOR_PLUGIN_MAP}"
    "LINKER:--no-undefined"
    "LINKER:--exclude-libs,ALL")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${TAILOR_PLUGIN_MAP}")
  if(TAILOR_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${TAILOR_PLUGIN_OUTPUT_DIR}")
  endif()
  if(COMMAND tailor_plugin_hook)
    tailor_plugin_hook(${target})  # in-tree builds share a precompiled header here
  endif()
  if(NOT arg_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/tailor/plugins")
  endif()
endfunction()
