"""Seeded generator for the scale fixtures of the benches: too large to commit, so they are written under
models/large/ (ignored by git) and only the benches read them.

  resnet18      torchvision's ResNet-18 (11.2M parameters, 10 classes) on a CIFAR-sized 3x32x32 input,
                random weights and BatchNorm statistics
  transformer   two post-norm transformer blocks, embedding width 128 over 16 tokens, four-head
                attention (heads split by constant-shape reshapes, as a hand-written block exports) and
                a 4x GELU MLP (0.4M parameters)

Each directory holds model.onnx, input.json, calibration.json and output.json as models/generate.py
writes them. Run: python3 models/generate_large.py   (needs torch, torchvision, onnx, onnxruntime)
"""

import json
import os
import sys

import onnx
import onnxruntime as ort
import torch
import torchvision
from torch import nn

from generate import CALIBRATION_SAMPLES, flat, randomise_batchnorm, sample

HERE = os.path.dirname(os.path.abspath(__file__))


class Block(nn.Module):
    """A post-norm transformer block: multi-head self-attention, then a GELU MLP, each residual."""

    def __init__(self, d, heads, tokens):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.up, self.down = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.d, self.heads, self.tokens = d, heads, tokens

    def split(self, x):
        return x.reshape(1, self.tokens, self.heads, self.d // self.heads).transpose(1, 2)

    def forward(self, x):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = torch.softmax(q @ k.transpose(-2, -1) / ((self.d // self.heads) ** 0.5), dim=-1)
        mixed = (att @ v).transpose(1, 2).reshape(1, self.tokens, self.d)
        x = self.ln1(x + self.o(mixed))
        return self.ln2(x + self.down(nn.functional.gelu(self.up(x))))


class Transformer(nn.Module):
    def __init__(self, d=128, heads=4, tokens=16, blocks=2):
        super().__init__()
        self.blocks = nn.Sequential(*(Block(d, heads, tokens) for _ in range(blocks)))

    def forward(self, x):
        return self.blocks(x)


def resnet18():
    return torchvision.models.resnet18(num_classes=10)


FIXTURES = [
    # name, constructor, input shape, input kind
    ("resnet18", resnet18, (1, 3, 32, 32), "image"),
    ("transformer", Transformer, (1, 16, 128), "normal"),
]


def main():
    for index, (name, make, shape, kind) in enumerate(FIXTURES):
        torch.manual_seed(3000 + index)
        gen = torch.Generator().manual_seed(4000 + index)
        model = make()
        randomise_batchnorm(model, gen)
        model.eval()
        out_dir = os.path.join(HERE, "large", name)
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "model.onnx")
        x = sample(shape, kind, gen)
        torch.onnx.export(model, (x,), path, opset_version=13, input_names=["input"],
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
        params = sum(p.numel() for p in model.parameters())
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"{name}: {params} parameters, {os.path.getsize(path)} bytes, ops {ops}", file=sys.stderr)


if __name__ == "__main__":
    with torch.no_grad():
        main()
