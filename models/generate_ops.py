"""Seeded generator for poai's single-op ONNX fixtures (models/ops/).

Each case is one ONNX op (or a short exporter-style chain) built with onnx.helper, with onnxruntime's
output for a random input. The Rust tests import every case, check the float reference against
onnxruntime, and check the quantised run against it within the accuracy budget.

Each case directory holds model.onnx, input.json (one sample) and output.json, and calibration.json
(8 samples, the first being input.json's).

Run: python3 models/generate_ops.py   (needs onnx, onnxruntime, numpy)
"""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops")
RNG = np.random.default_rng(7)


def w(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def model(name, nodes, in_shape, out_shape, inits=(), opset=13, positive=False, token_ids=None):
    """`token_ids=V`: the input is INT64 token ids in [0, V) instead of float32 samples."""
    inits = [numpy_helper.from_array(v, k) for k, v in inits]
    in_type = TensorProto.FLOAT if token_ids is None else TensorProto.INT64
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", in_type, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    samples = [RNG.standard_normal(in_shape).astype(np.float32) for _ in range(8)]
    if token_ids is not None:
        samples = [RNG.integers(0, token_ids, in_shape).astype(np.int64) for _ in range(8)]
    if positive:
        samples = [np.abs(s) + 0.25 for s in samples]
    sess = ort.InferenceSession(os.path.join(d, "model.onnx"), providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": samples[0]})[0]
    assert list(y.shape) == list(out_shape), (name, y.shape, out_shape)
    dump = lambda p, obj: json.dump(obj, open(os.path.join(d, p), "w"))
    dump("input.json", {"input_data": [samples[0].reshape(-1).tolist()]})
    dump("calibration.json", {"input_data": [np.concatenate([s.reshape(-1) for s in samples]).tolist()]})
    dump("output.json", {"output_data": [y.reshape(-1).astype(float).tolist()]})


N = helper.make_node
i64 = lambda *v: np.array(v, dtype=np.int64)

model("gemm_trans", [N("Gemm", ["x", "B", "C"], ["y"], alpha=0.7, beta=1.3, transA=1, transB=1)],
      [6, 2], [2, 5], [("B", w(5, 6)), ("C", w(5))])
model("matmul_batched", [N("MatMul", ["x", "W"], ["y"])], [2, 3, 4], [2, 3, 5], [("W", w(2, 4, 5))])
model("matmul_activations", [N("Transpose", ["x"], ["t"], perm=[0, 2, 1]), N("MatMul", ["x", "t"], ["y"])],
      [2, 3, 4], [2, 3, 3])
model("conv_group_stride_dilation",
      [N("Conv", ["x", "W", "b"], ["y"], group=2, strides=[2, 2], dilations=[2, 2], pads=[1, 2, 2, 1])],
      [1, 4, 11, 11], [1, 6, 5, 5], [("W", w(6, 2, 3, 3)), ("b", w(6))])
model("conv_depthwise_same", [N("Conv", ["x", "W"], ["y"], group=3, auto_pad="SAME_UPPER")],
      [1, 3, 8, 8], [1, 3, 8, 8], [("W", w(3, 1, 3, 3))])
model("conv_batchnorm", [N("Conv", ["x", "W"], ["c"]), N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"])],
      [1, 2, 6, 6], [1, 4, 4, 4],
      [("W", w(4, 2, 3, 3)), ("s", w(4) + 1), ("bb", w(4)), ("m", w(4)), ("v", np.abs(w(4)) + 0.5)])
model("maxpool_pads", [N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
      [1, 2, 7, 7], [1, 2, 4, 4])
model("avgpool_exclude_pad", [N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
      [1, 2, 5, 5], [1, 2, 5, 5])
model("avgpool_include_pad",
      [N("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)],
      [1, 1, 6, 6], [1, 1, 4, 4])
model("global_avgpool", [N("GlobalAveragePool", ["x"], ["y"])], [1, 3, 4, 5], [1, 3, 1, 1])
model("add_sub_mul_broadcast", [N("Add", ["x", "a"], ["s"]), N("Mul", ["s", "x"], ["p"]), N("Sub", ["p", "b"], ["y"])],
      [2, 3, 4], [2, 3, 4], [("a", w(4)), ("b", w(3, 1))])
model("div_const", [N("Div", ["x", "c"], ["y"])], [3, 4], [3, 4], [("c", np.array([2.5], np.float32))])
model("relu_leaky_clip", [N("Relu", ["x"], ["r"]), N("LeakyRelu", ["x"], ["l"], alpha=0.1),
                          N("Clip", ["l", "lo", "hi"], ["c"]), N("Add", ["r", "c"], ["y"])],
      [4, 5], [4, 5], [("lo", np.array(-0.05, np.float32)), ("hi", np.array(0.8, np.float32))])
model("sigmoid", [N("Sigmoid", ["x"], ["y"])], [4, 8], [4, 8])
model("tanh", [N("Tanh", ["x"], ["y"])], [4, 8], [4, 8])
model("exp", [N("Exp", ["x"], ["y"])], [4, 8], [4, 8])
model("erf_gelu", [N("Div", ["x", "r2"], ["d"]), N("Erf", ["d"], ["e"]), N("Add", ["e", "one"], ["a"]),
                   N("Mul", ["x", "a"], ["m"]), N("Mul", ["m", "half"], ["y"])],
      [4, 8], [4, 8], [("r2", np.array(1.4142135, np.float32)), ("one", np.array(1.0, np.float32)),
                       ("half", np.array(0.5, np.float32))])
model("softmax_axis1", [N("Softmax", ["x"], ["y"], axis=1)], [2, 5, 3], [2, 5, 3])
model("layernorm_op", [N("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)],
      [2, 3, 8], [2, 3, 8], [("g", w(8) + 1), ("b", w(8))], opset=17)
model("sqrt_reciprocal", [N("Sqrt", ["x"], ["s"]), N("Reciprocal", ["x"], ["r"]), N("Add", ["s", "r"], ["y"])],
      [4, 6], [4, 6], positive=True)
model("reduce_sum_mean", [N("ReduceSum", ["x", "ax"], ["s"], keepdims=0), N("ReduceMean", ["s"], ["y"], axes=[0], keepdims=1)],
      [3, 4, 5], [1, 5], [("ax", i64(1))])
model("shape_chain_flatten",
      [N("Shape", ["x"], ["sh"]), N("Gather", ["sh", "zero"], ["n"], axis=0), N("Unsqueeze", ["n", "axes0"], ["n1"]),
       N("Concat", ["n1", "minus1"], ["target"], axis=0), N("Reshape", ["x", "target"], ["y"])],
      [2, 3, 4], [2, 12], [("zero", np.array(0, np.int64)), ("axes0", i64(0)), ("minus1", i64(-1))])
model("transpose_slice_gather_concat",
      [N("Transpose", ["x"], ["t"], perm=[2, 0, 1]),
       N("Slice", ["t", "st", "en", "axs", "steps"], ["s"]),
       N("Gather", ["x", "idx"], ["g"], axis=2),
       N("Transpose", ["g"], ["gt"], perm=[2, 0, 1]),
       N("Concat", ["s", "gt"], ["y"], axis=0)],
      [2, 3, 6], [5, 2, 3],
      [("st", i64(5)), ("en", i64(-100)), ("axs", i64(0)), ("steps", i64(-2)), ("idx", i64(0, -1))])
model("squeeze_unsqueeze_flatten",
      [N("Unsqueeze", ["x", "a1"], ["u"]), N("Squeeze", ["u", "a1"], ["s"]), N("Flatten", ["s"], ["y"], axis=2)],
      [2, 3, 4], [6, 4], [("a1", i64(1))])
model("pow_sqrt_decomposed_layernorm",
      [N("ReduceMean", ["x"], ["m"], axes=[-1]), N("Sub", ["x", "m"], ["d"]), N("Pow", ["d", "two"], ["p"]),
       N("ReduceMean", ["p"], ["v"], axes=[-1]), N("Add", ["v", "eps"], ["ve"]), N("Sqrt", ["ve"], ["sd"]),
       N("Div", ["d", "sd"], ["y"])],
      [3, 10], [3, 10], [("two", np.array(2.0, np.float32)), ("eps", np.array(1e-5, np.float32))])
model("gemm_batchnorm1d", [N("Gemm", ["x", "B", "C"], ["g"], transB=1),
                          N("BatchNormalization", ["g", "s", "bb", "m", "v"], ["y"])],
      [3, 6], [3, 4], [("B", w(4, 6)), ("C", w(4)), ("s", w(4) + 1), ("bb", w(4)), ("m", w(4)), ("v", np.abs(w(4)) + 0.5)])


def typed_fields_case():
    """Initializers in typed fields (float_data, int64_data) instead of raw_data, plus Constant value_ints."""
    W = w(6, 3)
    inits = [helper.make_tensor("W", TensorProto.FLOAT, W.shape, W.reshape(-1).tolist()),
             helper.make_tensor("shape", TensorProto.INT64, [2], [3, 2])]
    nodes = [N("MatMul", ["x", "W"], ["m"]), N("Constant", [], ["perm_shape"], value_ints=[2, 3]),
             N("Reshape", ["m", "shape"], ["r"]), N("Reshape", ["r", "perm_shape"], ["y"])]
    graph = helper.make_graph(nodes, "typed_fields", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    assert not m.graph.initializer[0].raw_data and m.graph.initializer[0].float_data
    onnx.checker.check_model(m)
    d = os.path.join(HERE, "typed_fields")
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    samples = [RNG.standard_normal([2, 6]).astype(np.float32) for _ in range(8)]
    y = ort.InferenceSession(os.path.join(d, "model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": samples[0]})[0]
    json.dump({"input_data": [samples[0].reshape(-1).tolist()]}, open(os.path.join(d, "input.json"), "w"))
    json.dump({"input_data": [np.concatenate([s.reshape(-1) for s in samples]).tolist()]}, open(os.path.join(d, "calibration.json"), "w"))
    json.dump({"output_data": [y.reshape(-1).astype(float).tolist()]}, open(os.path.join(d, "output.json"), "w"))


typed_fields_case()

# A causal additive mask and position terms computed from constants alone, as exporters write them
# (Range, Unsqueeze, LessOrEqual, Not, Where, Expand, Trilu, CumSum, Tile, Equal, And, Or, Xor, Min, Max,
# Mod, Abs, Floor, Ceil, Sign, GatherElements, comparisons, IsNaN, IsInf): folded at import, so the
# model proves `x + constant`.
f32 = lambda *v: np.array(v, dtype=np.float32)
model("const_mask_folded", [
    N("Range", ["zero_i", "four_i", "one_i"], ["pos"]),
    N("Unsqueeze", ["pos", "ax0"], ["row"]), N("Unsqueeze", ["pos", "ax1"], ["col"]),
    N("LessOrEqual", ["row", "col"], ["causal"]), N("Not", ["causal"], ["future"]),
    N("Where", ["future", "neg", "zero_f"], ["mask"]), N("Expand", ["mask", "shape3"], ["mask3"]),
    N("Trilu", ["ones", "k1"], ["tri"], upper=1), N("CumSum", ["tri", "ax1"], ["cs"]),
    N("Tile", ["pair", "reps"], ["tiled"]),
    N("Equal", ["row", "col"], ["diag"]), N("And", ["diag", "causal"], ["d2"]), N("Or", ["d2", "future"], ["o"]),
    N("Xor", ["o", "diag"], ["xo"]), N("Cast", ["xo"], ["xof"], to=TensorProto.FLOAT),
    N("Min", ["cs", "tiled"], ["mn"]), N("Max", ["mn", "xof"], ["mx"]),
    N("GatherElements", ["mx", "perm"], ["g"], axis=1),
    N("Mod", ["pos", "three_i"], ["md"]), N("Cast", ["md"], ["mdf"], to=TensorProto.FLOAT),
    N("Sub", ["mdf", "half"], ["shifted"]), N("Floor", ["shifted"], ["fl"]), N("Ceil", ["shifted"], ["ce"]),
    N("Sign", ["shifted"], ["sg"]), N("Abs", ["shifted"], ["ab"]),
    N("Greater", ["cs", "tiled"], ["gt"]), N("Less", ["fl", "ce"], ["lt"]), N("GreaterOrEqual", ["ab", "half"], ["ge"]),
    N("IsNaN", ["cs"], ["nan"]), N("IsInf", ["cs"], ["inf"]),
    N("Cast", ["gt"], ["gtf"], to=TensorProto.FLOAT), N("Cast", ["lt"], ["ltf"], to=TensorProto.FLOAT),
    N("Cast", ["ge"], ["gef"], to=TensorProto.FLOAT), N("Cast", ["nan"], ["nanf"], to=TensorProto.FLOAT),
    N("Cast", ["inf"], ["inff"], to=TensorProto.FLOAT),
    N("Add", ["g", "gtf"], ["t1"]), N("Add", ["t1", "ltf"], ["t2"]), N("Add", ["t2", "gef"], ["t3"]),
    N("Add", ["t3", "sg"], ["t4"]), N("Add", ["t4", "nanf"], ["t5"]), N("Add", ["t5", "inff"], ["t6"]),
    N("Mul", ["t6", "tenth"], ["term"]),
    N("Add", ["x", "mask3"], ["masked"]), N("Add", ["masked", "term"], ["y"]),
], [2, 4, 4], [2, 4, 4], [
    ("zero_i", np.array(0, np.int64)), ("four_i", np.array(4, np.int64)), ("one_i", np.array(1, np.int64)),
    ("three_i", np.array(3, np.int64)), ("ax0", i64(0)), ("ax1", i64(1)), ("neg", f32(-2.0)), ("zero_f", f32(0.0)),
    ("shape3", i64(2, 4, 4)), ("ones", np.ones((4, 4), np.float32)), ("k1", np.array(1, np.int64)),
    ("pair", f32(1.5, 2.5).reshape(1, 2)), ("reps", i64(4, 2)), ("perm", np.array([[3, 2, 1, 0]] * 4, np.int64)),
    ("half", f32(0.5)), ("tenth", f32(0.1)),
], opset=14)

# Split with sizes as an input, and into equal parts by `num_outputs` (opset 18, as the dynamo exporter
# writes GPT-2's fused QKV), the parts recombined in another order, one negated.
model("split_sizes_and_parts", [
    N("Split", ["x", "sizes"], ["a", "b"], axis=1),
    N("Split", ["b"], ["c", "d"], axis=1, num_outputs=2),
    N("Mul", ["c", "two"], ["c2"]), N("Neg", ["a"], ["na"]),
    N("Concat", ["d", "na", "c2"], ["y"], axis=1),
], [2, 6], [2, 6], [("sizes", i64(2, 4)), ("two", np.array([2.0], np.float32))], opset=18)

# 1-D convolutions and pools (keyword spotting, audio): stride, pads, dilation, groups, SAME padding,
# max and average pooling.
model("conv1d_pool1d", [
    N("Conv", ["x", "W1", "b1"], ["c1"], strides=[2], pads=[2, 2]), N("Relu", ["c1"], ["r1"]),
    N("MaxPool", ["r1"], ["p1"], kernel_shape=[2], strides=[2]),
    N("Conv", ["p1", "W2"], ["c2"], group=4, dilations=[2], pads=[2, 2]),
    N("Conv", ["c2", "W3"], ["c3"], auto_pad="SAME_LOWER"),
    N("AveragePool", ["c3"], ["y"], kernel_shape=[3], pads=[1, 1]),
], [1, 4, 32], [1, 8, 8], [("W1", w(8, 4, 5)), ("b1", w(8)), ("W2", w(8, 2, 3)), ("W3", w(8, 8, 2))])

# Recurrent cells, unrolled at import: a GRU with the reset after the recurrent product (PyTorch's
# export) over a given initial state, a reverse GRU with the reset before it, a bidirectional LSTM; Y,
# Y_h and Y_c all used.
model("gru_lstm", [
    N("GRU", ["x", "Wg", "Rg", "Bg", "", "h0"], ["yg", "hg"], hidden_size=5, linear_before_reset=1),
    N("GRU", ["x", "Wr", "Rr", "Br"], ["yr"], hidden_size=5, direction="reverse"),
    N("LSTM", ["x", "Wl", "Rl", "Bl"], ["yl", "hl", "cl"], hidden_size=5, direction="bidirectional"),
    N("Reshape", ["yg", "flat_y"], ["fg"]), N("Reshape", ["yr", "flat_y"], ["fr"]),
    N("Reshape", ["yl", "flat_y2"], ["fl"]), N("Reshape", ["hg", "flat_h"], ["fhg"]),
    N("Reshape", ["hl", "flat_h2"], ["fhl"]), N("Reshape", ["cl", "flat_h2"], ["fcl"]),
    N("Concat", ["fg", "fr", "fl", "fhg", "fhl", "fcl"], ["y"], axis=1),
], [6, 1, 3], [1, 30 + 30 + 60 + 5 + 10 + 10], [
    ("Wg", w(1, 15, 3)), ("Rg", w(1, 15, 5)), ("Bg", w(1, 30)), ("h0", w(1, 1, 5)),
    ("Wr", w(1, 15, 3)), ("Rr", w(1, 15, 5)), ("Br", w(1, 30)),
    ("Wl", w(2, 20, 3)), ("Rl", w(2, 20, 5)), ("Bl", w(2, 40)),
    ("flat_y", i64(1, 30)), ("flat_y2", i64(1, 60)), ("flat_h", i64(1, 5)), ("flat_h2", i64(1, 10)),
])
# Token ids (INT64) through an embedding table, then a product with a weight: the embedding is a
# Gather of a constant table's rows at the data indices.
model("token_embedding", [
    N("Gather", ["E", "x"], ["e"], axis=0), N("MatMul", ["e", "W"], ["y"]),
], [1, 6], [1, 6, 4], [("E", w(20, 8)), ("W", w(8, 4))], token_ids=20)

# A causal attention mask as exporters leave it after folding: scores plus a constant holding 0 and
# float32's lowest value above the diagonal, then Softmax.
causal = np.triu(np.full((5, 5), np.finfo(np.float32).min, np.float32), 1).reshape(1, 1, 5, 5)
model("causal_mask_softmax", [
    N("Add", ["x", "M"], ["s"]), N("Softmax", ["s"], ["y"], axis=-1),
], [1, 2, 5, 5], [1, 2, 5, 5], [("M", causal)])
# The masked_fill form of the same mask: Where(keep, scores, -inf) before the Softmax.
keep = np.tril(np.ones((5, 5), bool)).reshape(1, 1, 5, 5)
model("masked_fill_softmax", [
    N("Where", ["K", "x", "F"], ["s"]), N("Softmax", ["s"], ["y"], axis=-1),
], [1, 2, 5, 5], [1, 2, 5, 5], [("K", keep), ("F", np.array(-np.inf, np.float32))])
print("ok")
