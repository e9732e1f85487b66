"""Capped exponential backoff with full jitter for transient eTIMS failures."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    max_calls: int = 5  # eTIMS calls spent on one invoice in one run, lookups included
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1-based): uniform in [0, min(cap, base·2^(n-1))]."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (retry_number - 1))
        return self.rng.uniform(0, ceiling)

    def wait(self, retry_number: int) -> None:
        self.sleep(self.delay(retry_number))
