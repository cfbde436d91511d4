"""Assets (Airflow 3; "datasets" in Airflow 2): data a task produces, named by a URI.

A task declares what it updates with `outlets=[Asset("s3://bucket/orders")]`; a DAG with
`schedule=[Asset(...), ...]` runs when every asset it names has been updated since its last
asset-triggered run, as Airflow's. The scheduler keeps the events and the waiting DAGs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Asset:
    """A piece of data, identified by its URI (`name` defaults to it, as in Airflow 3)."""

    uri: str = ""
    name: str = ""
    group: str = "asset"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        uri = self.uri or self.name
        if not uri or not uri.strip():
            raise ValueError("An Asset needs a uri or a name")
        if uri != uri.strip() or len(uri) > 1500:
            raise ValueError(f"Asset uri {uri!r} must not have surrounding spaces or exceed "
                             "1500 characters")
        if urlsplit(uri).scheme.lower() == "airflow":
            raise ValueError(f"Asset uri {uri!r}: the 'airflow' scheme is reserved")
        object.__setattr__(self, "uri", uri)
        object.__setattr__(self, "name", self.name or uri)


Dataset = Asset  # Airflow 2's name


def asset_uris(values: Any) -> list[str]:
    """The URIs of the assets in `values` (an Asset, or a list of them), in order, each once."""
    if values is None:
        return []
    items: Iterable[Any] = values if isinstance(values, list | tuple | set) else [values]
    return list(dict.fromkeys(v.uri for v in items if isinstance(v, Asset)))


def is_asset_schedule(schedule: Any) -> bool:
    """Whether a DAG's `schedule` is a list of assets (Airflow's data-aware scheduling)."""
    return (isinstance(schedule, list | tuple | set) and bool(schedule)
            and all(isinstance(v, Asset) for v in schedule))
