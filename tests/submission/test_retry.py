"""Capped exponential backoff with full jitter; the wait goes through the injected sleep."""

from __future__ import annotations

import random

import pytest

from etims_pipeline.submission.retry import RetryPolicy


class FixedDraw(random.Random):
    """A Random whose uniform(a, b) returns a chosen point of the interval: 0 = a, 1 = b."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return a + (b - a) * self.fraction


def ceiling(base: float, cap: float, n: int) -> float:
    return min(cap, base * 2.0 ** (n - 1))


@pytest.mark.parametrize(("base", "cap"), [(0.5, 8.0), (1.0, 30.0), (0.1, 0.4), (2.0, 2.0)])
@pytest.mark.parametrize("seed", [0, 1, 42, 2026])
def test_delays_stay_within_the_capped_exponential_ceiling(base: float, cap: float, seed: int) -> None:
    policy = RetryPolicy(base_delay_seconds=base, max_delay_seconds=cap, rng=random.Random(seed))
    for n in range(1, 11):
        for _ in range(20):
            assert 0 <= policy.delay(n) <= ceiling(base, cap, n)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (10, 8.0)],
)
def test_ceiling_doubles_then_caps(n: int, expected: float) -> None:
    draw = FixedDraw(1.0)
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=8.0, rng=draw)
    assert policy.delay(n) == expected
    assert draw.bounds == [(0, expected)]


def test_full_jitter_can_reach_zero() -> None:
    policy = RetryPolicy(rng=FixedDraw(0.0))
    assert [policy.delay(n) for n in range(1, 11)] == [0.0] * 10


def test_seeded_policies_are_reproducible() -> None:
    first = RetryPolicy(rng=random.Random(7))
    second = RetryPolicy(rng=random.Random(7))
    assert [first.delay(n) for n in range(1, 11)] == [second.delay(n) for n in range(1, 11)]


def test_delays_are_jittered_not_constant() -> None:
    policy = RetryPolicy(rng=random.Random(3))
    assert len({policy.delay(5) for _ in range(20)}) > 1


def test_wait_sleeps_for_the_drawn_delay() -> None:
    slept: list[float] = []
    policy = RetryPolicy(sleep=slept.append, rng=random.Random(11))
    twin = RetryPolicy(rng=random.Random(11))
    for n in range(1, 11):
        policy.wait(n)
    assert slept == [twin.delay(n) for n in range(1, 11)]
    assert all(0 <= s <= ceiling(0.5, 8.0, n) for n, s in enumerate(slept, start=1))


def test_wait_passes_the_ceiling_with_a_maximal_draw() -> None:
    slept: list[float] = []
    RetryPolicy(base_delay_seconds=0.25, max_delay_seconds=1.0, sleep=slept.append, rng=FixedDraw(1.0)).wait(4)
    assert slept == [1.0]


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_calls, policy.base_delay_seconds, policy.max_delay_seconds) == (5, 0.5, 8.0)


def test_sleep_and_rng_do_not_affect_equality() -> None:
    assert RetryPolicy(sleep=lambda _s: None, rng=random.Random(1)) == RetryPolicy(rng=random.Random(2))
    assert RetryPolicy(max_calls=3) != RetryPolicy(max_calls=4)
