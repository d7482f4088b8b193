"""Memory of a long scalar chain, forward + backward: peak resident set size, side by side.

    python benchmarks/bench_memory.py [--ops 1000000] [--only tinygraph torch]

The chain is bench_core's (alternating ``y * 1.0001`` and ``y + 0.0001``, a tanh every 10th op)
on a float32 scalar, then ``backward()``. Each library runs in a fresh process of its own; the
figures are that process's peak RSS (``ru_maxrss``) after importing the library, after the
forward, and after the backward, and the bytes per op the forward and backward added.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LIBRARIES = ("tinygraph", "torch")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(library: str, ops: int) -> dict[str, float]:
    """Run the chain in this process; its peak RSS after import, forward and backward (MB)."""
    sys.path.insert(0, str(HERE))
    from bench_core import _chain

    if library == "tinygraph":
        sys.path.insert(0, str(HERE.parent))
        import tinygraph as tg

        base = _peak_mb()
        y = _chain(tg.tensor(np.float32(0.5), requires_grad=True), ops, tg.tanh)
    else:
        import torch

        torch.set_num_threads(1)
        base = _peak_mb()
        y = _chain(torch.tensor(0.5, requires_grad=True), ops, torch.tanh)
    forward = _peak_mb()
    y.backward()
    return {"import": base, "forward": forward, "backward": _peak_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000, help="ops in the chain (default 1,000,000)")
    parser.add_argument("--only", nargs="+", choices=LIBRARIES, help="libraries to run")
    parser.add_argument("--worker", choices=LIBRARIES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.ops)))
        return
    print(f"{args.ops:,}-op scalar chain, forward+backward: peak RSS (MB)")
    print(f"{'library':<10} {'import':>8} {'forward':>8} {'backward':>9} {'B/op fwd':>9} {'B/op bwd':>9}")
    for library in args.only or LIBRARIES:
        cmd = [sys.executable, __file__, "--worker", library, "--ops", str(args.ops)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{library:<10} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout)
        per_fwd = (r["forward"] - r["import"]) * 2**20 / args.ops
        per_bwd = (r["backward"] - r["forward"]) * 2**20 / args.ops
        print(
            f"{library:<10} {r['import']:>8.0f} {r['forward']:>8.0f} {r['backward']:>9.0f} "
            f"{per_fwd:>9.0f} {per_bwd:>9.0f}"
        )


if __name__ == "__main__":
    main()
