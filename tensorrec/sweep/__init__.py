"""Sweeps that outgrow one machine: one trial runner, local processes or Dask, one store.

A sweep is a grid of configurations x trials; each trial is a pure function of (configuration,
seed) returning a record. :class:`Runner` runs the missing trials on a backend ("serial",
"processes", "dask") and commits each one to a :class:`Store` (SQLite, WAL mode) as it
finishes, so an interrupted sweep resumes without losing or repeating work, and the records
do not depend on the backend, the number of workers or the order in which trials finished.
"""

from tensorrec.sweep.backends import BACKENDS, MAX_CRASHES, available_cores, default_backend
from tensorrec.sweep.core import (
    DEFAULT_TRIAL_TIMEOUT,
    Runner,
    SweepError,
    SweepResult,
    as_runner,
    trial_key,
    trial_seed,
)
from tensorrec.sweep.store import (
    METADATA,
    SCHEMA,
    Row,
    StaleRecordsWarning,
    Store,
    StoreDamageWarning,
    StoreError,
    code_version,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_TRIAL_TIMEOUT",
    "MAX_CRASHES",
    "METADATA",
    "SCHEMA",
    "Row",
    "Runner",
    "StaleRecordsWarning",
    "Store",
    "StoreDamageWarning",
    "StoreError",
    "SweepError",
    "SweepResult",
    "as_runner",
    "available_cores",
    "code_version",
    "default_backend",
    "trial_key",
    "trial_seed",
]
