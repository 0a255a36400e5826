# Warnings live on an INTERFACE target linked PRIVATE, so they never leak to users of our libraries.
add_library(assas_warnings INTERFACE)
target_compile_options(assas_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast)
if(ASSAS_WERROR)
  target_compile_options(assas_warnings INTERFACE -Werror)
endif()
