"""Modular backpropagation: every block knows its derivative w.r.t. its input and its parameters.

    python demos/lecture/08_modular_backprop.py [--out FOLDER]

The lecture's blocks, o = f(x; w):
- a fully connected block o = X W (N examples, D inputs, K outputs): ∂o/∂X = W and ∂o/∂W = X;
- a ReLU block on an N×K input: ∂o/∂x is the 0/1 mask (x > 0); no parameters.
Each local derivative is printed as a full Jacobian and checked against the engine (``tg.grad``).
Then three blocks are chained, FC → ReLU → FC, and ∂o3/∂w1 is computed as the product of the
blocks' local derivatives,

    ∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1

(chain the derivatives w.r.t. input, then multiply with the derivative w.r.t. parameters), which
must equal what ``backward()`` leaves in ``w1.grad``. The chained graph is rendered with the path
from w1 to o3 highlighted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lecture import fmt, parse_out, save_graph

import tinygraph as tg


def jacobian(output: tg.Node, wrt: tg.Node) -> np.ndarray:
    """The full Jacobian ∂output/∂wrt from the engine, shape ``output.shape + wrt.shape``.

    One ``tg.grad`` call per output element, seeded with a one-hot gradient.
    """
    rows = []
    for index in np.ndindex(*output.shape):
        seed = np.zeros(output.shape)
        seed[index] = 1.0
        (g,) = tg.grad(output, wrt, grad_outputs=seed)
        rows.append(g.data)
    return np.array(rows).reshape(output.shape + wrt.shape)


def fully_connected_block() -> dict[str, np.ndarray]:
    """o = X W: the engine's Jacobians against the lecture's ∂o/∂X = W and ∂o/∂W = X.

    Element by element: ∂o[n,k]/∂X[n',d] = δ(n,n')·W[d,k] and ∂o[n,k]/∂W[d,k'] = δ(k,k')·X[n,d].
    """
    X = tg.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=np.float64, requires_grad=True, name="X")
    W = tg.tensor([[0.2, -0.5], [1.0, 0.3], [-0.4, 0.8]], dtype=np.float64, requires_grad=True, name="W")
    o = X @ W
    n_examples, _ = X.shape
    k_out = W.shape[1]
    dX = jacobian(o, X)
    dW = jacobian(o, W)
    expected_dX = np.einsum("nm,dk->nkmd", np.eye(n_examples), W.data)
    expected_dW = np.einsum("kj,nd->nkdj", np.eye(k_out), X.data)

    print("Block 1: fully connected, o = X W   (N=2 examples, D=3 inputs, K=2 outputs)")
    print(f"  X =\n{fmt(X.data)}\n  W =\n{fmt(W.data)}\n  o = X W =\n{fmt(o.data)}")
    print("  derivative w.r.t. input: ∂o[n,k]/∂X[n,:] is column k of W (and 0 for other examples)")
    for n, k in np.ndindex(n_examples, k_out):
        print(f"    ∂o[{n},{k}]/∂X[{n},:] = {dX[n, k, n]}   W[:,{k}] = {W.data[:, k]}")
    print("  derivative w.r.t. parameters: ∂o[n,k]/∂W[:,k] is row n of X (and 0 for other columns)")
    for n, k in np.ndindex(n_examples, k_out):
        print(f"    ∂o[{n},{k}]/∂W[:,{k}] = {dW[n, k, :, k]}   X[{n},:] = {X.data[n]}")
    ok = np.allclose(dX, expected_dX) and np.allclose(dW, expected_dW)
    print(f"  engine Jacobians equal W and X: {ok}\n")
    return {"X": X.data, "W": W.data, "dX": dX, "dW": dW, "ok": ok}


def relu_block() -> dict[str, np.ndarray]:
    """o = relu(x) on an N×K input; the Jacobian is diagonal, holding the 0/1 mask x > 0."""
    x = tg.tensor([[1.5, -0.5], [-2.0, 0.7]], dtype=np.float64, requires_grad=True, name="x")
    o = tg.relu(x)
    dx = jacobian(o, x)
    mask = (x.data > 0).astype(np.float64)
    diagonal = np.array([dx[i + i] for i in np.ndindex(*x.shape)]).reshape(x.shape)
    off_diagonal = dx.reshape(x.size, x.size)[~np.eye(x.size, dtype=bool)]
    print("Block 2: ReLU, o = max(x, 0)   (N=2 examples, K=2 units)")
    print(f"  x =\n{fmt(x.data)}\n  o =\n{fmt(o.data)}")
    print(f"  ∂o[i,j]/∂x[i,j] from the engine =\n{fmt(diagonal)}\n  the mask (x > 0) =\n{fmt(mask)}")
    print(f"  ∂o[i,j]/∂x[k,l] for (k,l) ≠ (i,j): all zero: {not off_diagonal.any()}")
    print("  derivative w.r.t. parameters: none (nothing to learn)\n")
    ok = np.array_equal(diagonal, mask) and not off_diagonal.any()
    return {"x": x.data, "diagonal": diagonal, "mask": mask, "ok": ok}


def chained_blocks(out: Path) -> dict[str, Any]:
    """FC(w1) → ReLU → FC(w3): ∂o3/∂w1 as a product of local Jacobians, against ``w1.grad``."""
    x = tg.tensor([[1.0, -2.0, 0.5]], dtype=np.float64, name="x")
    w1 = tg.tensor(
        [[0.5, -1.0, 0.3, 0.8], [0.2, 0.4, -0.6, 0.1], [-1.0, 0.5, 0.9, -0.3]],
        dtype=np.float64,
        requires_grad=True,
        name="w1",
    )
    w3 = tg.tensor([[1.0], [-2.0], [0.5], [1.5]], dtype=np.float64, requires_grad=True, name="w3")
    o1 = x @ w1
    o1.name = "o1"
    o2 = tg.relu(o1)
    o2.name = "o2"
    o3 = o2 @ w3
    o3.name = "o3"
    o3.backward()

    k = w1.shape[1]
    # Each block's local derivative, as the lecture writes them, flattened to matrices.
    do3_do2 = w3.data.T  # (1, K): FC block, derivative w.r.t. its input is its weight
    do2_do1 = np.diag((o1.data[0] > 0).astype(np.float64))  # (K, K): ReLU block, the 0/1 mask
    do1_dw1 = np.kron(x.data[0][:, None], np.eye(k)).T  # (K, D·K): FC block w.r.t. parameters: x
    product = (do3_do2 @ do2_do1 @ do1_dw1).reshape(w1.shape)
    # The same local derivatives taken from the engine, block by block.
    engine_locals = {
        "do3/do2": jacobian(o3, o2).reshape(do3_do2.shape),
        "do2/do1": jacobian(o2, o1).reshape(do2_do1.shape),
        "do1/dw1": jacobian(o1, w1).reshape(do1_dw1.shape),
    }
    locals_ok = all(
        np.allclose(engine_locals[key], mine) for key, mine in zip(engine_locals, (do3_do2, do2_do1, do1_dw1))
    )

    print("Three blocks chained: o1 = x w1 (FC), o2 = relu(o1) (ReLU), o3 = o2 w3 (FC)")
    print(f"  o1 = {o1.data[0]}\n  o2 = {o2.data[0]}\n  o3 = {o3.item():.4f}")
    print("  ∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1")
    print(f"    ∂o3/∂o2 = w3ᵀ                 = {do3_do2[0]}")
    print(f"    ∂o2/∂o1 = diag(o1 > 0)        = diag({np.diag(do2_do1)})")
    print("    ∂o1/∂w1 = x in every column's block (the derivative w.r.t. parameters)")
    print(f"  local derivatives equal the engine's, block by block: {locals_ok}")
    print(f"  product of local derivatives =\n{fmt(product)}")
    print(f"  w1.grad from o3.backward()   =\n{fmt(w1.grad)}")
    chain_ok = np.allclose(product, w1.grad)
    print(f"  equal: {chain_ok}")
    pictures = [
        save_graph(out / "three_blocks", o3),
        save_graph(out / "three_blocks_highlight_w1", o3, backward=True, highlight=w1),
    ]
    return {
        "x": x.data,
        "w1": w1.data,
        "w3": w3.data,
        "product": product,
        "w1_grad": w1.grad,
        "locals_ok": locals_ok,
        "ok": chain_ok and locals_ok,
        "pictures": pictures,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    out = parse_out(argv, __file__, __doc__.splitlines()[0])
    return {"fc": fully_connected_block(), "relu": relu_block(), "chain": chained_blocks(out)}


if __name__ == "__main__":
    main()
