# TailorTesting.cmake - tailor_add_plugin_test(), one Catch2 test executable for a plugin.
#
#   tailor_add_plugin_test(<plugin> SOURCES <src>... [LIBS <lib>...])
#
# Creates executable test_<plugin> from the test sources and the plugin's own sources (not
# the file with the TAILOR_*_PLUGIN macro), linked with Tailor::sdk, LibTorch, the test kit
# Tailor::testing and its Catch2 main Tailor::testing_main, and registers it with ctest
# (call enable_testing() in the top-level CMakeLists.txt). PLUGIN_README is defined as the
# path of README.md beside the calling CMakeLists.txt, for
# tailor::testing::check_readme_matches_schema(PLUGIN_README, ...).
include_guard(GLOBAL)

function(tailor_add_plugin_test plugin)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LIBS")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "tailor_add_plugin_test(${plugin}): SOURCES is empty")
  endif()
  if(NOT TARGET Tailor::testing)
    message(FATAL_ERROR "tailor_add_plugin_test(${plugin}): the test kit Tailor::testing is "
                        "missing; use find_package(TailorSDK 1 REQUIRED COMPONENTS testing)")
  endif()
  add_executable(test_${plugin} ${arg_SOURCES})
  target_link_libraries(test_${plugin} PRIVATE
    Tailor::sdk torch Tailor::testing Tailor::testing_main ${arg_LIBS})
  target_compile_features(test_${plugin} PRIVATE cxx_std_17)
  target_compile_definitions(test_${plugin} PRIVATE
    PLUGIN_README="${CMAKE_CURRENT_SOURCE_DIR}/README.md")
  if(COMMAND tailor_plugin_test_hook)
    tailor_plugin_test_hook(test_${plugin})  # in-tree builds share a precompiled header here
  endif()
  add_test(NAME test_${plugin} COMMAND test_${plugin})
endfunction()
