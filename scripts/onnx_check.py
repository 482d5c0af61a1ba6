#!/usr/bin/env python3
"""Checks ONNX files exported by Nabla against Nabla's own predictions: for every CASE.onnx in the
folder, onnx.checker.check_model (full check), then ONNX Runtime on CASE.input*.npy, compared with
CASE.expected.npy within rtol 1e-4 / atol 1e-5. Prints one line per case with the largest absolute
and relative differences; exits 1 if any case fails. The Swift test suite writes the folder.

    python3 scripts/onnx_check.py FOLDER
"""
import glob, os, sys
import numpy as np, onnx, onnxruntime as ort

def main(folder):
    failed = 0
    for path in sorted(glob.glob(os.path.join(folder, "*.onnx"))):
        case = path[:-5]
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            feeds = {}
            for k, meta in enumerate(session.get_inputs()):
                x = np.load(f"{case}.input{k}.npy")
                feeds[meta.name] = x.astype(np.int32) if "int32" in meta.type else x.astype(np.float32)
            got = session.run(None, feeds)[0]
            want = np.load(f"{case}.expected.npy")
            if got.shape != want.shape:
                raise AssertionError(f"shape {got.shape}, Nabla {want.shape}")
            # A text of padding only max-pools to −∞ in both (and the logits after it may be NaN in both).
            finite = np.isfinite(want) & np.isfinite(got)
            diff = np.abs(got.astype(np.float64) - want)[finite]
            rel = float((diff / np.maximum(np.abs(want[finite]), 1e-12)).max()) if diff.size else 0.0
            ok = np.allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True)
            print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(case)}: max abs diff {float(diff.max()) if diff.size else 0:.3g}, max rel diff {rel:.3g}")
            failed += not ok
        except Exception as e:
            print(f"FAIL {os.path.basename(case)}: {type(e).__name__}: {e}")
            failed += 1
    print(f"{failed} failed")
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
