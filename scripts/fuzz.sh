#!/usr/bin/env bash
# Builds the libFuzzer targets for every file reader and runs each for SECONDS (default 45) from
# the seed corpus in Tests/Fuzz/corpus. Exits non-zero on a finding and copies the input that
# triggered it into Tests/Fixtures/FuzzRegressions/<target>/, where the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-45}"
targets=(safetensors numpy numpyarchive modelconfig csv idx labelledtext wav interactions onnx)
for t in "${targets[@]}"; do
    NABLA_FUZZ=1 swift build -c release --sanitize=fuzzer --scratch-path .build-fuzz --product "fuzz-$t" >/dev/null
done
status=0
for t in "${targets[@]}"; do
    work=$(mktemp -d)
    cp -r "Tests/Fuzz/corpus/$t/." "$work/"
    artifacts=$(mktemp -d)
    echo "fuzzing $t for ${seconds}s"
    # SWIFT_BACKTRACE off: let libFuzzer catch the trap and save the input that caused it.
    if ! SWIFT_BACKTRACE=enable=no .build-fuzz/release/"fuzz-$t" "$work" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
            -artifact_prefix="$artifacts/" -print_final_stats=1 > "$artifacts/log.txt" 2>&1; then
        echo "FINDING in $t:"
        tail -30 "$artifacts/log.txt"
        mkdir -p "Tests/Fixtures/FuzzRegressions/$t"
        for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
            [ -e "$f" ] && cp "$f" "Tests/Fixtures/FuzzRegressions/$t/" && echo "saved $(basename "$f")"
        done
        status=1
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$artifacts/log.txt" | tr '\n' ' '
        echo
    fi
    rm -rf "$work"
done
exit $status
