#!/usr/bin/env python3
"""Generates Tests/Fixtures/ops.json: forward values of Nabla's ops computed by NumPy.

Each case names an op, its inputs (shape and float64 data), its parameters and NumPy's output.
The Swift tests (Tests/NablaTests/OpFixtureTests.swift) run the same op in Nabla and compare.
Run from the repository root: python3 scripts/make_fixtures.py
"""
import json, math, os
import numpy as np

rng = np.random.default_rng(20261129)
cases = []

def arr(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)

def add(op, inputs, output, **params):
    out = np.asarray(output)
    cases.append({
        "op": op,
        "params": params,
        "inputs": [{"shape": list(np.shape(x)), "data": np.asarray(x, dtype=np.float64).ravel().tolist()} for x in inputs],
        "output": {"shape": list(out.shape), "data": out.astype(np.float64).ravel().tolist()},
    })

erf = np.vectorize(math.erf)
sig = lambda x: 1 / (1 + np.exp(-x))

# Binary ops with broadcasting.
for sa, sb in [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((), (2, 3))]:
    a, b = arr(*sa), arr(*sb)
    add("add", [a, b], a + b)
    add("subtract", [a, b], a - b)
    add("multiply", [a, b], a * b)
    add("divide", [a, b + np.sign(b) * 0.5 + (b == 0)], a / (b + np.sign(b) * 0.5 + (b == 0)))
    add("maximum", [a, b], np.maximum(a, b))
    add("minimum", [a, b], np.minimum(a, b))
a, b = arr(3, 4, low=0.5, high=2.0), arr(4, low=-1.5, high=1.5)
add("pow", [a, b], a ** b)

# Unary ops and activations.
x = arr(4, 5, low=-3, high=3)
p = arr(4, 5, low=0.1, high=3)
add("exp", [x], np.exp(x))
add("log", [p], np.log(p))
add("sqrt", [p], np.sqrt(p))
add("abs", [x], np.abs(x))
add("negate", [x], -x)
add("square", [x], x * x)
add("pow_scalar", [p], p ** 1.7, exponent=1.7)
add("clamp", [x], np.clip(x, -1.0, 0.5), min=-1.0, max=0.5)
add("relu", [x], np.maximum(x, 0))
add("leaky_relu", [x], np.where(x > 0, x, 0.2 * x), alpha=0.2)
add("elu", [x], np.where(x > 0, x, 1.5 * np.expm1(x)), alpha=1.5)
add("selu", [x], 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)))
add("sigmoid", [x], sig(x))
add("tanh", [x], np.tanh(x))
add("softplus", [x], np.log1p(np.exp(x)))
add("silu", [x], x * sig(x))
add("gelu", [x], 0.5 * x * (1 + erf(x / math.sqrt(2))))
add("gelu_tanh", [x], 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))))
big = np.array([[1000.0, 1000.0, -1000.0], [-5.0, 0.0, 5.0]])
for axis in (0, 1, -1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    add("softmax", [x], e / e.sum(axis=axis, keepdims=True), axis=axis)
    add("log_softmax", [x], x - x.max(axis=axis, keepdims=True) - np.log(e.sum(axis=axis, keepdims=True)), axis=axis)
add("log_softmax", [big], big - big.max(axis=1, keepdims=True) - np.log(np.exp(big - big.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)), axis=1)

# Reductions.
t = arr(2, 3, 4)
for axes in (None, [0], [1], [2], [0, 2], [1, 2], [-1]):
    for keep in (False, True):
        ax = None if axes is None else tuple(axes)
        kw = {"axes": axes, "keepDims": keep}
        add("sum", [t], t.sum(axis=ax, keepdims=keep), **kw)
        add("mean", [t], t.mean(axis=ax, keepdims=keep), **kw)
        add("max", [t], t.max(axis=ax, keepdims=keep), **kw)
        add("min", [t], t.min(axis=ax, keepdims=keep), **kw)
        add("variance", [t], t.var(axis=ax, keepdims=keep), **kw)
        add("std", [t], t.std(axis=ax, keepdims=keep), **kw)
        m = t.max(axis=ax, keepdims=True)
        lse = np.log(np.exp(t - m).sum(axis=ax, keepdims=True)) + m
        add("logsumexp", [t], lse if keep else (np.squeeze(lse, axis=ax) if ax is not None else lse.reshape(())), **kw)
add("variance_unbiased", [t], t.var(axis=1, ddof=1), axes=[1])
for axis in (0, 1, 2):
    add("argmax", [t], t.argmax(axis=axis), axis=axis)
    add("argmin", [t], t.argmin(axis=axis), axis=axis)
add("argmax_flat", [t], np.array(t.argmax()))
bm = big.max(axis=1)
add("logsumexp", [big], bm + np.log(np.exp(big - bm[:, None]).sum(axis=1)), axes=[1], keepDims=False)

# Matmul.
for sa, sb in [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,)), ((7, 13), (13, 17))]:
    a, b = arr(*sa), arr(*sb)
    add("matmul", [a, b], np.matmul(a, b))

# Shape ops.
add("transpose", [t], np.swapaxes(t, -1, -2))
add("permute", [t], np.transpose(t, (2, 0, 1)), axes=[2, 0, 1])
add("reshape", [t], t.reshape(4, 6), shape=[4, 6])
c = arr(3, 1)
add("broadcast_to", [c], np.broadcast_to(c, (2, 3, 4)), shape=[2, 3, 4])
u, v = arr(2, 3), arr(2, 5)
add("concatenate", [u, v], np.concatenate([u, v], axis=1), axis=1)
w = arr(2, 3)
add("stack", [u, w], np.stack([u, w], axis=1), axis=1)
add("slice", [t], t[1:, ::2, 1:4:2])
add("index_select", [t], np.take(t, [2, 0, 2], axis=1), indices=[2, 0, 2], axis=1)
idx = np.array([[[1], [0], [3]], [[2], [2], [0]]])
add("gather", [t], np.take_along_axis(t, idx, axis=2), indices=idx.ravel().tolist(), indicesShape=list(idx.shape), axis=2)
cond_src = arr(3, 4)
a, b = arr(3, 4), arr(4)
add("where", [cond_src, a, b], np.where(cond_src > 0, a, b))
add("greater", [a, b], (a > b).astype(np.float64))
add("less_equal", [a, b], (a <= b).astype(np.float64))
add("linspace", [], np.linspace(-1, 2, 7), start=-1, end=2, count=7)
add("arange", [], np.arange(0.5, 3.2, 0.3), start=0.5, end=3.2, step=0.3)

path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "ops.json")
with open(path, "w") as f:
    json.dump({"generator": "scripts/make_fixtures.py", "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")
