"""Every way a Node comes about — a leaf, a constant, an op's output, a view-model copy — sets every slot."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.node import Node, fill
from tinygraph.registry import constant
from tinygraph.view.model import _with_parents

SLOTS = [s for s in Node.__slots__ if s != "__weakref__"]


def _unset(node: Node) -> list[str]:
    missing = []
    for slot in SLOTS:
        try:
            getattr(node, slot)
        except AttributeError:
            missing.append(slot)
    return missing


def _made() -> dict[str, Node]:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True, name="x")
    y = x * 2.0
    with tg.no_grad():
        z = x + 1.0
    loss = F.cross_entropy(x, np.array([0, 2]))
    return {
        "leaf": x,
        "Node()": Node(np.zeros(3)),
        "constant": constant(2.0),
        "array constant": constant(np.ones(2)),
        "op output": y,
        "op output under no_grad": z,
        "fused op output (saved)": loss,
        "detached": y.detach(),
        "view-model copy": _with_parents(y, (x, constant(3.0))),
    }


@pytest.mark.parametrize("kind", list(_made()))
def test_every_slot_is_set(kind):
    node = _made()[kind]
    assert _unset(node) == []
    assert node._grad is None and node._grad_in is None


def test_fill_sets_every_slot_of_a_bare_node():
    node = Node.__new__(Node)
    assert set(_unset(node)) == set(SLOTS)
    fill(node, np.ones(2), False, None, (), None, None, None, None, False)
    assert _unset(node) == []


def test_op_outputs_record_what_made_them():
    x = tg.tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    assert y.opdef is tg.REGISTRY["mul"] and y.parents[0] is x and y.parents[1].is_constant
    assert y.requires_grad and y.saved is None and y.attrs is None
    with tg.no_grad():
        z = x * 2.0
    assert z.opdef is None and z.parents == () and not z.requires_grad
