#!/usr/bin/env python3
"""Generates Tests/Fixtures/nn.json: reference values for NablaNN's layers, losses, optimizers and
metrics. Layers and losses are computed with PyTorch where it has the same definition (Keras's
epsilons and clipping are applied explicitly), optimizer trajectories with NumPy following Keras 3's
update rules, AUC exactly from ranks. Run from the repository root: python3 scripts/make_nn_fixtures.py"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(7)
out = {}
def arr(x): return {"shape": list(np.shape(x)), "data": np.asarray(x, dtype=np.float64).ravel().tolist()}
T = lambda x: torch.tensor(x, dtype=torch.float64)

# Layers ---------------------------------------------------------------------------------------
x = rng.normal(size=(4, 5)); W = rng.normal(size=(5, 3)); b = rng.normal(size=3)
out["dense"] = {"x": arr(x), "kernel": arr(W), "bias": arr(b), "linear": arr(x @ W + b),
                "relu": arr(F.relu(T(x) @ T(W) + T(b)).numpy()), "softmax": arr(F.softmax(T(x) @ T(W) + T(b), dim=-1).numpy())}
g = rng.normal(size=5); be = rng.normal(size=5)
out["layer_norm"] = {"x": arr(x), "gamma": arr(g), "beta": arr(be),
                     "y": arr(F.layer_norm(T(x), (5,), T(g), T(be), eps=1e-3).numpy())}
bn = torch.nn.BatchNorm1d(5, eps=1e-3, momentum=0.01, dtype=torch.float64)  # Keras momentum 0.99 = torch 0.01
with torch.no_grad():
    bn.weight.copy_(T(g)); bn.bias.copy_(T(be))
bn.train(); y_train = bn(T(x)).detach().numpy()
# torch updates running_var with the unbiased batch variance; Keras uses the biased one.
mean = x.mean(0); var = x.var(0)
out["batch_norm"] = {"x": arr(x), "gamma": arr(g), "beta": arr(be), "train": arr(y_train),
                     "moving_mean": arr(0.99 * 0 + 0.01 * mean), "moving_var": arr(0.99 * 1 + 0.01 * var)}
mm, mv = 0.01 * mean, 0.99 + 0.01 * var
out["batch_norm"]["eval"] = arr((x - mm) / np.sqrt(mv + 1e-3) * g + be)

# Losses ---------------------------------------------------------------------------------------
eps = 1e-7
yt = rng.normal(size=(6, 3)); yp = rng.normal(size=(6, 3))
losses = {}
losses["mse"] = ((yt - yp) ** 2).mean(-1).mean()
losses["mae"] = np.abs(yt - yp).mean(-1).mean()
losses["huber"] = F.huber_loss(T(yp), T(yt), delta=1.0, reduction="none").mean(-1).mean().item()
yb = (rng.uniform(size=(6, 1)) > 0.5).astype(float); logits_b = rng.normal(size=(6, 1))
pb = 1 / (1 + np.exp(-logits_b))
pbc = np.clip(pb, eps, 1 - eps)
losses["bce"] = (-(yb * np.log(pbc) + (1 - yb) * np.log(1 - pbc))).mean()
losses["bce_logits"] = F.binary_cross_entropy_with_logits(T(logits_b), T(yb)).item()
labels = rng.integers(0, 4, size=6); logits = rng.normal(size=(6, 4)); onehot = np.eye(4)[labels]
probs = F.softmax(T(logits), -1).numpy()
losses["cce"] = (-(onehot * np.log(np.clip(probs / probs.sum(-1, keepdims=True), eps, 1 - eps))).sum(-1)).mean()
losses["cce_logits"] = F.cross_entropy(T(logits), torch.tensor(labels)).item()
losses["scce"] = losses["cce"]
losses["scce_logits"] = losses["cce_logits"]
pt = F.softmax(T(rng.normal(size=(6, 4))), -1).numpy(); pp = probs
losses["kld"] = (np.clip(pt, eps, 1) * np.log(np.clip(pt, eps, 1) / np.clip(pp, eps, 1))).sum(-1).mean()
out["losses"] = {"y_true": arr(yt), "y_pred": arr(yp), "y_binary": arr(yb), "logits_binary": arr(logits_b),
                 "probs_binary": arr(pb), "labels": labels.tolist(), "logits": arr(logits), "probs": arr(probs),
                 "target_dist": arr(pt), "values": {k: float(v) for k, v in losses.items()}}

# Optimizers: Keras 3 update rules on f(p) = Σ 0.5·c·p² + d·p, gradient c·p + d ------------------
p0 = rng.normal(size=5); c = rng.uniform(0.5, 2.0, size=5); d = rng.normal(size=5)
grad = lambda p: c * p + d
def run(step, n=6):
    p = p0.copy(); state = {}; traj = []
    for t in range(1, n + 1):
        p = step(p, grad(p), state, t); traj.append(p.copy())
    return np.array(traj)
def sgd(lr, mom=0.0, nesterov=False, wd=0.0):
    def f(p, g, s, t):
        p = p - lr * wd * p
        if mom == 0: return p - lr * g
        v = s.get("v", np.zeros_like(p)); v = mom * v - lr * g; s["v"] = v
        return p + (mom * v - lr * g if nesterov else v)
    return f
def adam(lr=1e-3, b1=0.9, b2=0.999, e=1e-7, wd=0.0):
    def f(p, g, s, t):
        p = p - lr * wd * p
        m = s.get("m", np.zeros_like(p)); v = s.get("v", np.zeros_like(p))
        m = m + (g - m) * (1 - b1); v = v + (g * g - v) * (1 - b2); s["m"], s["v"] = m, v
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return p - alpha * m / (np.sqrt(v) + e)
    return f
def rmsprop(lr=1e-3, rho=0.9, mom=0.0, e=1e-7):
    def f(p, g, s, t):
        a = s.get("a", np.zeros_like(p)); a = rho * a + (1 - rho) * g * g; s["a"] = a
        inc = lr * g / np.sqrt(a + e)
        if mom > 0:
            v = s.get("v", np.zeros_like(p)); v = mom * v + inc; s["v"] = v; return p - v
        return p - inc
    return f
def adagrad(lr=1e-3, init=0.1, e=1e-7):
    def f(p, g, s, t):
        a = s.get("a", np.full_like(p, init)); a = a + g * g; s["a"] = a
        return p - lr * g / np.sqrt(a + e)
    return f
out["optimizers"] = {"p0": arr(p0), "c": arr(c), "d": arr(d), "trajectories": {
    "sgd": arr(run(sgd(0.1))), "sgd_momentum": arr(run(sgd(0.1, 0.9))), "sgd_nesterov": arr(run(sgd(0.1, 0.9, True))),
    "sgd_weight_decay": arr(run(sgd(0.1, 0.0, False, 0.01))),
    "adam": arr(run(adam(0.1))), "adamw": arr(run(adam(0.1, wd=0.004))), "rmsprop": arr(run(rmsprop(0.1))),
    "rmsprop_momentum": arr(run(rmsprop(0.1, mom=0.5))), "adagrad": arr(run(adagrad(0.1)))}}

# Metrics --------------------------------------------------------------------------------------
scores = rng.uniform(size=200); truth = (rng.uniform(size=200) < 0.3 + 0.4 * scores).astype(float)
pos, neg = scores[truth == 1], scores[truth == 0]
auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
pred = scores > 0.5
out["metrics"] = {"scores": scores.tolist(), "truth": truth.tolist(), "auc": float(auc),
                  "precision": float((pred & (truth == 1)).sum() / pred.sum()),
                  "recall": float((pred & (truth == 1)).sum() / (truth == 1).sum())}

# Convolutions and pooling (Nabla is NHWC with kernels [kh, kw, cin/groups, filters]; PyTorch is NCHW)
convs = []
for (n, h, w, c, f, k, stride, pad, dil, groups) in [(2, 7, 6, 3, 4, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1),
                                                      (1, 8, 8, 4, 6, (3, 2), (2, 1), (1, 1, 0, 1), (1, 1), 2),
                                                      (2, 9, 7, 2, 3, (2, 3), (1, 2), (2, 1, 1, 2), (2, 1), 1)]:
    x = rng.normal(size=(n, h, w, c)); wk = rng.normal(size=(k[0], k[1], c // groups, f)); bb = rng.normal(size=f)
    xt = F.pad(T(x).permute(0, 3, 1, 2), (pad[2], pad[3], pad[0], pad[1]))
    y = F.conv2d(xt, T(wk).permute(3, 2, 0, 1), T(bb), stride=stride, dilation=dil, groups=groups).permute(0, 2, 3, 1)
    convs.append({"x": arr(x), "w": arr(wk), "b": arr(bb), "stride": list(stride), "padding": list(pad), "dilation": list(dil), "groups": groups, "y": arr(y.numpy())})
pools = []
xp = rng.normal(size=(2, 7, 6, 3))
for kind, k, st in [("max", (2, 2), (2, 2)), ("max", (3, 2), (1, 2)), ("average", (2, 3), (2, 1))]:
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = fn(T(xp).permute(0, 3, 1, 2), k, st).permute(0, 2, 3, 1)
    pools.append({"kind": kind, "kernel": list(k), "stride": list(st), "y": arr(y.numpy())})
out["conv"] = {"cases": convs, "pool_x": arr(xp), "pools": pools}

# Recurrent layers (PyTorch's weight_ih [gates·u, in] is Nabla's kernel transposed)
rec = {}
xr = rng.normal(size=(2, 5, 3))
for kind, cls in [("simple", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)]:
    torch.manual_seed(1)
    m = cls(3, 4, batch_first=True).double()
    seq, st = m(T(xr))
    states = [st[0][0], st[1][0]] if kind == "lstm" else [st[0]]
    rec[kind] = {"kernel": arr(m.weight_ih_l0.detach().numpy().T), "recurrent": arr(m.weight_hh_l0.detach().numpy().T),
                 "bias": arr(m.bias_ih_l0.detach().numpy()), "recurrent_bias": arr(m.bias_hh_l0.detach().numpy()),
                 "sequence": arr(seq.detach().numpy()), "states": [arr(t.detach().numpy()) for t in states]}
out["recurrent"] = {"x": arr(xr), **rec}

# A small GPT in float64: logits, loss and every parameter's gradient, with biases and an untied head,
# and without biases with the head tied to the token embedding. Weights use Nabla's names and layouts
# (Dense kernels [in, out]); PyTorch's scaled_dot_product_attention, layer_norm and exact GELU compute.
def gpt_case(bias, tied, V=7, Tn=6, L=2, H=2, D=8, B=2):
    P = {"tokens.embeddings": rng.normal(size=(V, D)), "positions.table": rng.normal(size=(Tn, D)) * 0.5}
    for l in range(L):
        b = f"blocks.{l}."
        P[b + "norm1.gamma"] = 1 + 0.2 * rng.normal(size=D); P[b + "norm2.gamma"] = 1 + 0.2 * rng.normal(size=D)
        P[b + "attention.qkv.kernel"] = rng.normal(size=(D, 3 * D)) * 0.4
        P[b + "attention.output.kernel"] = rng.normal(size=(D, D)) * 0.4
        P[b + "expand.kernel"] = rng.normal(size=(D, 4 * D)) * 0.4
        P[b + "contract.kernel"] = rng.normal(size=(4 * D, D)) * 0.3
        if bias:
            for name, n in [("norm1.beta", D), ("norm2.beta", D), ("attention.qkv.bias", 3 * D), ("attention.output.bias", D),
                            ("expand.bias", 4 * D), ("contract.bias", D)]:
                P[b + name] = 0.1 * rng.normal(size=n)
    P["norm.gamma"] = 1 + 0.2 * rng.normal(size=D)
    if bias: P["norm.beta"] = 0.1 * rng.normal(size=D)
    if not tied: P["head.kernel"] = rng.normal(size=(D, V)) * 0.4
    t = {k: T(v).requires_grad_() for k, v in P.items()}
    ids = rng.integers(0, V, size=(B, Tn)); targets = rng.integers(0, V, size=(B, Tn))
    x = t["tokens.embeddings"][torch.tensor(ids)] + t["positions.table"][:Tn]
    for l in range(L):
        b = f"blocks.{l}."
        h = F.layer_norm(x, (D,), t[b + "norm1.gamma"], t.get(b + "norm1.beta"), 1e-5)
        qkv = h @ t[b + "attention.qkv.kernel"] + (t[b + "attention.qkv.bias"] if bias else 0)
        q, k, v = (z.view(B, Tn, H, D // H).transpose(1, 2) for z in qkv.split(D, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, Tn, D)
        x = x + y @ t[b + "attention.output.kernel"] + (t[b + "attention.output.bias"] if bias else 0)
        h = F.layer_norm(x, (D,), t[b + "norm2.gamma"], t.get(b + "norm2.beta"), 1e-5)
        m = F.gelu(h @ t[b + "expand.kernel"] + (t[b + "expand.bias"] if bias else 0))
        x = x + m @ t[b + "contract.kernel"] + (t[b + "contract.bias"] if bias else 0)
    x = F.layer_norm(x, (D,), t["norm.gamma"], t.get("norm.beta"), 1e-5)
    logits = x @ (t["tokens.embeddings"].T if tied else t["head.kernel"])
    loss = F.cross_entropy(logits.reshape(-1, V), torch.tensor(targets).reshape(-1))
    loss.backward()
    return {"ids": arr(ids), "targets": arr(targets), "weights": {k: arr(v) for k, v in P.items()},
            "logits": arr(logits.detach().numpy()), "loss": float(loss.detach()), "grads": {k: arr(v.grad.numpy()) for k, v in t.items()}}
out["gpt"] = {"biased": gpt_case(True, False), "tied": gpt_case(False, True)}

path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "nn.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", os.path.normpath(path))

# A PyTorch state_dict saved as safetensors, with an input and PyTorch's output for it -------------
from safetensors.torch import save_file
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(os.path.dirname(path), "torch_mlp.safetensors"))
xin = torch.randn(5, 4)
with torch.no_grad():
    yout = net(xin)
np.savez(os.path.join(os.path.dirname(path), "torch_mlp_io.npz"), x=xin.numpy(), y=yout.numpy())
print("wrote torch_mlp.safetensors and torch_mlp_io.npz")
