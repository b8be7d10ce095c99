"""Seeded generator for fixtures in the shapes real exporters write (issue #24), small enough to commit
under models/real/ so that tests need no PyTorch:

  gru_classifier  a batch-first nn.GRU (12 features, 24 hidden, 16 steps) whose last state feeds a
                  linear classifier: the exporter's GRU node with its Transpose/Squeeze plumbing
  kws_conv1d      a keyword-spotting 1-D CNN over 10 MFCC-like coefficients x 49 frames: Conv1d with
                  stride, BatchNorm1d, ReLU, MaxPool1d, a grouped Conv1d, a global mean, a classifier
  vit_tiny        (with `transformers`) a two-layer ViT over 32x32 images in 8x8 patches, width 64,
                  as Hugging Face's ViTForImageClassification exports (position embeddings, CLS token,
                  erf GELU, LayerNorm); written only when transformers is installed
  gpt2_tiny       (with `transformers`) a two-layer GPT-2 causal LM (vocabulary 256, width 64, 4 heads)
                  over 16 int64 token ids: embedding lookups, the causal mask, fused QKV, tanh-GELU,
                  logits through the tied embedding
  bert_tiny       (with `transformers`) a two-layer BERT encoder classifier (vocabulary 512, width 64,
                  4 heads) over 16 int64 token ids: word, position and token-type embeddings, pooler

Random seeded weights (BatchNorm statistics too); each directory holds model.onnx, input.json,
calibration.json and output.json (onnxruntime's) as models/generate.py writes them.
Run: python3 models/generate_real.py   (needs torch, onnx, onnxruntime; transformers for vit_tiny)
"""

import os

import torch
from torch import nn

from generate import export_fixtures

HERE = os.path.dirname(os.path.abspath(__file__))


class GruClassifier(nn.Module):
    def __init__(self, features=12, hidden=24, classes=5):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.gru(x)
        return self.head(h[-1])


class KwsConv1d(nn.Module):
    def __init__(self, coefficients=10, classes=6):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(coefficients, 16, 5, stride=2, padding=2), nn.BatchNorm1d(16), nn.ReLU(),
            nn.Conv1d(16, 16, 3, padding=1, groups=4), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 24, 3), nn.ReLU(),
        )
        self.head = nn.Linear(24, classes)

    def forward(self, x):
        return self.head(self.body(x).mean(dim=2))


def vit_tiny():
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=64, num_hidden_layers=2,
                       num_attention_heads=4, intermediate_size=128, num_labels=10)
    model = ViTForImageClassification(config)

    class Logits(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(pixel_values=x).logits

    return Logits(model)


class LogitsOf(nn.Module):
    """A Hugging Face model called with one keyword input, returning its logits."""

    def __init__(self, inner, keyword):
        super().__init__()
        self.inner = inner
        self.keyword = keyword

    def forward(self, x):
        return self.inner(**{self.keyword: x}).logits


def gpt2_tiny():
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=256, n_positions=32, n_embd=64, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0,
                        attn_implementation="eager")
    return LogitsOf(GPT2LMHeadModel(config), "input_ids")


def bert_tiny():
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, max_position_embeddings=32, num_labels=3,
                        attn_implementation="eager")
    return LogitsOf(BertForSequenceClassification(config), "input_ids")


FIXTURES = [
    # name, constructor, input shape, input kind
    ("gru_classifier", GruClassifier, (1, 16, 12), "normal"),
    ("kws_conv1d", KwsConv1d, (1, 10, 49), "normal"),
    ("vit_tiny", vit_tiny, (1, 3, 32, 32), "image"),
    ("gpt2_tiny", gpt2_tiny, (1, 16), "tokens:256"),
    ("bert_tiny", bert_tiny, (1, 16), "tokens:512"),
]


def main():
    export_fixtures(FIXTURES, os.path.join(HERE, "real"), 5000, 17)


if __name__ == "__main__":
    with torch.no_grad():
        main()
