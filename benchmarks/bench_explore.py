"""How long the explorer takes at size: explore, save, file size, and time to interactive in Chromium.

    PYTHONPATH=$PWD python benchmarks/bench_explore.py [--only chain-100k] [--no-browser] [--profile]

Workloads: a chain of ``x = tanh(x)`` from one parameter, 10,000 and 100,000 ops long; an Elman
RNN unrolled over 50 time steps; one LeNet-style training step at batch 32. For each: ``explore``
(``tg.explore(loss)``: record the graph and trace one backward pass), ``save`` (write the HTML),
the file's size, and, when Playwright and Chromium (``/usr/bin/chromium``, or
``$TINYGRAPH_CHROMIUM``) are there, the time from ``page.goto`` until ``window.tinygraphExplorer``
is defined and has drawn its first view (the page's own ``timing``: parse, setup, render, in ms).
Files go to ``output/bench_explore/``. ``--profile`` prints the top of a cProfile of explore + save.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn

OUT = Path("output/bench_explore")
CHROMIUM = os.environ.get("TINYGRAPH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def chain(n: int) -> Callable[[], tg.Node]:
    def build() -> tg.Node:
        x = tg.tensor(0.5, requires_grad=True, name="x")
        y = x
        for _ in range(n):
            y = tg.tanh(y)
        return y

    return build


def rnn(steps: int = 50) -> tg.Node:
    tg.manual_seed(0)
    cell, head = nn.RNN(1, 16, batch_first=True), nn.Linear(16, 3)
    bits = np.random.default_rng(0).integers(0, 2, size=(4, steps, 1)).astype(np.float32)
    _, h_last = cell(tg.tensor(bits, name="bits"))
    return F.cross_entropy(head(h_last[0]), bits.sum(axis=(1, 2)).astype(np.int64) % 3)


def lenet(batch: int = 32) -> tg.Node:
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(12 * 2 * 2, 10),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    images = rng.random((batch, 1, 8, 8), dtype=np.float32)
    return F.cross_entropy(model(tg.tensor(images, name="images")), rng.integers(0, 10, batch))


WORKLOADS: dict[str, Callable[[], tg.Node]] = {
    "chain-10k": chain(10_000),
    "chain-100k": chain(100_000),
    "rnn-50": rnn,
    "lenet-32": lenet,
}


def time_to_interactive(path: Path) -> dict[str, float] | str:
    """Seconds from goto until the API is defined and drawn, and the page's own timing (ms)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright not installed"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="commit", timeout=120_000)
            page.wait_for_function("() => window.tinygraphExplorer && window.tinygraphExplorer.timing",
                                   timeout=120_000, polling=10)  # fmt: skip
            wall = time.perf_counter() - start
            timing = page.evaluate("() => window.tinygraphExplorer.timing")
            visible = page.evaluate("() => window.tinygraphExplorer.visible().length")
        finally:
            browser.close()
    return {"interactive_s": wall, "visible": visible, **{f"{k}_ms": v for k, v in timing.items()}}


def run(name: str, browser: bool, profile: bool) -> None:
    loss = WORKLOADS[name]()
    path = OUT / f"{name}.html"
    prof = cProfile.Profile() if profile else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    explorer = tg.explore(loss, title=name)
    t1 = time.perf_counter()
    explorer.save(path)
    t2 = time.perf_counter()
    if prof:
        prof.disable()
    cpu = time.process_time() - cpu0
    size = path.stat().st_size / 1e6
    print(f"{name:11s} explore {t1 - t0:6.2f} s  save {t2 - t1:6.2f} s  total {t2 - t0:6.2f} s "
          f"(cpu {cpu:6.2f} s)  file {size:7.2f} MB  {explorer!r}", flush=True)  # fmt: skip
    if browser:
        tti = time_to_interactive(path)
        if isinstance(tti, str):
            print(f"{'':11s} browser: {tti}")
        else:
            print(f"{'':11s} interactive {tti['interactive_s']:.2f} s in chromium (page: "
                  + ", ".join(f"{k} {v:.0f}" for k, v in tti.items() if k.endswith("_ms"))
                  + f"; {tti['visible']} boxes shown)", flush=True)  # fmt: skip
    if prof:
        pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(35)


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--only", action="append", choices=list(WORKLOADS), help="run only these")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of explore + save")
    args = parser.parse_args()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(WORKLOADS):
        run(name, not args.no_browser, args.profile)


if __name__ == "__main__":
    main()
