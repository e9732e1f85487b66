"""The outcome of one load: counts, and every rejected row with its line number and reason code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.code}: {self.message}"


@dataclass
class LoadReport:
    """Counts of one file's rows: inserted and updated rows are `loaded`; rejected rows are in `errors`."""

    kind: str  # "orgs" or "invoices"
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def reject(self, line: int, code: str, message: str) -> None:
        self.errors.append(RowError(line, code, message))

    def finish(self) -> LoadReport:
        """Put the errors in file order (a batch reports parse errors before store checks)."""
        self.errors.sort()
        return self

    def summary(self) -> str:
        loaded = f"loaded {self.loaded}" + (f" ({self.updated} updated)" if self.updated else "")
        return f"{self.kind}: {loaded}, unchanged {self.unchanged}, rejected {self.rejected}"
