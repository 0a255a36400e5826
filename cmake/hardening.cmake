# The programs are built hardened as Debian builds its own packages (dpkg-buildflags with
# hardening=+all): stack protector and stack clash protection, _FORTIFY_SOURCE (bounds-checked libc
# calls, where the compiler knows the sizes; it needs optimisation, so not in Debug), control-flow
# protection on x86, and a read-only GOT resolved at start (relro, now). Position-independent
# executables are GCC's default on Debian. Not with the sanitizers, whose runtimes replace the same
# libc calls.
if(NOT ASSAS_SANITIZE)
  add_compile_options(-fstack-protector-strong -fstack-clash-protection
                      $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    add_compile_options(-fcf-protection)
  endif()
  add_link_options(LINKER:-z,relro LINKER:-z,now)
endif()
