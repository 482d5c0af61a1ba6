#!/usr/bin/env python3
"""Reference figures for `nabla recommend` on the same split: scikit-surprise's BaselineOnly and SVD
(default settings, and SVD with 32 factors), and a PyTorch biased matrix factorisation with sparse
embeddings and SparseAdam (the model of Nabla's MatrixFactorization at the settings `nabla bench
recommend` times: 32 factors, batch 1024, Adam 0.01, L2 1 on factors and 0.1 on biases).
`--catalogues` times PyTorch's MF steps on the synthetic 10k- and 1M-item catalogues of the bench.

The split is the one the issue fixes and `nabla recommend train --split random` makes: the file's
non-blank lines shuffled by Python's `random.Random(seed).shuffle`, the first 90% for training.

    python3 scripts/recommend_reference.py ../shared/data/movietweetings/100K/ratings.dat
"""
import argparse, random, sys, time

def read_split(path, seed, test_fraction):
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    random.Random(seed).shuffle(lines)
    cut = int(len(lines) * (1 - test_fraction))
    parse = lambda ls: [tuple(l.split("::")[:3]) for l in ls]
    return parse(lines[:cut]), parse(lines[cut:])

def rmse_mae(pred, truth):
    import numpy as np
    e = np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return float(np.sqrt((e * e).mean())), float(np.abs(e).mean())

def surprise_runs(train, test, scale):
    import os, tempfile
    from surprise import Dataset, Reader, SVD, BaselineOnly
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as f:
        f.writelines(f"{u}\t{i}\t{r}\n" for u, i, r in train)
    try:
        trainset = Dataset.load_from_file(f.name, Reader(line_format="user item rating", sep="\t", rating_scale=scale)).build_full_trainset()
    finally:
        os.unlink(f.name)
    testset = [(u, i, float(r)) for u, i, r in test]
    out = {}
    for name, algo in [("BaselineOnly", BaselineOnly(verbose=False)), ("SVD", SVD(random_state=0)), ("SVD 32 factors", SVD(n_factors=32, random_state=0))]:
        t = time.perf_counter()
        algo.fit(trainset)
        seconds = time.perf_counter() - t
        preds = algo.test(testset)
        epochs = 20 if name.startswith("SVD") else 10
        out[name] = rmse_mae([p.est for p in preds], [p.r_ui for p in preds]) + (seconds, seconds / epochs)
    return out

