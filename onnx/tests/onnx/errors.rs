//! Bad input gets a typed error naming the file, node or field — never a panic.

use std::path::Path;

use onnx_protobuf::{Message, ModelProto};
use poai_onnx::{import_bytes, io, OnnxError, QuantConfig};

use crate::common::*;

fn mlp_bytes() -> Vec<u8> {
    std::fs::read(models_dir().join("mlp/model.onnx")).unwrap_or_default()
}

fn parsed() -> ModelProto {
    ModelProto::parse_from_bytes(&mlp_bytes()).unwrap_or_default()
}

fn import(m: &ModelProto) -> Result<poai_onnx::Graph, OnnxError> {
    import_bytes(&m.write_to_bytes().unwrap_or_default(), Path::new("edited.onnx"))
}

#[test]
fn truncated_and_foreign_files_are_decode_errors() {
    let bytes = mlp_bytes();
    for cut in [10, bytes.len() / 2, bytes.len() - 3] {
        let e = import_bytes(&bytes[..cut], Path::new("cut.onnx")).err();
        assert!(matches!(e, Some(OnnxError::Decode { .. })), "cut at {cut}: {e:?}");
    }
    let e = import_bytes(b"{\"input_data\": [[1.0]]}", Path::new("input.json")).err().map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("input.json is not a valid ONNX model"));
    let e = poai_onnx::load_onnx(Path::new("/nonexistent/model.onnx"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("cannot read /nonexistent/model.onnx"), "{e}");
}

#[test]
fn every_unsupported_op_is_listed_in_one_error() {
    let mut m = parsed();
    let g = m.graph.as_mut().unwrap_or_else(|| unreachable!());
    g.node[1].op_type = "Sin".into();
    g.node[3].op_type = "TopK".into();
    let e = import(&m).err();
    match e {
        Some(OnnxError::Unsupported { ops }) => {
            assert_eq!(ops.len(), 2, "{ops:?}");
            assert_eq!(ops[0].1, "Sin");
            assert_eq!(ops[1].1, "TopK");
            assert!(!ops[0].0.is_empty(), "node name given");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn missing_initializer_names_node_and_value() {
    let mut m = parsed();
    let g = m.graph.as_mut().unwrap_or_else(|| unreachable!());
    let removed = g.initializer.remove(0).name;
    let e = import(&m).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains(&format!("reads `{removed}`")) && e.contains("node `"), "{e}");
}

#[test]
fn external_data_and_bad_opset_are_rejected() {
    let mut m = parsed();
    let g = m.graph.as_mut().unwrap_or_else(|| unreachable!());
    g.initializer[0].data_location = onnx_protobuf::tensor_proto::DataLocation::EXTERNAL.into();
    let e = import(&m).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("external data"), "{e}");
    let mut m = parsed();
    m.opset_import[0].version = 7;
    assert!(matches!(import(&m).err(), Some(OnnxError::Opset { version: 7, .. })));
}

#[test]
fn wrong_input_length_nan_and_inf_are_rejected() {
    let (_, model) = compile_dir(&models_dir().join("mlp")).unwrap_or_else(|e| panic!("{e}"));
    let e = model.run(&[vec![0.5; 783]]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("input `input` must have shape [1, 784]"), "{e}");
    let mut x = vec![0.5; 784];
    x[17] = f32::NAN;
    let e = model.run(&[x]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("input `input` element 17") && e.contains("not finite"), "{e}");
    let e = model.run(&[]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("takes 1 inputs, got 0"), "{e}");
    let p = Path::new("in.json");
    let e = io::parse_input_data("{\"input_data\": [[1.0, NaN]]}", p)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("in.json") && e.contains("NaN"), "{e}");
    let e = io::parse_input_data("{\"input_data\": [[1.0, 1e999]]}", p)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("in.json"), "{e}");
    let e = io::parse_input_data("{\"input_data\": [[1.0, \"x\"]]}", p)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("`input_data[0][1]` is not a number"), "{e}");
    let e = io::parse_input_data("{\"inputs\": []}", p).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("missing field `input_data`"), "{e}");
}

