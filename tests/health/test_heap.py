"""The warm heap is frozen out of the collector's walks, so a full collection stays short."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from etims_pipeline.health.heap import freeze_warm_heap


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_a_full_collection_walks_only_objects_made_after_the_freeze() -> None:
    warm = [[index] for index in range(10_000)]  # lists are tracked by the collector
    assert len(gc.get_objects()) > len(warm)

    frozen = freeze_warm_heap()

    assert frozen > len(warm)  # every object alive, the warm ones included, is frozen
    assert len(gc.get_objects()) < 100  # what a full collection still walks
    churn = [[index] for index in range(500)]
    assert len(gc.get_objects()) >= len(churn)  # new objects are collected as usual
    assert warm and gc.get_freeze_count() == frozen
