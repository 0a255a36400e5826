# Shared by the cross toolchain files in this folder, which set ASSAS_CROSS_TRIPLET,
# CMAKE_SYSTEM_PROCESSOR and ASSAS_CROSS_QEMU first. The target's libraries are Debian's multiarch
# -dev packages (libuv1-dev:arm64, ...), installed next to the amd64 ones in the build machine's
# own root: no sysroot. Their files are in /usr/lib/<triplet> and /usr/include/<triplet>, which the
# Debian cross compiler and CMake (through CMAKE_LIBRARY_ARCHITECTURE) search already.
#
# Two packages cannot be installed that way. libyaml-cpp-dev is not Multi-Arch: same on Debian 12,
# so libyaml-cpp-dev:arm64 would remove the amd64 one the native build needs; catch2 is not
# header-only there: it ships libCatch2WithMain.a, compiled, in /usr/lib (Multi-Arch: foreign).
# scripts/cross-build.sh unpacks both (with `dpkg-deb -x`, not registered with dpkg) into
# ASSAS_CROSS_DEPS_DIR, a second root searched before /.
#
# When apt cannot install the :<arch> packages at all (Multi-Arch: same packages need the very
# version of their installed amd64 twins, which a mirror that lags behind the security archive
# does not have), scripts/cross-build.sh unpacks every target library and -dev package into
# ASSAS_CROSS_DEPS_DIR instead: the "private root" below. The cross toolchain's own libc
# (libc6-<arch>-cross in /usr/<triplet>) is then the C library, at build and at test time.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${ASSAS_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${ASSAS_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${ASSAS_CROSS_TRIPLET})

set(ASSAS_CROSS_DEPS_DIR "/var/cache/assas-cross/${ASSAS_CROSS_TRIPLET}" CACHE PATH
    "Root of the unpacked target -dev packages that cannot be co-installed (libyaml-cpp-dev)")
# Libraries, headers and CMake package files come only from ASSAS_CROSS_DEPS_DIR or the target's
# multiarch directories (not the amd64 Catch2 in /usr/lib); programs (pkg-config) from the build
# machine.
set(CMAKE_FIND_ROOT_PATH ${ASSAS_CROSS_DEPS_DIR} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libuv, libsystemd, libpcre2-8) reads only the target's .pc files. Setting the
# environment here holds for every configure run, including the ones Ninja starts by itself.
set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/${ASSAS_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig:${ASSAS_CROSS_DEPS_DIR}/usr/lib/${ASSAS_CROSS_TRIPLET}/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

if(EXISTS ${ASSAS_CROSS_DEPS_DIR}/usr/include/uv.h)
  # Private root: its headers before the build machine's /usr/include (which holds the amd64
  # -dev packages' headers, and is on the cross compiler's search path), and its libraries for the
  # linker's search of the libraries' own dependencies (libsystemd needs liblzma, libgcrypt, ...).
  set(assas_root_lib ${ASSAS_CROSS_DEPS_DIR}/usr/lib/${ASSAS_CROSS_TRIPLET})
  set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES
      ${ASSAS_CROSS_DEPS_DIR}/usr/include/${ASSAS_CROSS_TRIPLET} ${ASSAS_CROSS_DEPS_DIR}/usr/include)
  set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES ${CMAKE_C_STANDARD_INCLUDE_DIRECTORIES})
  # Debian 12 still puts some of them in /lib/<triplet> (libcap2, liblzma5, libgpg-error0).
  set(assas_root_libs ${assas_root_lib}:${ASSAS_CROSS_DEPS_DIR}/lib/${ASSAS_CROSS_TRIPLET})
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${assas_root_libs}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${assas_root_libs}")
  set(CMAKE_MODULE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${assas_root_libs}")
  set(ENV{PKG_CONFIG_LIBDIR} "${assas_root_lib}/pkgconfig:${ASSAS_CROSS_DEPS_DIR}/usr/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${ASSAS_CROSS_DEPS_DIR})
  # Under qemu: the cross toolchain's loader and libc (-L), the private root's libraries.
  find_program(ASSAS_CROSS_QEMU_PATH ${ASSAS_CROSS_QEMU})
  if(ASSAS_CROSS_QEMU_PATH)
    set(CMAKE_CROSSCOMPILING_EMULATOR
        env LD_LIBRARY_PATH=${assas_root_libs} ${ASSAS_CROSS_QEMU_PATH} -L /usr/${ASSAS_CROSS_TRIPLET})
  endif()
  return()
endif()

# Test executables (and Catch2's test discovery after each link) run under qemu-user. Nothing else
# is needed to find the target's libraries: libc6:<arch> puts its dynamic loader where the binary
# asks for it (/lib/ld-linux-aarch64.so.1), and that loader finds libuv1:<arch>, libstdc++6:<arch>,
# ... in /usr/lib/<triplet> through /etc/ld.so.cache, like on the gateway. `qemu -L
# /usr/<triplet>` is not used there: it would load the cross toolchain's loader (libc6-<arch>-cross,
# a different glibc build) with the multiarch libc.
find_program(ASSAS_CROSS_QEMU_PATH ${ASSAS_CROSS_QEMU})
if(ASSAS_CROSS_QEMU_PATH)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ASSAS_CROSS_QEMU_PATH})
endif()
