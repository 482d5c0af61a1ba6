#!/usr/bin/env bash
# The data-parallel tests, launched by mpirun (CI runs this after installing Open MPI):
#   1. parity: 2 and 4 processes end within 1e-4 (max abs weight difference) of one process after 10
#      epochs of `nabla train` on the embedded digits, with the same test accuracy;
#   2. replicas: every rank holds bit-identical parameters after every step (NABLA_VERIFY_REPLICAS=1);
#   3. checkpoints: a 2-process run's checkpoint resumes in 1 process and vice versa, same result;
#   4. faults: a rank killed with SIGKILL ends the job within 30 s with one message, and --resume goes on;
#      ranks that disagree on the model or the data stop at start-up with a message.
# Tolerance: the ranks sum their shares of each batch's gradient in another order than one process
# does (float32, ~1e-7 relative per step); over 10 epochs × 45 steps of Adam the weights drift apart
# by a few 1e-7 (measured 4e-7), so 1e-4 leaves a margin of two orders of magnitude and still catches
# a wrong shard, weighting or missing reduction (those differ by 1e-2 and more after one epoch).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
NABLA_MPI=1 swift build -c release --scratch-path .build-mpi --product nabla >/dev/null
nabla=$PWD/.build-mpi/release/nabla
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { timeout 120 "$@"; }
compare() {  # compare A B: max abs difference of two saved models' weights ≤ 1e-4
    python3 - "$1" "$2" <<'PY'
import sys, numpy as np
from safetensors.numpy import load_file
a, b = load_file(sys.argv[1] + "/model.safetensors"), load_file(sys.argv[2] + "/model.safetensors")
assert a.keys() == b.keys(), (a.keys(), b.keys())
d = max(float(np.abs(a[k] - b[k]).max()) for k in a)
print(f"  max abs weight difference {sys.argv[1].split('/')[-1]} vs {sys.argv[2].split('/')[-1]}: {d:.3g}")
sys.exit(0 if d <= 1e-4 else 1)
PY
}
accuracy() { grep '^test accuracy:' "$1"; }

echo "1. parity: 1, 2 and 4 processes, 10 epochs on the digits"
run "$nabla" train --epochs 10 --verbose 0 --save "$work/one" > "$work/one.txt"
for n in 2 4; do
    run mpirun -np $n "$nabla" train --distributed --epochs 10 --verbose 0 --save "$work/np$n" > "$work/np$n.txt"
    compare "$work/one" "$work/np$n"
    [ "$(accuracy "$work/one.txt")" = "$(accuracy "$work/np$n.txt")" ] || { echo "accuracy differs: $(accuracy "$work/one.txt") vs $(accuracy "$work/np$n.txt")"; exit 1; }
    echo "  $n processes: $(accuracy "$work/np$n.txt") (one process: $(accuracy "$work/one.txt"))"
done

names=../shared/data/names/names.txt
if [ -f "$names" ]; then
    echo "1b. nabla lm train: 2 processes end at one process's validation loss (transformer, 60 steps)"
    run "$nabla" lm train --data "$names" --model transformer --steps 60 --log-every 0 > "$work/lm1.txt"
    run mpirun -np 2 "$nabla" lm train --data "$names" --model transformer --steps 60 --log-every 0 --distributed > "$work/lm2.txt"
    [ "$(grep '^val loss:' "$work/lm1.txt")" = "$(grep '^val loss:' "$work/lm2.txt")" ] || { echo "lm: $(grep '^val loss:' "$work/lm1.txt") vs $(grep '^val loss:' "$work/lm2.txt")"; exit 1; }
    echo "  $(grep '^val loss:' "$work/lm2.txt") in both"
else
    echo "1b. skipped: ../shared/data/names is not beside this checkout"
fi

echo "2. replicas identical after every step (4 processes, 3 epochs)"
NABLA_VERIFY_REPLICAS=1 run mpirun -np 4 -x NABLA_VERIFY_REPLICAS "$nabla" train --distributed --epochs 3 --verbose 0 > /dev/null
echo "  ok"

echo "3. checkpoints move between 2 processes and 1"
run mpirun -np 2 "$nabla" train --distributed --epochs 5 --verbose 0 --checkpoint-dir "$work/ck2" > /dev/null
run "$nabla" train --resume "$work/ck2" --epochs 10 --verbose 0 --save "$work/from2" > "$work/from2.txt"
compare "$work/one" "$work/from2"
run "$nabla" train --epochs 5 --verbose 0 --checkpoint-dir "$work/ck1" > /dev/null
run mpirun -np 2 "$nabla" train --distributed --resume "$work/ck1" --epochs 10 --verbose 0 --save "$work/from1" > "$work/from1.txt"
compare "$work/one" "$work/from1"
[ "$(accuracy "$work/from2.txt")" = "$(accuracy "$work/one.txt")" ] && [ "$(accuracy "$work/from1.txt")" = "$(accuracy "$work/one.txt")" ]

echo "4a. a rank killed with SIGKILL ends the job"
mpirun -np 2 "$nabla" train --distributed --epochs 100000 --verbose 0 --checkpoint-dir "$work/ckf" > "$work/fault.txt" 2>&1 &
launcher=$!
for _ in $(seq 100); do ls "$work/ckf"/checkpoint-* >/dev/null 2>&1 && break; sleep 0.2; done
victim=""
for pid in $(pgrep -f "nabla train --distributed --epochs 100000"); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then victim=$pid; fi
done
[ -n "$victim" ] || { echo "could not find rank 1"; kill $launcher; exit 1; }
start=$(date +%s)
kill -9 "$victim"
status=0
timeout 30 tail --pid=$launcher -f /dev/null || { echo "the job did not end within 30 s"; kill -9 $launcher; exit 1; }
wait $launcher || status=$?
echo "  ended after $(( $(date +%s) - start )) s with status $status:"
grep -m1 -i -E "signal 9|killed|exited on signal" "$work/fault.txt" | sed 's/^/    /'
[ $status -ne 0 ]
last=$(ls "$work/ckf" | sed -n 's/^checkpoint-epoch-0*\([0-9][0-9]*\)\.safetensors$/\1/p' | sort -n | tail -1)
run mpirun -np 2 "$nabla" train --distributed --resume "$work/ckf" --epochs $(( last + 2 )) --verbose 1 > "$work/resumed.txt"
grep -m1 "resuming from" "$work/resumed.txt" | sed 's/^/    /'
grep -q "^test accuracy:" "$work/resumed.txt"

echo "4b. ranks that disagree stop at start-up"
start=$(date +%s)
if timeout 30 mpirun -np 1 "$nabla" train --distributed --hidden 32 --verbose 0 : -np 1 "$nabla" train --distributed --hidden 64 --verbose 0 > "$work/mismatch.txt" 2>&1; then
    echo "a mismatched job succeeded"; exit 1
fi
grep -m1 "do not run the same model" "$work/mismatch.txt" | sed 's/^/    /'
echo "  stopped after $(( $(date +%s) - start )) s"
echo "all data-parallel tests passed"
