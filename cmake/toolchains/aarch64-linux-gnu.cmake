# Cross-compiling for arm64 (aarch64) gateways with Debian 12's cross toolchain and multiarch
# libraries: crossbuild-essential-arm64 and the :arm64 -dev packages (scripts/cross-build.sh installs
# them; docs/gateways.md). Usage:
#   cmake -S . -B build-cross-arm64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(ASSAS_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ASSAS_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
