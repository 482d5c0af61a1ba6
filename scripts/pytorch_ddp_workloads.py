#!/usr/bin/env python3
"""PyTorch DistributedDataParallel (Gloo backend, CPU) on the workloads `nabla bench --distributed`
runs: mlp_small, mlp_medium and cnn_train with the same models, global batches and step counts as
../shared/bench/pytorch_workloads.py, each rank training on its share of every global batch with
one intra-op thread. Rank 0 prints one JSON line per workload.

    torchrun --nproc-per-node 2 scripts/pytorch_ddp_workloads.py [mlp_small mlp_medium cnn_train]
"""
import json, os, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
import torch.distributed as dist

def main():
    torch.set_num_threads(int(os.environ.get("THREADS_PER_RANK", "1")))
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    wanted = [a for a in sys.argv[1:] if not a.startswith("-")] or ["mlp_small", "mlp_medium", "cnn_train"]
    for name in wanted:
        if name == "cnn_train":
            model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
            batch, steps = 64, 60
            xs, ys = torch.randn(batch * 8, 1, 28, 28), torch.randint(0, 10, (batch * 8,))
            rows = lambda i: (i % 8) * batch
        else:
            hidden, batch = ([128], 32) if name == "mlp_small" else ([512, 512], 128)
            layers, d = [], 784
            for h in hidden: layers += [nn.Linear(d, h), nn.ReLU()]; d = h
            model = nn.Sequential(*layers, nn.Linear(d, 10))
            steps = 400
            xs, ys = torch.randn(60000, 784), torch.randint(0, 10, (60000,))
            rows = lambda i: (i * batch) % (60000 - batch)
        ddp = nn.parallel.DistributedDataParallel(model)
        opt = torch.optim.Adam(ddp.parameters(), lr=1e-3)
        share = batch // size
        def step(i):
            j = rows(i) + rank * share
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(ddp(xs[j:j + share]), ys[j:j + share]).backward()
            opt.step()
        for i in range(5): step(i)
        dist.barrier()
        t = time.perf_counter()
        for i in range(steps): step(i)
        dist.barrier()
        dt = time.perf_counter() - t
        if rank == 0:
            print(json.dumps({"workload": name, "batch": batch, "train_samples_per_s": round(steps * batch / dt), "ranks": size,
                              "threads_per_rank": torch.get_num_threads(), "backend": "gloo"}), flush=True)
    dist.destroy_process_group()

if __name__ == "__main__":
    main()
