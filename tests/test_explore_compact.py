"""The compact form of the explorer's JSON reads back as exactly what the engine computed.

A 0-d float array of its node's dtype travels as a bare number (float32 in its shortest
round-tripping form); the page and :func:`tinygraph.explore.arrays.expand` turn it back into the
object form. These tests check that nothing is lost on the way: folded members' values, every
step's gradient, and the leaves' final gradients equal the engine's (float32 rounding at most).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.autodiff import trace_backward
from tinygraph.explore.arrays import encode, expand, shortest32
from tinygraph.explore.page import json_for_script

jsonschema = pytest.importorskip("jsonschema")
from tinygraph.explore.schema import SCHEMA  # noqa: E402


def chain(n: int, dtype=np.float32):
    x = tg.tensor(0.7, dtype=dtype, requires_grad=True, name="x")
    ys, y = [], x
    for _ in range(n):
        y = tg.tanh(y * 1.01)
        ys.append(y)
    return x, ys


def round_trip(explorer: tg.Explorer) -> dict:
    """The payload as the page reads it: through the JSON text the file embeds."""
    return json.loads(json_for_script(explorer.data))


def number(enc, dtype: str) -> np.ndarray:
    full = expand(enc, dtype)
    return np.array([float(v) for v in full["values"]], dtype=dtype).reshape(full["shape"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_folded_members_hold_the_engines_values_exactly(dtype):
    _, ys = chain(300, dtype)
    explorer = tg.explore(ys[-1], budget=20)
    data = round_trip(explorer)
    jsonschema.validate(data, SCHEMA)
    nodes = {n["id"]: n for n in data["nodes"]}
    folds = {n["id"] for n in data["nodes"] if n["kind"] == "repeat"}
    tanhs = [n for n in data["nodes"] if n["op"] == "tanh"]
    assert len(tanhs) == len(ys) and all(n["parent"] in folds for n in tanhs)
    assert all(not isinstance(n["value"], dict) for n in tanhs)  # the compact form is used
    # Items come in topological order: the k-th tanh is ys[k].
    for n, y in zip(tanhs, ys, strict=True):
        got = number(n["value"], n["dtype"])
        assert got.dtype == y.data.dtype and got == y.data, (n["id"], got, y.data)
    assert number(nodes[data["roots"][0]]["value"], np.dtype(dtype).name) == ys[-1].data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_steps_carry_the_engines_gradients_and_end_at_backward(dtype):
    x, ys = chain(200, dtype)
    explorer = tg.explore(ys[-1])
    data = round_trip(explorer)
    nodes = {n["id"]: n for n in data["nodes"]}
    trace = trace_backward([ys[-1]], [None])["nodes"]
    engine = list(trace.values())  # the engine's order
    assert len(data["steps"]) == len(engine)
    for step, g in zip(data["steps"], engine, strict=True):
        got = number(step["grad"], nodes[step["id"]]["dtype"])
        assert got == np.asarray(g), (step["id"], got, g)
        for c in step["contributions"]:
            number(c["grad"], nodes[c["to"]]["dtype"])  # each reads back
    ys[-1].backward()
    xid = next(n["id"] for n in data["nodes"] if n["name"] == "x")
    assert data["steps"][-1]["id"] == xid
    assert number(data["steps"][-1]["grad"], nodes[xid]["dtype"]) == x.grad


def test_a_scalar_of_another_dtype_keeps_the_object_form():
    enc = encode(np.float64(0.25), "float32")
    assert enc == {"shape": [], "dtype": "float64", "text": "0.25", "values": [0.25]}
    assert encode(np.float32(0.1), "float32") == 0.1
    assert encode(np.float32(np.nan), "float32") == "nan"
    assert expand("-inf", "float32")["values"] == ["-inf"]
    assert expand(np.float32(1e-5).item(), "float32")["text"] == "1e-05"


@settings(max_examples=300, deadline=None)
@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_shortest32_reads_back_as_the_same_float32_in_no_more_digits_than_numpy(v):
    f = np.float32(v)
    s = shortest32(float(f))
    assert np.float32(s) == f
    assert len(repr(s)) <= len(repr(float(str(f))))  # numpy prints the shortest