#[test]
fn empty_or_ragged_calibration_sets_are_rejected() {
    let g = poai_onnx::load_onnx(&models_dir().join("mlp/model.onnx")).unwrap_or_else(|e| panic!("{e}"));
    let p = Path::new("cal.json");
    let cfg = poai_onnx::QuantConfig::default();
    let onnx = Path::new("mlp.onnx");
    let e = poai_onnx::compile_graph(&g, onnx, &[vec![]], p, &cfg)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("cal.json") && e.contains("calibration set is empty"), "{e}");
    let e = poai_onnx::compile_graph(&g, onnx, &[vec![0.1; 784 * 2 + 5]], p, &cfg)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("not a multiple of the input size 784"), "{e}");
    // Two samples back to back are accepted.
    assert!(poai_onnx::compile_graph(&g, onnx, &[vec![0.1; 784 * 2]], p, &cfg).is_ok());
}

#[test]
fn corrupted_compiled_artifacts_are_typed_errors() {
    let (_, model) = compile_dir(&models_dir().join("sigmoid_tanh_mlp")).unwrap_or_else(|e| panic!("{e}"));
    let bytes = model.to_json().unwrap_or_default();
    for cut in [0, 1, bytes.len() / 3, bytes.len() - 1] {
        assert!(poai_onnx::CompiledModel::from_json(&bytes[..cut]).is_err(), "cut {cut}");
    }
    // One weight edited by hand: the stored commitment no longer matches.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let values = v["graph"]["values"].as_array_mut().unwrap_or_else(|| unreachable!());
    let w = values.iter_mut().find(|x| x["source"]["kind"] == "const").unwrap_or_else(|| unreachable!());
    let d = &mut w["source"]["tensor"]["data"][0];
    *d = serde_json::json!(d.as_i64().unwrap_or(0) + 1);
    let e = poai_onnx::CompiledModel::from_json(&serde_json::to_vec(&v).unwrap_or_default())
        .err()
        .map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("`model_commitment`"));
    // The commitment recorded at compile time is trusted through the integrity digest; a file without
    // the digest (written before it existed) recomputes the commitment and loads the same; a file
    // whose commitment was edited fails either way.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert_eq!(v["integrity"].as_str(), model.integrity.as_deref());
    v.as_object_mut().map(|o| o.remove("integrity"));
    let old = poai_onnx::CompiledModel::from_json(&serde_json::to_vec(&v).unwrap_or_default());
    assert_eq!(old.ok().map(|m| m.model_commitment), Some(model.model_commitment.clone()));
    for integrity in [serde_json::Value::Null, serde_json::json!(model.integrity)] {
        v["integrity"] = integrity;
        v["model_commitment"] = serde_json::json!(format!("0x{}", "1".repeat(64)));
        let e = poai_onnx::CompiledModel::from_json(&serde_json::to_vec(&v).unwrap_or_default()).err();
        assert!(e.map(|e| e.to_string()).unwrap_or_default().contains("`model_commitment`"));
    }
    let e = poai_onnx::CompiledModel::from_json(b"{\"format\": \"other\"}").err().map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("not a compiled poai model"));
    // Fuzz briefly: flipping bytes never panics.
    for i in (0..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        let _ = poai_onnx::CompiledModel::from_json(&b);
    }
}

