"""The explorer page driven in a real headless Chromium (Debian's, through Playwright), offline.

Every request any page or frame makes is counted (site isolation off, so that requests from a
sandboxed ``<iframe srcdoc>`` reach the listener too) and none may be made; no console error may
be logged. The page is driven through its documented API, ``window.tinygraphExplorer``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_explore import PWNED, fan_out, rnn, small_cnn, three_blocks

import tinygraph as tg

CHROMIUM = os.environ.get("TINYGRAPH_CHROMIUM", "/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip)")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(
        f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True
    )

# Site isolation off (sandboxed srcdoc iframes too), so that a listener on the context sees every
# request, including those of an explorer inside an iframe.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-features=IsolateOrigins,site-per-process,IsolateSandboxedIframes",
]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Session:
    """One browser context whose every request and console error is recorded."""

    def __init__(self, browser, document: str | None = None) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 800})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.document = document

        def count(route):
            if route.request.url == self.document:
                route.continue_()
                return
            self.requests.append(route.request.url)
            route.abort()

        self.context.route("**/*", count)
        self.context.on("request", lambda r: None if r.url == self.document else self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self) -> None:
        self.context.close()


def open_explorer(browser, tmp_path: Path, explorer: tg.Explorer) -> Session:
    path = explorer.save(tmp_path / "page.html")
    session = Session(browser, path.as_uri())
    session.page.goto(path.as_uri())
    session.page.wait_for_function("window.tinygraphExplorer !== undefined")
    return session


def api(session: Session, expr: str, *args):
    return session.page.evaluate(f"(a) => window.tinygraphExplorer.{expr}", list(args))


def test_the_request_counter_sees_a_fetch_from_an_srcdoc_iframe(browser):
    session = Session(browser)
    inner = "<script>fetch('http://tinygraph.invalid/x').catch(() => 0)</script>"
    session.page.set_content(f'<iframe sandbox="allow-scripts" srcdoc="{inner}"></iframe>')
    for _ in range(50):  # wait up to 5 s for the iframe's request
        if session.requests:
            break
        session.page.wait_for_timeout(100)
    assert any("tinygraph.invalid/x" in u for u in session.requests), session.errors
    session.close()


@pytest.mark.parametrize("build", [three_blocks, small_cnn, rnn])
def test_no_request_and_no_console_error_while_used(browser, tmp_path, build):
    session = open_explorer(browser, tmp_path, tg.explore(build()[0]))
    boxes = session.page.evaluate(
        "window.tinygraphExplorer.data.nodes"
        ".filter(n => n.kind === 'module' || n.kind === 'composite' || n.kind === 'repeat')"
        ".map(n => n.id)"
    )
    for box in boxes:
        api(session, "open(a[0])", box)
    api(session, "mode('grads')")
    api(session, "reset()")
    while api(session, "step()") is not None:
        pass
    session.page.click("#tg-prev")
    session.page.click("#tg-mode")
    session.page.click("#tg-fit")  # the whole graph in view, so a box is there to click
    session.page.click("svg .tg-box")
    assert session.requests == [] and session.errors == []
    session.close()


def expected_visible(data: dict, opened: set[str]) -> list[str]:
    """What visible() must return, from the embedded graph: boxes inside opened boxes are shown."""
    nodes = {n["id"]: n for n in data["nodes"]}
    shown = []
    for n in data["nodes"]:
        chain, p = [], n["parent"]
        while p is not None:
            chain.append(p)
            p = nodes[p]["parent"]
        if all(c in opened for c in chain) and n["id"] not in opened:
            shown.append(n["id"])
    return shown


def with_enclosing(data: dict, box: str) -> set[str]:
    """``box`` and every box around it (opening a box opens those too)."""
    nodes = {n["id"]: n for n in data["nodes"]}
    out = set()
    while box is not None:
        out.add(box)
        box = nodes[box]["parent"]
    return out


def test_open_and_close_change_visible_as_the_graph_says(browser, tmp_path):
    explorer = tg.explore(small_cnn()[0])
    data = explorer.data
    session = open_explorer(browser, tmp_path, explorer)
    assert api(session, "visible()") == expected_visible(data, set())
    conv = next(n["id"] for n in data["nodes"] if n["op"] == "conv2d")  # inside Sequential > conv: Conv2d
    around = with_enclosing(data, conv)
    assert len(around) == 3
    ce = next(n["id"] for n in data["nodes"] if n["op"] == "cross_entropy")
    nested = next(n["id"] for n in data["nodes"] if n["parent"] == ce and n["kind"] == "composite")
    assert api(session, "open(a[0])", conv) == expected_visible(data, around)
    assert conv not in api(session, "visible()")
    assert api(session, "open(a[0])", nested) == expected_visible(data, around | {ce, nested})
    assert api(session, "close(a[0])", ce) == expected_visible(data, around | {nested})
    assert api(session, "close(a[0])", conv) == expected_visible(data, around - {conv} | {nested})
    # the page draws exactly what visible() names
    drawn = session.page.eval_on_selector_all("svg .tg-box", "els => els.map(e => e.dataset.id)")
    assert sorted(drawn) == sorted(api(session, "visible()"))
    assert session.errors == [] and session.requests == []
    session.close()


def test_a_module_box_opens_into_its_layers_and_their_composites(browser, tmp_path):
    explorer = tg.explore(small_cnn()[0])
    data = explorer.data
    nodes = {n["id"]: n for n in data["nodes"]}
    session = open_explorer(browser, tmp_path, explorer)
    model = next(n["id"] for n in data["nodes"] if n["kind"] == "module" and n["parent"] is None)
    assert nodes[model]["name"] == "Sequential" and model in api(session, "visible()")
    shown = api(session, "open(a[0])", model)
    assert shown == expected_visible(data, {model}) and model not in shown
    layers = [nodes[i]["name"] for i in shown if nodes[i]["parent"] == model]
    assert layers == ["conv: Conv2d", "relu: ReLU", "pool: MaxPool2d", "flatten: Flatten", "fc: Linear"]
    conv = next(i for i in shown if nodes[i]["name"] == "conv: Conv2d")
    shown = api(session, "open(a[0])", conv)
    assert shown == expected_visible(data, {model, conv})
    assert [nodes[i]["op"] for i in shown if nodes[i]["parent"] == conv] == ["conv2d"]
    ids = "els => els.map(e => e.dataset.id)"
    boxes = session.page.eval_on_selector_all("svg .tg-box.tg-module", ids)
    frames = session.page.eval_on_selector_all("svg .tg-cluster.tg-module", ids)
    assert sorted(frames) == sorted([model, conv])  # opened: drawn as frames around what they hold
    assert sorted(boxes) == sorted(i for i in shown if nodes[i]["kind"] == "module")
    assert api(session, "close(a[0])", model) == expected_visible(data, {conv})
    assert session.errors == [] and session.requests == []
    session.close()


def test_stepping_to_the_end_gives_the_engines_gradients(browser, tmp_path):
    loss, model = small_cnn()
    explorer = tg.explore(loss)
    session = open_explorer(browser, tmp_path, explorer)
    assert api(session, "reset()") is None
    taken = []
    while (s := api(session, "step()")) is not None:
        taken.append(s)
    assert [s["id"] for s in taken] == [s["id"] for s in explorer.data["steps"]]
    loss.backward()
    names = {n["id"]: n["name"] for n in explorer.data["nodes"]}
    final = {names[s["id"]]: s["grad"] for s in taken}
    for name, p in model.named_parameters():
        got = final[name]
        if isinstance(got, list):
            got = np.array(got, dtype=np.float32).reshape(p.shape)
            np.testing.assert_allclose(got, p.grad, rtol=1e-5, atol=1e-7)
        else:
            assert got["shape"] == list(p.shape)
            assert got["mean"] == pytest.approx(float(p.grad.astype(np.float64).mean()), rel=1e-4, abs=1e-8)
            assert got["max"] == pytest.approx(float(p.grad.max()), rel=1e-5)
    assert api(session, "step()") is None
    session.close()


def paths_edges(data: dict, start: str) -> set[str]:
    """Edges on some path from ``start`` to a root along which gradient flows, from the JSON alone."""
    grad_edges = [e for e in data["edges"] if e["grad"]]
    reach = {start}
    for e in sorted(grad_edges, key=lambda e: int(e["src"][1:])):  # items are topologically ordered
        if e["src"] in reach:
            reach.add(e["dst"])
    back = set(data["roots"])
    for e in sorted(grad_edges, key=lambda e: -int(e["dst"][1:])):
        if e["dst"] in back:
            back.add(e["src"])
    return {e["id"] for e in grad_edges if e["src"] in reach and e["dst"] in back}


def test_highlight_returns_exactly_the_edges_on_the_paths(browser, tmp_path):
    o3, w1, _ = three_blocks()
    explorer = tg.explore(o3)
    data = explorer.data
    session = open_explorer(browser, tmp_path, explorer)
    wid = next(n["id"] for n in data["nodes"] if n["name"] == "w1")
    got = api(session, "highlight(a[0])", wid)
    assert set(got) == paths_edges(data, wid) and len(got) == 3
    assert session.page.locator("svg path.tg-hl").count() == 3
    text = session.page.inner_text("#tg-panel")
    assert "∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1" in text
    o3.backward()
    assert f"w1.grad = {w1.grad.item():.4g}" in text
    session.close()
    loss, _ = small_cnn()
    explorer = tg.explore(loss)
    session = open_explorer(browser, tmp_path, explorer)
    wid = next(n["id"] for n in explorer.data["nodes"] if n["name"] == "conv.weight")
    assert set(api(session, "highlight(a[0])", wid)) == paths_edges(explorer.data, wid)
    session.close()


def test_a_script_in_a_name_stays_text(browser, tmp_path):
    loss, _ = fan_out()
    explorer = tg.explore(loss, title=PWNED)
    session = open_explorer(browser, tmp_path, explorer)
    wid = next(n["id"] for n in explorer.data["nodes"] if n["name"] == PWNED)
    api(session, "select(a[0])", wid)
    api(session, "highlight(a[0])", wid)
    assert session.page.evaluate("window.pwned") is None
    assert PWNED in session.page.inner_text("#tg-panel")
    assert session.page.inner_text("#tg-title") == PWNED
    assert session.page.evaluate("document.querySelectorAll('script').length") == 2
    assert session.errors == [] and session.requests == []
    session.close()


def test_search_opens_and_centres_a_node(browser, tmp_path):
    explorer = tg.explore(small_cnn()[0])
    session = open_explorer(browser, tmp_path, explorer)
    found = api(session, "search(a[0])", "sliding_window")
    assert found in api(session, "visible()")
    assert explorer.data["nodes"][int(found[1:])]["op"] == "sliding_window"
    session.page.fill("#tg-search", "conv.weight")
    session.page.press("#tg-search", "Enter")
    assert "conv.weight" in session.page.inner_text("#tg-panel")
    session.close()


def test_two_notebook_explorers_each_have_their_own_api(browser):
    first = tg.explore(three_blocks()[0])
    second = tg.explore(small_cnn()[0])
    session = Session(browser)
    session.page.set_content(first._repr_html_() + second._repr_html_())
    frames = [f for f in session.page.frames if f != session.page.main_frame]
    assert len(frames) == 2
    for frame, explorer in zip(frames, (first, second)):
        frame.wait_for_function("window.tinygraphExplorer !== undefined")
        assert frame.evaluate("window.tinygraphExplorer.visible()") == expected_visible(explorer.data, set())
        assert frame.evaluate("window.tinygraphExplorer.step()")["id"] == explorer.data["steps"][0]["id"]
    assert session.page.evaluate("window.tinygraphExplorer") is None
    assert session.requests == [] and session.errors == []
    session.close()


def test_a_folded_float32_chain_steps_to_the_engines_gradient(browser, tmp_path):
    """Scalars travel as bare numbers; the page expands them and step() still gives {id, grad}."""
    x = tg.tensor(0.7, requires_grad=True, name="x")
    ys, y = [], x
    for _ in range(150):
        y = tg.tanh(y * 1.01)
        ys.append(y)
    explorer = tg.explore(y, budget=10)
    session = open_explorer(browser, tmp_path, explorer)
    api(session, "reset()")
    taken = []
    while (s := api(session, "step()")) is not None:
        taken.append(s)
    assert [s["id"] for s in taken] == [s["id"] for s in explorer.data["steps"]]
    y.backward()
    assert len(taken[-1]["grad"]) == 1 and np.float32(taken[-1]["grad"][0]) == x.grad
    tanhs = [n for n in explorer.data["nodes"] if n["op"] == "tanh"]
    texts = session.page.evaluate(
        "(ids) => ids.map(id => window.tinygraphExplorer.data.nodes.find(n => n.id === id).value.text)",
        [n["id"] for n in tanhs[:20]],
    )
    assert texts == [f"{float(v.data):.4g}" for v in ys[:20]]
    assert not session.errors and not session.requests
    session.close()


def test_a_wide_graph_opens_readable_and_fit_shows_all_of_it(browser, tmp_path):
    # 14 parameters side by side: fitting all of them into the page would shrink the text below
    # 6 px, so the page opens at a readable scale and "Fit" is the way to the whole picture.
    params = [tg.tensor(np.full(3, float(i)), requires_grad=True, name=f"weight_{i}") for i in range(14)]
    loss = params[0] * 1.0
    for p in params[1:]:
        loss = loss + p
    session = open_explorer(browser, tmp_path, tg.explore(loss.sum()))
    heights = (
        "Array.from(document.querySelectorAll('svg .tg-box text')).map(t => t.getBoundingClientRect().height)"
    )
    assert min(session.page.evaluate(heights)) >= 9, "the first view's box text should be readable"
    session.page.click("#tg-fit")
    inside = session.page.evaluate(
        "(() => { const s = document.querySelector('svg').getBoundingClientRect();"
        " return Array.from(document.querySelectorAll('svg .tg-box')).every(b => {"
        " const r = b.getBoundingClientRect();"
        " return r.left >= s.left - 1 && r.right <= s.right + 1"
        " && r.top >= s.top - 1 && r.bottom <= s.bottom + 1; }); })()"
    )
    assert inside, "after Fit every box should be in view"
    assert min(session.page.evaluate(heights)) < 9  # (so the first check above could fail)
    assert session.errors == [] and session.requests == []
    session.close()
