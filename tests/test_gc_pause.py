"""The collector pause of backward is correct when several threads run backward at once."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import autodiff


def _held_backward(monkeypatch: pytest.MonkeyPatch, names: list[str]):
    """Per thread name: (inside, release) events; each backward waits mid-pass until released."""
    events = {n: (threading.Event(), threading.Event()) for n in names}
    real = autodiff.toposort

    def held(*args, **kwargs):
        order = real(*args, **kwargs)
        inside, release = events[threading.current_thread().name]
        inside.set()
        assert release.wait(10), "the test never released this backward pass"
        return order

    monkeypatch.setattr(autodiff, "toposort", held)
    return events


def _run(name: str, results: dict[str, np.ndarray]) -> threading.Thread:
    def work() -> None:
        x = tg.tensor(np.arange(3.0), requires_grad=True)
        ((x * x).sum()).backward()
        results[name] = x.grad

    t = threading.Thread(target=work, name=name)
    t.start()
    return t


@pytest.mark.parametrize("first_out", ["A", "B"])
def test_collector_stays_paused_until_the_last_pass_ends(monkeypatch, first_out):
    assert gc.isenabled()
    events = _held_backward(monkeypatch, ["A", "B"])
    results: dict[str, np.ndarray] = {}
    try:
        ta = _run("A", results)
        assert events["A"][0].wait(10)
        tb = _run("B", results)  # starts while A has the collector paused
        assert events["B"][0].wait(10)
        assert not gc.isenabled()
        threads = {"A": ta, "B": tb}
        last_out = "B" if first_out == "A" else "A"
        events[first_out][1].set()
        threads[first_out].join(10)
        assert not gc.isenabled()  # the other pass is still mid-backward
        events[last_out][1].set()
        threads[last_out].join(10)
        assert gc.isenabled()  # the collector was on before the first pass: on again
    finally:
        for _, release in events.values():
            release.set()
        gc.enable()
    for name in "AB":
        np.testing.assert_array_equal(results[name], 2 * np.arange(3.0))


def test_collector_the_user_disabled_stays_disabled(monkeypatch):
    events = _held_backward(monkeypatch, ["A", "B"])
    results: dict[str, np.ndarray] = {}
    gc.disable()
    try:
        ta = _run("A", results)
        assert events["A"][0].wait(10)
        tb = _run("B", results)
        assert events["B"][0].wait(10)
        events["A"][1].set()
        ta.join(10)
        events["B"][1].set()
        tb.join(10)
        assert not gc.isenabled()
    finally:
        for _, release in events.values():
            release.set()
        gc.enable()
    assert set(results) == {"A", "B"}
