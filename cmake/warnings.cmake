# Warnings live on an INTERFACE target linked PRIVATE, so they never leak to users of our libraries.
add_library(assas_warnings INTERFACE)
target_compile_options(assas_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast)
if(ASSAS_WERROR)
  target_compile_options(assas_warnings INTERFACE -Werror)
endif()
# GCC 12 reports false -Wrestrict errors inside std::string at -O3 for "literal" + std::string
# (GCC bug 105329, fixed in GCC 13); keep the check on other compilers.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(assas_warnings INTERFACE -Wno-restrict)
endif()
