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


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def sample(shape, kind, gen):
    if kind == "image":
        return torch.rand(shape, generator=gen)
    return torch.randn(shape, generator=gen)


FIXTURES = [
    # name, module, input shape, input kind, opset
    ("mlp", Mlp, (1, 784), "image", 13),
    ("lenet", LeNet, (1, 1, 28, 28), "image", 13),
    ("cifar_cnn", CifarCnn, (1, 3, 32, 32), "image", 13),
    ("attention", Attention, (1, 8, 16), "normal", 13),
    ("sigmoid_tanh_mlp", SigmoidTanhMlp, (1, 16), "normal", 13),
]


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    for index, (name, cls, shape, kind, opset) in enumerate(FIXTURES):
        torch.manual_seed(1000 + index)
        gen = torch.Generator().manual_seed(2000 + index)
        model = cls()
        randomise_batchnorm(model, gen)
        model.eval()
        out_dir = os.path.join(HERE, name)
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
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"{name}: {os.path.getsize(path)} bytes, ops {ops}", file=sys.stderr)


if __name__ == "__main__":
    with torch.no_grad():
        main()
