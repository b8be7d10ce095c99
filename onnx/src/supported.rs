//! The supported-op list as Markdown, kept in `docs/supported-ops.md` and checked by a test.

use crate::SUPPORTED_OPS;

/// Renders the list of supported ONNX ops.
pub fn supported_ops_markdown() -> String {
    let mut s = String::from(
        "# Supported ONNX ops\n\nGenerated from `poai_onnx::SUPPORTED_OPS`; a test fails when this file is stale \
         (regenerate with `POAI_REGENERATE=1 cargo test -p poai-onnx supported_ops`). Opsets 11 to 18, default \
         domain. `Shape`, `Cast` and `ConstantOfShape` are folded at import and must not reach the circuit with \
         non-constant operands; `Gather`, `Reshape`, `Slice`, `Unsqueeze` and `Squeeze` need constant indices, \
         shapes and axes.\n\n",
    );
    for op in SUPPORTED_OPS {
        s.push_str(&format!("- `{op}`\n"));
    }
    s
}
