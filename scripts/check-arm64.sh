#!/usr/bin/env bash
# Cross-compiles the C kernels for arm64 and checks the NEON GEMM and the Transformer kernels'
# portable paths under qemu-user.
# Needs Debian's gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
aarch64-linux-gnu-gcc -O2 -static -ISources/CNablaKernels/include -ISources/CNablaKernels \
    Tests/CrossArch/gemm_check.c Sources/CNablaKernels/*.c -o "$out/gemm_check" -lpthread -lm
qemu-aarch64 "$out/gemm_check"
# (The check itself at -O1: GCC 12's vectoriser crashes on its fmax reductions at -O2.)
aarch64-linux-gnu-gcc -O1 -c -ISources/CNablaKernels/include Tests/CrossArch/transformer_check.c -o "$out/transformer_check.o"
aarch64-linux-gnu-gcc -O2 -static -ISources/CNablaKernels/include -ISources/CNablaKernels \
    "$out/transformer_check.o" Sources/CNablaKernels/*.c -o "$out/transformer_check" -lpthread -lm
qemu-aarch64 "$out/transformer_check"
