"""Seeded generator for poai's ONNX fixtures.

Each fixture is a genuine PyTorch export (the TorchScript exporter, the one most user models come
through), so the graphs carry what exporters really emit: Gemm with transB, flatten as a
Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain, BatchNormalization, decomposed LayerNorm,
Erf-based GELU. Every fixture directory holds:

  model.onnx         the model
  input.json         one sample, EZKL layout: {"input_data": [[f32, ...]]}
  calibration.json   16 samples back to back in the same layout
  output.json        onnxruntime's float output for input.json: {"output_data": [[f32, ...]]}

Run: python3 models/generate.py   (needs torch, onnx, onnxruntime; not needed by the tests)
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
CALIBRATION_SAMPLES = 16


class Mlp(nn.Module):
    """MNIST-sized MLP 784-128-64-10."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class LeNet(nn.Module):
    """LeNet-style CNN on 1x28x28, with a BatchNorm to fold and a view() flatten."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(16 * 5 * 5, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.c1(x))), 2)
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
        x = x.view(x.size(0), -1)
        x = torch.relu(self.f1(x))
        x = torch.relu(self.f2(x))
        return self.f3(x)


class CifarCnn(nn.Module):
    """Small CIFAR CNN on 1x3x32x32: BatchNorm, depthwise conv, average and global pooling."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.pw = nn.Conv2d(16, 32, 1)
        self.c3 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.c1(x)))
        x = torch.max_pool2d(x, 2)
        x = torch.relu(self.pw(self.dw(x)))
        x = nn.functional.avg_pool2d(x, 2)
        x = torch.relu(self.c3(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.fc(x)


class Attention(nn.Module):
    """Tiny single-head self-attention block on 8 tokens x 16 features, with a GELU MLP."""

    def __init__(self, d=16):
        super().__init__()
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.up = nn.Linear(d, 2 * d)
        self.down = nn.Linear(2 * d, d)
        self.ln2 = nn.LayerNorm(d)
        self.d = d

    def forward(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        att = torch.softmax(q @ k.transpose(-2, -1) / (self.d ** 0.5), dim=-1)
        x = self.ln1(x + self.o(att @ v))
        x = self.ln2(x + self.down(nn.functional.gelu(self.up(x))))
        return x


class SigmoidTanhMlp(nn.Module):
    """MLP with Sigmoid and Tanh activations."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(16, 32), nn.Sigmoid(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)
        )

    def forward(self, x):
        return self.net(x)


class DigitsCnn(nn.Module):
    """Small CNN trained on scikit-learn's bundled 8x8 digits (a real task, for real accuracy figures)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.f1 = nn.Linear(16 * 4 * 4, 32)
        self.f2 = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.max_pool2d(torch.relu(self.bn(self.c2(x))), 2)
        x = torch.flatten(x, 1)
        return self.f2(torch.relu(self.f1(x)))


def digits_split():
    """scikit-learn's digits (shipped inside the package), scaled to [0, 1], split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(d.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(5))
    cut = int(0.8 * len(y))
    return (x[perm[:cut]], y[perm[:cut]]), (x[perm[cut:]], y[perm[cut:]])


def train_digits(model):
    (xt, yt), _ = digits_split()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    with torch.enable_grad():
        model.train()
        for epoch in range(40):
            perm = torch.randperm(len(yt), generator=torch.Generator().manual_seed(epoch))
            for i in range(0, len(yt), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
    model.eval()


def write_digits_test_set(out_dir, model):
    """The held-out rows as JSON lines {"input": [...], "label": k} (the dataset format poai commits to)."""
    _, (xs, ys) = digits_split()
    with open(os.path.join(out_dir, "test.jsonl"), "w") as f:
        for x, y in zip(xs, ys):
            f.write(json.dumps({"input": [round(float(v), 4) for v in x.reshape(-1)], "label": int(y)}) + "\n")
    acc = (model(xs).argmax(1) == ys).float().mean().item()
    print(f"digits_cnn: float test accuracy {acc:.4f} on {len(ys)} rows", file=sys.stderr)


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def sample(shape, kind, gen):
    if kind == "digits":
        (xt, _), _ = digits_split()
        return xt[torch.randint(len(xt), (1,), generator=gen)].reshape(shape)
    if kind == "image":
        return torch.rand(shape, generator=gen)
    if kind.startswith("tokens:"):
        return torch.randint(int(kind.split(":")[1]), shape, generator=gen)
    return torch.randn(shape, generator=gen)


FIXTURES = [
    # name, module, input shape, input kind, opset
    ("mlp", Mlp, (1, 784), "image", 13),
    ("lenet", LeNet, (1, 1, 28, 28), "image", 13),
    ("cifar_cnn", CifarCnn, (1, 3, 32, 32), "image", 13),
    ("attention", Attention, (1, 8, 16), "normal", 13),
    ("sigmoid_tanh_mlp", SigmoidTanhMlp, (1, 16), "normal", 13),
    ("digits_cnn", DigitsCnn, (1, 1, 8, 8), "digits", 13),
]


def flat(t):
    """The values of `t` as a flat list: integers (token ids) stay integers in the JSON files."""
    return [v if isinstance(v, int) else float(v) for v in t.reshape(-1).tolist()]


def export_fixture(model, sampling, out_dir, opset):
    """Exports `model` to out_dir/model.onnx and writes input.json, calibration.json and output.json
    (onnxruntime's output) from `sampling` = (input shape, input kind, generator); returns the ONNX path."""
    shape, kind, gen = sampling
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    x = sample(shape, kind, gen)
    torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["input"],
                      output_names=["output"], dynamo=False, do_constant_folding=False)
    onnx.checker.check_model(onnx.load(path))
    calib = [sample(shape, kind, gen) for _ in range(CALIBRATION_SAMPLES)]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {"input": x.numpy()})[0]
    with open(os.path.join(out_dir, "input.json"), "w") as f:
        json.dump({"input_data": [flat(x)]}, f)
    with open(os.path.join(out_dir, "calibration.json"), "w") as f:
        json.dump({"input_data": [sum((flat(c) for c in calib), [])]}, f)
    with open(os.path.join(out_dir, "output.json"), "w") as f:
        json.dump({"output_data": [flat(torch.from_numpy(y))]}, f)
    return path


def export_fixtures(fixtures, out_root, seed, opset):
    """Exports each (name, constructor, input shape, input kind) of `fixtures` under out_root/name with
    export_fixture: torch seeded seed + index, the sampling generator seed + 1000 + index, BatchNorm
    statistics randomised; a constructor raising ImportError (an optional package) is skipped."""
    for index, (name, make, shape, kind) in enumerate(fixtures):
        torch.manual_seed(seed + index)
        gen = torch.Generator().manual_seed(seed + 1000 + index)
        try:
            model = make()
        except ImportError as e:
            print(f"{name}: skipped ({e})", file=sys.stderr)
            continue
        randomise_batchnorm(model, gen)
        model.eval()
        path = export_fixture(model, (shape, kind, gen), os.path.join(out_root, name), opset)
        params = sum(p.numel() for p in model.parameters())
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"{name}: {params} parameters, {os.path.getsize(path)} bytes, ops {ops}", file=sys.stderr)


def main():
    for index, (name, cls, shape, kind, opset) in enumerate(FIXTURES):
        torch.manual_seed(1000 + index)
        gen = torch.Generator().manual_seed(2000 + index)
        model = cls()
        randomise_batchnorm(model, gen)
        if name == "digits_cnn":
            train_digits(model)
        model.eval()
        out_dir = os.path.join(HERE, name)
        path = export_fixture(model, (shape, kind, gen), out_dir, opset)
        if name == "digits_cnn":
            write_digits_test_set(out_dir, model)
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"{name}: {os.path.getsize(path)} bytes, ops {ops}", file=sys.stderr)


if __name__ == "__main__":
    with torch.no_grad():
        main()