#[test]
fn table_settings_are_checked_and_reach_every_table() {
    let dir = models_dir().join("sigmoid_tanh_mlp");
    let g = poai_onnx::load_onnx(&dir.join("model.onnx")).unwrap_or_else(|e| panic!("{e}"));
    let cal_path = dir.join("calibration.json");
    let cal = io::read_input_file(&cal_path).unwrap_or_else(|e| panic!("{e}"));
    let onnx = Path::new("sigmoid_tanh_mlp.onnx");
    // Interpolating every input bit leaves no table: refused by name.
    let cfg = poai_onnx::QuantConfig { table_bits: 8, interp_bits: 8, ..Default::default() };
    let e = poai_onnx::compile_graph(&g, onnx, &cal, &cal_path, &cfg).err().map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("interp_bits: 8"));
    // The default interpolates down to 2^10 entries per table; every table carries the setting.
    let cfg = poai_onnx::QuantConfig::default();
    assert_eq!((cfg.table_bits, cfg.interp_bits), (16, 6));
    let m = poai_onnx::compile_graph(&g, onnx, &cal, &cal_path, &cfg).unwrap_or_else(|e| panic!("{e}"));
    let tables: Vec<_> = m
        .graph
        .nodes
        .iter()
        .filter_map(|n| if let poai_circuits::ir::QOp::Table(t) = n.op { Some(t) } else { None })
        .collect();
    assert_eq!(tables.len(), 2, "sigmoid and tanh");
    assert!(tables.iter().all(|t| t.in_bits == 16 && t.interp_bits == 6 && t.entries() == 1 << 10));
    // Plain tables describe themselves as before the interpolation field existed, so model commitments
    // of earlier compiled models stand; interpolated ones name it.
    let plain = poai_onnx::QuantConfig { table_bits: 10, interp_bits: 0, ..Default::default() };
    let p = poai_onnx::compile_graph(&g, onnx, &cal, &cal_path, &plain).unwrap_or_else(|e| panic!("{e}"));
    let described = |m: &poai_onnx::CompiledModel| {
        String::from_utf8(poai_circuits::commit::graph_description(&m.graph)).unwrap_or_default()
    };
    assert!(described(&p).contains("\"in_bits\":10") && !described(&p).contains("interp_bits"));
    assert!(described(&m).contains("\"interp_bits\":6"));
}

