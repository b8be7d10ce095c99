"""Seeded generator for the scale fixtures of the benches: too large to commit, so they are written under
models/large/ (ignored by git) and only the benches read them.

  resnet18      torchvision's ResNet-18 (11.2M parameters, 10 classes) on a CIFAR-sized 3x32x32 input,
                random weights and BatchNorm statistics
  mobilenet_v2  torchvision's MobileNetV2 at width 0.35 (10 classes) on a 3x32x32 input: depthwise
                convolutions, whose channels differ in range far more than a dense kernel's
  transformer   two post-norm transformer blocks, embedding width 128 over 16 tokens, four-head
                attention (heads split by constant-shape reshapes, as a hand-written block exports) and
                a 4x GELU MLP (0.4M parameters)

Each directory holds model.onnx, input.json, calibration.json and output.json as models/generate.py
writes them. Run: python3 models/generate_large.py   (needs torch, torchvision, onnx, onnxruntime)
"""

import os

import torch
import torchvision
from torch import nn

from generate import export_fixtures

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


def mobilenet_v2():
    return torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.35)


FIXTURES = [
    # name, constructor, input shape, input kind
    ("resnet18", resnet18, (1, 3, 32, 32), "image"),
    ("transformer", Transformer, (1, 16, 128), "normal"),
    ("mobilenet_v2", mobilenet_v2, (1, 3, 32, 32), "image"),
]


def main():
    export_fixtures(FIXTURES, os.path.join(HERE, "large"), 3000, 13)


if __name__ == "__main__":
    with torch.no_grad():
        main()
