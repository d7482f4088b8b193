"""Threads: each thread records and trains its own graphs; the switches are per thread.

Several threads training separate models at once must give, to the last bit, the weights the same
trainings give one after another; ``no_grad`` (and the recording switch ``backward()`` turns off
while it runs) in one thread must not change what another records; no composite scope may leak.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import _scratch, _state, nn, optim

STEPS = 12


def _make_model(seed: int) -> nn.Module:
    tg.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 8 * 8, 5),
    )


def _batch(seed: int) -> tuple[np.ndarray, np.ndarray]:
    # 32 images of 3x16x16: the im2col matrices are over 1 MiB, so the scratch pool is exercised.
    rng = np.random.default_rng(seed)
    return rng.standard_normal((32, 3, 16, 16)).astype(np.float32), rng.integers(0, 5, 32)


def _train(model: nn.Module, seed: int, barrier: threading.Barrier | None = None) -> list[np.ndarray]:
    x, t = _batch(seed)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    if barrier is not None:
        barrier.wait()
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(model(tg.tensor(x)), t)
        loss.backward()
        for p in model.parameters():
            assert p.grad is not None, "a parameter got no gradient"
        opt.step()
    return [p.data.copy() for p in model.parameters()]


def _run_threads(targets: list) -> list:
    results: list = [None] * len(targets)
    errors: list[BaseException] = []

    def runner(i: int, fn) -> None:
        try:
            results[i] = fn()
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(targets)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("n_threads", [2, 4])
def test_concurrent_training_matches_sequential_to_the_last_bit(n_threads):
    seeds = list(range(n_threads))
    sequential = [_train(_make_model(s), s) for s in seeds]
    models = [_make_model(s) for s in seeds]  # built before the threads: the seed RNG is shared
    barrier = threading.Barrier(n_threads)
    concurrent = _run_threads([lambda m=m, s=s: _train(m, s, barrier) for m, s in zip(models, seeds)])
    for seq, con in zip(sequential, concurrent):
        for a, b in zip(seq, con):
            np.testing.assert_array_equal(a, b)
    assert _state.STATE.scope is None and tg.is_grad_enabled()
    _scratch.clear()


def test_no_grad_evaluation_in_one_thread_does_not_stop_another_training():
    model, evaluated = _make_model(0), _make_model(1)
    x, _ = _batch(5)
    expected = _train(_make_model(0), 0)
    stop = threading.Event()
    recorded_under_no_grad: list[bool] = []

    def evaluate() -> None:
        with tg.no_grad():
            while not stop.is_set():
                out = evaluated(tg.tensor(x))
                recorded_under_no_grad.append(out.requires_grad or bool(out.parents))

    def train() -> list[np.ndarray]:
        try:
            return _train(model, 0)
        finally:
            stop.set()

    _, weights = _run_threads([evaluate, train])
    assert recorded_under_no_grad and not any(recorded_under_no_grad)
    for a, b in zip(expected, weights):
        np.testing.assert_array_equal(a, b)


def test_switches_are_per_thread_and_a_new_thread_starts_from_the_defaults():
    seen = {}

    def probe() -> None:
        seen["grad"] = tg.is_grad_enabled()
        seen["scope"] = _state.STATE.scope
        seen["anomaly"] = _state.STATE.anomaly
        seen["decompose"] = _state.STATE.decompose

    with tg.no_grad(), tg.detect_anomaly(), tg.decompose(), _state.scope("outer"):
        th = threading.Thread(target=probe)
        th.start()
        th.join()
        assert not tg.is_grad_enabled()
    assert seen == {"grad": True, "scope": None, "anomaly": False, "decompose": False}


def test_composite_scopes_of_other_threads_never_reach_the_main_thread():
    _run_threads([lambda s=s: _train(_make_model(s), s) for s in range(2)])
    y = tg.tensor(np.ones(3, np.float32), requires_grad=True) * 2
    assert y.scope is None and y.scope_path == ""


def test_the_scratch_pool_never_hands_one_idle_array_to_two_threads():
    _scratch.clear()
    shape, handed = (512, 1024), []
    barrier = threading.Barrier(4)

    def grab() -> None:
        barrier.wait()
        for _ in range(200):
            a = _scratch.empty(shape, np.float32)
            a.fill(threading.get_ident() % 1000)
            handed.append(a.__array_interface__["data"][0])
            assert (a == threading.get_ident() % 1000).all(), "another thread wrote into my array"
            del a

    _run_threads([grab] * 4)
    assert handed
    _scratch.clear()


def test_one_no_grad_object_shared_by_threads_and_entered_twice_restores_each_threads_mode():
    shared = tg.no_grad()  # one context manager object, used by several threads and nested
    barrier = threading.Barrier(4)
    seen: list[tuple[bool, bool, bool]] = []

    def worker() -> None:
        barrier.wait()
        for _ in range(200):
            with shared:
                with shared:
                    inner = tg.is_grad_enabled()
                middle = tg.is_grad_enabled()
            seen.append((inner, middle, tg.is_grad_enabled()))

    _run_threads([worker] * 4)
    assert set(seen) == {(False, False, True)}
    assert tg.is_grad_enabled()


def test_no_grad_works_as_a_decorator_as_in_pytorch():
    x = tg.tensor(np.ones(3), requires_grad=True)

    @tg.no_grad()
    def evaluate(v: tg.Node) -> tg.Node:
        return v * 2

    assert not evaluate(x).requires_grad
    assert (x * 2).requires_grad


def test_backward_restores_the_callers_recording_mode_even_when_a_rule_fails():
    x = tg.tensor(np.ones(3), requires_grad=True)
    y = (x * 2).sum()
    with tg.no_grad():
        y.backward()  # the pass runs with recording off either way; the caller's mode comes back
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    np.testing.assert_array_equal(x.grad, [2, 2, 2])
    zero = tg.tensor(np.zeros(2), requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.errors.AnomalyError, match="sqrt"):
        tg.sqrt(zero).sum().backward()  # ∂√x/∂x = inf at 0: the pass stops in the middle
    assert tg.is_grad_enabled()