def torch_mf(train, test, factors, epochs, batch, lr, l2, bias_l2, seed):
    import numpy as np, torch
    torch.manual_seed(seed)
    torch.set_num_threads(torch.get_num_threads())
    users = {u: k for k, u in enumerate(sorted({u for u, _, _ in train + test}))}
    items = {i: k for k, i in enumerate(sorted({i for _, i, _ in train + test}))}
    u = torch.tensor([users[x] for x, _, _ in train]); i = torch.tensor([items[x] for _, x, _ in train])
    r = torch.tensor([float(x) for _, _, x in train])
    mean = float(r.mean())
    P = torch.nn.Embedding(len(users), factors, sparse=True); Q = torch.nn.Embedding(len(items), factors, sparse=True)
    bu = torch.nn.Embedding(len(users), 1, sparse=True); bi = torch.nn.Embedding(len(items), 1, sparse=True)
    for e in (P, Q): torch.nn.init.normal_(e.weight, 0, 0.1)
    for e in (bu, bi): torch.nn.init.zeros_(e.weight)
    opt = torch.optim.SparseAdam([P.weight, Q.weight, bu.weight, bi.weight], lr=lr)
    n = len(r); times = []
    for _ in range(epochs):
        t = time.perf_counter()
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            p, q, b1, b2 = P(u[idx]), Q(i[idx]), bu(u[idx]).squeeze(-1), bi(i[idx]).squeeze(-1)
            pred = mean + b1 + b2 + (p * q).sum(-1)
            loss = ((pred - r[idx]) ** 2).mean() + l2 * ((p * p).sum(-1) + (q * q).sum(-1)).mean() + bias_l2 * (b1 * b1 + b2 * b2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.perf_counter() - t)
    with torch.no_grad():
        tu = torch.tensor([users[x] for x, _, _ in test]); ti = torch.tensor([items[x] for _, x, _ in test])
        pred = mean + bu(tu).squeeze(-1) + bi(ti).squeeze(-1) + (P(tu) * Q(ti)).sum(-1)
    return rmse_mae(pred.numpy(), [float(x) for _, _, x in test]) + (sum(times), sorted(times)[len(times) // 2])

def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("ratings"); a.add_argument("--seed", type=int, default=42); a.add_argument("--test-fraction", type=float, default=0.1)
    a.add_argument("--scale", type=float, nargs=2, default=[0, 10])
    a.add_argument("--factors", type=int, default=32); a.add_argument("--epochs", type=int, default=20)
    a.add_argument("--batch-size", type=int, default=1024); a.add_argument("--lr", type=float, default=0.01)
    a.add_argument("--l2", type=float, default=1.0); a.add_argument("--bias-l2", type=float, default=0.1)
    a.add_argument("--catalogues", action="store_true", help="also time MF steps on 10k- and 1M-item synthetic catalogues")
    a.add_argument("--skip", choices=["surprise", "torch"], action="append", default=[])
    args = a.parse_args()
    train, test = read_split(args.ratings, args.seed, args.test_fraction)
    mean = sum(float(r) for _, _, r in train) / len(train)
    print(f"{len(train)} train, {len(test)} test ratings; global mean predictor: rmse {rmse_mae([mean] * len(test), [float(r) for _, _, r in test])[0]:.4f}")
    if "surprise" not in args.skip:
        for name, (rmse, mae, total, per_epoch) in surprise_runs(train, test, tuple(args.scale)).items():
            print(f"surprise {name:13s} rmse {rmse:.4f}  mae {mae:.4f}  fit {total:.3f} s ({per_epoch * 1000:.1f} ms/epoch)")
    if "torch" not in args.skip:
        rmse, mae, total, median = torch_mf(train, test, args.factors, args.epochs, args.batch_size, args.lr, args.l2, args.bias_l2, args.seed)
        print(f"torch MF (SparseAdam)  rmse {rmse:.4f}  mae {mae:.4f}  fit {total:.3f} s ({median * 1000:.1f} ms/epoch, median)")
    if args.catalogues:
        for items in (10_000, 1_000_000):
            print(f"torch MF steps/s, 50k users, {items} items, batch 1024: {torch_catalogue_steps(items):.0f}")

def torch_catalogue_steps(items, users=50_000, factors=32, batch=1024, steps=300):
    import torch
    torch.manual_seed(1)
    P = torch.nn.Embedding(users, factors, sparse=True); Q = torch.nn.Embedding(items, factors, sparse=True)
    bu = torch.nn.Embedding(users, 1, sparse=True); bi = torch.nn.Embedding(items, 1, sparse=True)
    opt = torch.optim.SparseAdam([P.weight, Q.weight, bu.weight, bi.weight], lr=0.01)
    u = torch.randint(users, (steps + 20, batch)); i = torch.randint(items, (steps + 20, batch)); r = torch.randint(1, 11, (steps + 20, batch)).float()
    def step(k):
        p, q, b1, b2 = P(u[k]), Q(i[k]), bu(u[k]).squeeze(-1), bi(i[k]).squeeze(-1)
        loss = ((5.5 + b1 + b2 + (p * q).sum(-1) - r[k]) ** 2).mean() + 0.1 * ((p * p).sum(-1) + (q * q).sum(-1)).mean() + 0.1 * (b1 * b1 + b2 * b2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    for k in range(20): step(k)
    t = time.perf_counter()
    for k in range(20, steps + 20): step(k)
    return steps / (time.perf_counter() - t)

if __name__ == "__main__":
    sys.exit(main())
