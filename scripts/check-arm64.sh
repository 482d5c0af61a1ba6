#!/usr/bin/env bash
# Cross-compiles the C kernels for arm64 and checks the NEON GEMM under qemu-user.
# Needs Debian's gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
aarch64-linux-gnu-gcc -O2 -static -ISources/CNablaKernels/include -ISources/CNablaKernels \
    Tests/CrossArch/gemm_check.c Sources/CNablaKernels/*.c -o "$out/gemm_check" -lpthread -lm
qemu-aarch64 "$out/gemm_check"
