# Cross-compiling for armhf (32-bit ARMv7, hard float) gateways with Debian 12's cross toolchain and
# multiarch libraries: crossbuild-essential-armhf and the :armhf -dev packages (scripts/cross-build.sh
# installs them; docs/gateways.md). Usage:
#   cmake -S . -B build-cross-armhf -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
set(ASSAS_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(ASSAS_CROSS_QEMU qemu-arm-static)
# GCC notes that the passing of some std::vector iterators changed in GCC 7.1 (an ABI note for
# code mixed with GCC 6 objects; every library here is built with GCC 12): hundreds of lines.
set(CMAKE_CXX_FLAGS_INIT -Wno-psabi)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
