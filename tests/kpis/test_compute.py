"""Every KPI on the hand-computed scenario, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from etims_pipeline.kpis.compute import compute_kpis, read_range_facts
from tests.kpis.scenario import EXPECTED, FIRST_DAY, LAST_DAY, build_scenario

FLOAT_KPIS = (
    "latency_p50_seconds",
    "latency_p95_seconds",
    "issue_to_acceptance_p50_seconds",
    "issue_to_acceptance_p95_seconds",
)


def test_every_kpi_matches_the_hand_computed_scenario(engine: Engine) -> None:
    build_scenario(engine)

    rows = compute_kpis(read_range_facts(engine, FIRST_DAY, LAST_DAY))

    got = {(row["org_id"], row["kpi_date"]): row for org_rows in rows.values() for row in org_rows}
    assert set(got) == set(EXPECTED)
    for key, expected in EXPECTED.items():
        actual = dict(got[key])
        for name in FLOAT_KPIS:
            assert actual.pop(name) == (pytest.approx(expected[name]) if expected[name] is not None else None), (
                key,
                name,
            )
        assert actual == {k: v for k, v in expected.items() if k not in FLOAT_KPIS} | {
            "org_id": key[0],
            "kpi_date": key[1],
        }, key