#[test]
fn integer_inputs_are_token_ids_only_and_other_types_are_named() {
    let with_input_type = |code: i32| {
        let mut m = parsed();
        let g = m.graph.as_mut().unwrap_or_else(|| unreachable!());
        let input = g.input.iter_mut().find(|i| !g.initializer.iter().any(|t| t.name == i.name));
        let input = input.unwrap_or_else(|| unreachable!());
        if let Some(ty) = input.type_.as_mut() {
            ty.mut_tensor_type().elem_type = code;
        }
        m
    };
    // An INT64 input imports; read by a MatMul instead of an embedding lookup, compile refuses it.
    let g = import(&with_input_type(7)).unwrap_or_else(|e| panic!("{e}"));
    let cal = vec![vec![0.0f32; 784]];
    let e =
        poai_onnx::compile_graph(&g, Path::new("m.onnx"), &cal, Path::new("c.json"), &QuantConfig::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
    assert!(e.contains("integer input") && e.contains("token ids") && e.contains("float32 inputs"), "{e}");
    // FLOAT16 is refused at import by its name, with the remedy.
    let e = import(&with_input_type(10)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("element type is FLOAT16") && e.contains("export the model with a float32"), "{e}");
}

/// `y = Gather(table, ids)`: an embedding lookup at INT64 token ids `[1, 4]` into a `[6, 3]` table.
fn embedding_model() -> (ModelProto, Vec<f32>) {
    let table: Vec<f32> = (0..18).map(|i| (i as f32 - 8.5) / 4.0).collect();
    let mut m = one_node_model("Gather", &["table", "x"], vec![float_init("table", &[6, 3], &table)]);
    let g = m.graph.as_mut().unwrap_or_else(|| unreachable!());
    if let Some(ty) = g.input[0].type_.as_mut() {
        ty.mut_tensor_type().elem_type = 7;
    }
    (m, table)
}

#[test]
fn token_ids_index_an_embedding_table_and_bad_ids_are_named() {
    let (m, table) = embedding_model();
    let g = import(&m).unwrap_or_else(|e| panic!("{e}"));
    let ops: Vec<String> = g.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(ops, ["OneHot", "MatMul"], "an embedding is a one-hot product");
    assert!(g.integer_inputs.contains("x"));
    let cal = vec![vec![0.0f32, 5.0, 2.0, 3.0, 1.0, 4.0, 4.0, 0.0]];
    let cfg = QuantConfig::default();
    let compiled = poai_onnx::compile_graph(&g, Path::new("m.onnx"), &cal, Path::new("c.json"), &cfg)
        .unwrap_or_else(|e| panic!("{e}"));
    let input = compiled.graph.value(compiled.graph.inputs[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((input.format.scale, input.format.bits), (0, 4), "ids at scale 0, wide enough for 0..=5");
    let got = compiled.run(&[vec![2.0, 0.0, 5.0, 5.0]]).unwrap_or_else(|e| panic!("{e}"));
    let want: Vec<f32> = [2, 0, 5, 5].iter().flat_map(|&r| table[3 * r..3 * r + 3].to_vec()).collect();
    assert!(max_abs_diff(&got[0], &want) < 1e-3, "{:?} against {want:?}", got[0]);
    for (bad, why) in [(6.0f32, "6 is not a token id"), (-1.0, "-1 is not a token id"), (1.5, "1.5 is not")] {
        let e = compiled.run(&[vec![0.0, bad, 0.0, 0.0]]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains(why) && e.contains("[0, 6)") && e.contains("element 1"), "{bad}: {e}");
    }
}

/// A one-node model `y = op(inputs)` over a `[1, 4]` input `x`, with `inits` as initializers, built in
/// memory.
fn one_node_model(op: &str, inputs: &[&str], inits: Vec<onnx_protobuf::TensorProto>) -> ModelProto {
    use onnx_protobuf::{GraphProto, NodeProto, OperatorSetIdProto, TypeProto, ValueInfoProto};
    let value = |name: &str| {
        let mut v = ValueInfoProto::new();
        v.name = name.into();
        let mut ty = TypeProto::new();
        let t = ty.mut_tensor_type();
        t.elem_type = 1;
        let shape = t.shape.mut_or_insert_default();
        for d in [1, 4] {
            let mut dim = onnx_protobuf::tensor_shape_proto::Dimension::new();
            dim.set_dim_value(d);
            shape.dim.push(dim);
        }
        v.type_ = Some(ty).into();
        v
    };
    let mut node = NodeProto::new();
    node.op_type = op.into();
    node.name = op.to_lowercase();
    node.input = inputs.iter().map(|s| s.to_string()).collect();
    node.output = vec!["y".into()];
    let mut g = GraphProto::new();
    g.node = vec![node];
    g.initializer = inits;
    g.input = vec![value("x")];
    g.output = vec![value("y")];
    let mut m = ModelProto::new();
    m.graph = Some(g).into();
    let mut opset = OperatorSetIdProto::new();
    opset.version = 13;
    m.opset_import = vec![opset];
    m
}

/// A float initializer.
fn float_init(name: &str, dims: &[i64], data: &[f32]) -> onnx_protobuf::TensorProto {
    let mut e = onnx_protobuf::TensorProto::new();
    e.name = name.into();
    e.data_type = 1;
    e.dims = dims.to_vec();
    e.float_data = data.to_vec();
    e
}

/// `y = Pow(x, e)`.
fn pow_model(exponent: f32) -> ModelProto {
    one_node_model("Pow", &["x", "e"], vec![float_init("e", &[], &[exponent])])
}

#[test]
fn a_constant_only_op_on_data_is_refused_by_name_with_the_remedy() {
    // Where(mask, x, fill) with a constant mask but the model input as a branch: not folded, refused.
    let inits = vec![float_init("mask", &[1, 4], &[1.0, 0.0, 1.0, 0.0]), float_init("fill", &[], &[-1.0])];
    let e = import(&one_node_model("Where", &["mask", "x", "fill"], inits)).err().map(|e| e.to_string());
    let e = e.unwrap_or_default();
    assert!(e.contains("where") && e.contains("Where on a value computed from the model input (`x`)"), "{e}");
    assert!(e.contains("when all its inputs are constants"), "{e}");
}

#[test]
fn pow_with_a_small_integer_exponent_becomes_multiplications() {
    let x = [0.5f32, -1.25, 2.0, -0.75];
    let input = poai_onnx::FTensor::new(vec![1, 4], x.to_vec()).unwrap_or_else(|e| unreachable!("{e}"));
    for n in [2, 3, 5] {
        let g = import(&pow_model(n as f32)).unwrap_or_else(|e| panic!("x^{n}: {e}"));
        assert_eq!(g.nodes.len(), n - 1, "x^{n} is {} multiplications", n - 1);
        let out = poai_onnx::reference::run_graph(&g, std::slice::from_ref(&input)).unwrap_or_default();
        let y = &out.get(&g.outputs[0]).unwrap_or_else(|| unreachable!()).data;
        for (v, &xi) in y.iter().zip(&x) {
            assert!((v - xi.powi(n as i32)).abs() < 1e-5, "x^{n}: {v} against {}", xi.powi(n as i32));
        }
    }
    for bad in [2.5f32, 9.0, -2.0] {
        let e = import(&pow_model(bad)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("is not supported (integers 2 to 8"), "{bad}: {e}");
    }
}

/// Every blocking problem is listed at once: an unsupported op, an input of an unsupported type and a
/// node with a bad attribute; what is computed from a failed value (`c`) adds no message of its own.
#[test]
fn every_blocking_problem_is_listed_at_once() {
    use onnx_protobuf::{AttributeProto, NodeProto};
    let mut m = one_node_model("Softmax", &["x"], vec![]);
    let g = m.graph.as_mut().unwrap_or_else(|| unreachable!());
    let mut axis = AttributeProto::new();
    axis.name = "axis".into();
    axis.i = 5;
    axis.type_ = onnx_protobuf::attribute_proto::AttributeType::INT.into();
    g.node[0].attribute.push(axis);
    let mut z = g.input[0].clone();
    z.name = "z".into();
    if let Some(ty) = z.type_.as_mut() {
        ty.mut_tensor_type().elem_type = 10;
    }
    g.input.push(z);
    let node = |op: &str, inputs: &[&str], output: &str| {
        let mut n = NodeProto::new();
        n.op_type = op.into();
        n.name = output.into();
        n.input = inputs.iter().map(|s| s.to_string()).collect();
        n.output = vec![output.into()];
        n
    };
    g.node.push(node("Frobnicate", &["x"], "a"));
    g.node.push(node("Add", &["a", "x"], "c"));
    let mut out = g.output[0].clone();
    out.name = "c".into();
    g.output.push(out);
    let Err(OnnxError::Problems { problems }) = import(&m) else { panic!("several problems expected") };
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 3, "{text:#?}");
    assert!(text[0].contains("Frobnicate (node `a`)"), "{text:#?}");
    assert!(text[1].contains("`z`") && text[1].contains("FLOAT16"), "{text:#?}");
    assert!(text[2].contains("node `softmax` (Softmax)") && text[2].contains("axis"), "{text:#?}");
}

/// A huge additive constant that no Softmax reads directly (so it is not a mask there) is refused by
/// name with the remedy, not as a 64-bit value.
#[test]
fn a_huge_constant_away_from_a_softmax_is_refused_as_a_mask_with_the_remedy() {
    let m = one_node_model("Add", &["x", "m"], vec![float_init("m", &[1, 4], &[0.0, f32::MIN, 0.0, 0.0])]);
    let g = import(&m).unwrap_or_else(|e| panic!("{e}"));
    let cal = vec![vec![0.5f32, -1.0, 2.0, 0.25]];
    let e =
        poai_onnx::compile_graph(&g, Path::new("m.onnx"), &cal, Path::new("c.json"), &QuantConfig::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
    assert!(e.contains("`m`") && e.contains("additive attention mask") && e.contains("Softmax"), "{e}");
}
