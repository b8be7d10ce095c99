//! The supported-op list as Markdown, kept in `docs/supported-ops.md` and checked by a test.

use crate::supported_ops;

/// Renders the list of supported ONNX ops.
pub fn supported_ops_markdown() -> String {
    let mut s = String::from(
        "# Supported ONNX ops\n\nGenerated from the op registry (`poai_onnx::supported_ops`); a test fails when this file is stale \
         (regenerate with `POAI_REGENERATE=1 cargo test -p poai-onnx supported_ops`). Opsets 11 to 18, default \
         domain. Each op registers itself in its family's module under `onnx/src/import/`; \
         `docs/adding-an-op.md` shows the steps.\n\n",
    );
    for (op, note) in supported_ops() {
        match note {
            "" => s.push_str(&format!("- `{op}`\n")),
            note => s.push_str(&format!("- `{op}`: {note}\n")),
        }
    }
    s
}
