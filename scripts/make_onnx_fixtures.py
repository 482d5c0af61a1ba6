#!/usr/bin/env python3
"""Writes Tests/Fixtures/onnx/: PyTorch models exported by torch.onnx.export (the TorchScript exporter,
opset 17, dynamic batch) — an MLP, a CNN on NCHW images, a GRU and an LSTM sequence classifier — with an
input batch and PyTorch's outputs for each, which the Swift tests import and compare with.

    python3 scripts/make_onnx_fixtures.py
"""
import os
import numpy as np, torch, torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "onnx")

class MLP(nn.Module):
    def __init__(s):
        super().__init__(); s.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 10))
    def forward(s, x): return s.net(x)

class CNN(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, stride=2)
        s.bn, s.fc = nn.BatchNorm2d(8), nn.Linear(16 * 1 * 1, 10)
    def forward(s, x):
        x = nn.functional.max_pool2d(torch.relu(s.bn(s.c1(x))), 2)     # 8×8 → 4×4
        x = torch.relu(s.c2(x))                                         # → 1×1
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return s.fc(x.reshape(x.shape[0], -1))

class Recurrent(nn.Module):
    def __init__(s, cell):
        super().__init__()
        s.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(input_size=5, hidden_size=12, batch_first=True)
        s.fc = nn.Linear(12, 3)
    def forward(s, x):
        out, _ = s.rnn(x)
        return s.fc(out[:, -1, :])

def export(name, model, x):
    model.eval()
    if isinstance(model, CNN):   # moving statistics that are not the initial ones
        with torch.no_grad():
            model.bn.running_mean.uniform_(-0.5, 0.5); model.bn.running_var.uniform_(0.5, 1.5)
    path = os.path.join(OUT, f"{name}.onnx")
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False)
    with torch.no_grad():
        np.save(os.path.join(OUT, f"{name}.input.npy"), x.numpy())
        np.save(os.path.join(OUT, f"{name}.expected.npy"), model(x).numpy())
    print("wrote", path)

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export("torch_mlp", MLP(), torch.randn(8, 64))
    export("torch_cnn", CNN(), torch.randn(4, 1, 8, 8))
    export("torch_gru", Recurrent("gru"), torch.randn(4, 7, 5))
    export("torch_lstm", Recurrent("lstm"), torch.randn(4, 7, 5))
