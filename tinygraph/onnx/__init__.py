"""Export a tinygraph model to ONNX, to run it in ONNX Runtime or open it in Netron.

``tinygraph.onnx.export(model, example_inputs, "model.onnx")`` traces one forward pass and writes
it with the ``onnx`` package, the optional extra ``tinygraph[onnx]`` (``pip install
'tinygraph[onnx]'``, which brings ``onnxruntime`` too). ``import tinygraph`` never needs it.
"""

from __future__ import annotations

try:
    import onnx as _onnx  # noqa: F401  (the package this one writes with)
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "tinygraph.onnx needs the 'onnx' package, which is not installed: "
        "pip install 'tinygraph[onnx]' (onnx and onnxruntime)"
    ) from exc

from tinygraph.onnx._builder import OnnxExportError
from tinygraph.onnx._draw import to_graphviz
from tinygraph.onnx._export import build_model, export, run

__all__ = ["OnnxExportError", "build_model", "export", "run", "to_graphviz"]
