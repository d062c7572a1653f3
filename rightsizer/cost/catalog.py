"""Instance types and their prices: the bundled dated snapshot, or the user's own file.

Columns (CSV, or JSON ``{"snapshot": DATE, "source": ..., "instances": [{...}]}``):
provider, region, instance_type, vcpu, memory_gib, arch, on_demand_hourly, spot_hourly
(or spot_savings_pct), interruption_bucket (0..4: <5%, 5-10%, 10-15%, 15-20%, >20%, as the
AWS Spot Instance Advisor publishes them).  Every cost output names the snapshot's date
and age, because prices move.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rightsizer.errors import RightsizerError

BUCKETS = ("<5%", "5-10%", "10-15%", "15-20%", ">20%")
#: interruptions per node-month, at each bucket's middle (the top bucket at 25%)
BUCKET_RATES = (0.025, 0.075, 0.125, 0.175, 0.25)
REQUIRED = ("provider", "region", "instance_type", "vcpu", "memory_gib", "on_demand_hourly", "interruption_bucket")


@dataclass(frozen=True)
class InstanceType:
    provider: str
    region: str
    name: str
    vcpu: float
    memory_gib: float
    arch: str
    on_demand_hourly: float
    spot_hourly: float | None
    interruption_bucket: int | None

    @property
    def interruptions_per_month(self) -> float:
        return BUCKET_RATES[self.interruption_bucket] if self.interruption_bucket is not None else BUCKET_RATES[-1]


@dataclass
class Catalog:
    instances: list[InstanceType]
    snapshot: date | None
    source: str

    def describe(self, today: date | None = None) -> str:
        if self.snapshot is None:
            return f"prices from {self.source} (undated)"
        age = ((today or datetime.now(UTC).date()) - self.snapshot).days
        return f"prices from {self.source}, snapshot {self.snapshot.isoformat()} ({age} days old)"

    def regions(self) -> list[str]:
        return sorted({i.region for i in self.instances})

    def in_region(self, region: str) -> list[InstanceType]:
        found = [i for i in self.instances if i.region == region]
        if not found:
            raise RightsizerError(f"no instance types for region {region!r} in the catalog; it has: "
                                  f"{', '.join(self.regions())}")
        return found

    def get(self, region: str, name: str) -> InstanceType | None:
        return next((i for i in self.instances if i.region == region and i.name == name), None)


def bundled_catalog_path() -> Path:
    packaged = Path(__file__).parent.parent / "data" / "pricing-catalog.csv"
    return packaged if packaged.exists() else Path(__file__).parent.parent.parent / "fixtures" / "pricing-catalog.csv"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The bundled snapshot, or a user's CSV or JSON file; a malformed one names its row and column."""
    target = Path(path) if path is not None else bundled_catalog_path()
    if not target.is_file():
        raise RightsizerError(f"catalog {target} does not exist")
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RightsizerError(f"catalog {target} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise RightsizerError(f"cannot read catalog {target}: {exc.strerror}") from None
    name = "bundled catalog" if path is None else str(target)
    if target.suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise RightsizerError(f"catalog {target} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("instances"), list):
            raise RightsizerError(f"catalog {target}: expected {{\"snapshot\", \"source\", \"instances\": [...]}}")
        rows = doc["instances"]
        snapshot, source = doc.get("snapshot"), doc.get("source") or name
    else:
        meta = dict(re.findall(r"^#\s*(snapshot|source):\s*(.+?)\s*$", text, re.MULTILINE))
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        rows = list(csv.DictReader(io.StringIO(body)))
        snapshot, source = meta.get("snapshot"), meta.get("source") or name
    try:
        when = date.fromisoformat(str(snapshot)) if snapshot else None
    except ValueError:
        raise RightsizerError(f"catalog {target}: snapshot {snapshot!r} is not a date (YYYY-MM-DD)") from None
    instances = [_row(target, i + 1, row) for i, row in enumerate(rows)]
    if not instances:
        raise RightsizerError(f"catalog {target} has no instance types")
    return Catalog(instances, when, source)


def _row(path: Path, number: int, row: dict[str, object]) -> InstanceType:
    if not isinstance(row, dict):
        raise RightsizerError(f"catalog {path}, row {number}: not a record")
    for column in REQUIRED:
        if row.get(column) in (None, ""):
            raise RightsizerError(f"catalog {path}, row {number}: column {column!r} is missing")

    def number_of(column: str, *, positive: bool = True, optional: bool = False) -> float | None:
        value = row.get(column)
        if value in (None, "") and optional:
            return None
        try:
            parsed = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise RightsizerError(f"catalog {path}, row {number}, column {column!r}: {value!r} is not a number") \
                from None
        if not math.isfinite(parsed):
            raise RightsizerError(f"catalog {path}, row {number}, column {column!r}: {value!r} is not a finite number")
        if positive and not parsed > 0:
            raise RightsizerError(f"catalog {path}, row {number}, column {column!r}: must be above zero, not {value}")
        return parsed

    on_demand = number_of("on_demand_hourly")
    spot = number_of("spot_hourly", optional=True)
    savings = number_of("spot_savings_pct", positive=False, optional=True)
    if spot is None and savings is not None:
        if not 0 <= savings < 100:
            raise RightsizerError(f"catalog {path}, row {number}, column 'spot_savings_pct': {savings} is not 0-99")
        spot = round(on_demand * (1 - savings / 100), 6)  # type: ignore[operator]
    bucket_value = number_of("interruption_bucket", positive=False)
    bucket = int(bucket_value)  # type: ignore[arg-type]
    if bucket != bucket_value or not 0 <= bucket < len(BUCKETS):
        raise RightsizerError(f"catalog {path}, row {number}, column 'interruption_bucket': {row.get('interruption_bucket')!r}"
                              " is not 0-4 (<5%, 5-10%, 10-15%, 15-20%, >20%)")
    return InstanceType(str(row["provider"]), str(row["region"]), str(row["instance_type"]),
                        number_of("vcpu"), number_of("memory_gib"), str(row.get("arch") or "x86_64"),  # type: ignore[arg-type]
                        on_demand, spot, bucket)  # type: ignore[arg-type]
