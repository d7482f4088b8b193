"""Renderings drawn by a real browser (headless Chromium): the text graphviz measured stays inside its boxes.

graphviz sizes each box from its own measure of the text; a browser then draws the text with
whatever font the SVG names. When the two disagree, long lines run past the box borders. This
test loads real renderings into Chromium and compares every text's drawn extent with its box.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")

# For every node (and cluster) group: the union of its shapes' boxes, and each text's box.
MEASURE = """
() => {
  const bad = [];
  const box = (el) => { const b = el.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  for (const g of document.querySelectorAll('g.node:not(.legend), g.cluster')) {
    const shapes = [...g.querySelectorAll('polygon, path, ellipse, rect')].map(box);
    if (!shapes.length) continue;
    const outer = [Math.min(...shapes.map(s => s[0])), Math.min(...shapes.map(s => s[1])),
                   Math.max(...shapes.map(s => s[2])), Math.max(...shapes.map(s => s[3]))];
    for (const t of g.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const b = box(t);
      const over = Math.max(outer[0] - b[0], b[2] - outer[2]);
      if (over > 0.5) bad.push([g.querySelector('title').textContent, t.textContent, over]);
    }
  }
  return bad;
}
"""


@pytest.fixture(scope="module")
def page():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page(viewport={"width": 1280, "height": 1000})
        browser.close()


def renderings() -> dict[str, tg.render]:
    sys.path.insert(0, str(ROOT / "demos"))
    sys.path.insert(0, str(ROOT / "demos" / "lecture"))
    import _element_graph
    import render_graphs
    import train_rnn

    pictures = render_graphs.renderings()
    tg.manual_seed(0)
    model = train_rnn.BitCounter(32, 5)
    bits = np.array([[1, 0, 1, 1], [0, 1, 0, 0]], dtype=np.float32)[:, :, None]
    loss = tg.functional.cross_entropy(model(tg.tensor(bits, name="bits")), np.array([3, 1]))
    loss.backward()
    pictures["rnn"] = tg.render(loss, backward=True, legend=True, title="an RNN over 4 steps")
    pictures["rnn_expanded"] = tg.render(loss, backward=True, expand=True)
    image = _element_graph.build()  # the lecture's 4×4 image, laid out by neato on its grid
    grid = tg.render(*image.flat_outputs, title="sparse interactions")
    pictures["grid"] = _element_graph.grid_layout(grid, image, faint=image.flat_weights)
    return pictures


def test_text_stays_inside_its_box_in_chromium(page, tmp_path):
    spills = {}
    for name, picture in renderings().items():
        path = tmp_path / f"{name}.svg"
        path.write_bytes(picture.pipe(format="svg"))
        page.goto(path.as_uri())
        bad = page.evaluate(MEASURE)
        if bad:
            spills[name] = bad[:5]
    assert not spills, f"text drawn past its box (node, text, points over): {spills}"
