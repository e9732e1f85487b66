"""Tax band rates from the eTIMS code list, cached in the store and shared by a run's workers."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, delete, select

from etims_pipeline.etims.client import DeviceCredentials, EtimsClient, parse_tax_rates
from etims_pipeline.etims.codes import SUCCESS, TAX_BAND_NAMES
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.dialect import upsert_insert
from etims_pipeline.store.models import TaxRateEntry


class TaxRatesUnavailableError(RuntimeError):
    pass


def cached_rates(engine: Engine, max_age: timedelta) -> TaxRates | None:
    with session_scope(engine) as session:
        rows = session.scalars(select(TaxRateEntry)).all()
    if not rows or min(row.fetched_at for row in rows) < now_utc() - max_age:
        return None
    rates = TaxRates({row.band: Decimal(row.rate) for row in rows})
    return None if rates.missing_bands() else rates


def store_rates(engine: Engine, rates: TaxRates) -> None:
    """Upsert band by band: concurrent runs refreshing the cache at once must not collide."""
    fetched = now_utc()
    rows = [
        {"band": band, "rate": rate, "name": TAX_BAND_NAMES.get(band), "fetched_at": fetched}
        for band, rate in sorted(rates.by_band.items())
    ]
    with session_scope(engine) as session:
        statement = upsert_insert(session, TaxRateEntry)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["band"],
                set_={"rate": statement.excluded.rate, "name": statement.excluded.name, "fetched_at": fetched},
            ),
            rows,
        )
        session.execute(delete(TaxRateEntry).where(TaxRateEntry.band.not_in(list(rates.by_band))))


class TaxRatesProvider:
    """Reads the rates once per run: the cache if fresh, else selectCodeList with the first org's device."""

    def __init__(self, engine: Engine, client: EtimsClient, max_age: timedelta) -> None:
        self._engine = engine
        self._client = client
        self._max_age = max_age
        self._lock = threading.Lock()
        self._rates: TaxRates | None = None

    def get(self, credentials: DeviceCredentials) -> TaxRates:
        with self._lock:
            if self._rates is None:
                self._rates = cached_rates(self._engine, self._max_age) or self._fetch(credentials)
            return self._rates

    def _fetch(self, credentials: DeviceCredentials) -> TaxRates:
        response = self._client.select_code_list(credentials)
        if response.result_code != SUCCESS:
            raise TaxRatesUnavailableError(
                f"TAX_RATES_UNAVAILABLE: selectCodeList answered {response.result_code} {response.result_message}"
            )
        rates = parse_tax_rates(response)
        missing = rates.missing_bands()
        if missing:
            raise TaxRatesUnavailableError(
                f"TAX_RATES_UNAVAILABLE: the eTIMS code list has no rate for band(s) {', '.join(missing)}"
            )
        store_rates(self._engine, rates)
        return rates
