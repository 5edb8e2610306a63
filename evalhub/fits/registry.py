"""Kinds of shared fit, and how to register one.

A shared fit is heavy work (seconds to minutes) whose result several studies read: the
instruction difficulty behind AlpacaEval's LC, and later style control or crowd models. It is
computed once per fingerprint of its inputs by a worker (a `fit` job) and stored in
PostgreSQL (`SharedFit`); a web request only reads it (see evalhub.fits.selectors).

Registering a kind, from the owning app's `AppConfig.ready()`:

    from evalhub.fits.registry import FitKind, fit_kind_register

    fit_kind_register(FitKind(
        name="style_control",
        scope=lambda inputs: f"prompt_set={inputs['prompt_set']}|...",
        fingerprint=style_control_fingerprint,   # inputs -> str, cheap (aggregates only)
        compute=style_control_compute,           # inputs -> JSON-able dict, heavy
        on_done=style_control_done,              # inputs -> None, e.g. invalidate caches
    ))

- `inputs` is a small JSON-able dict of ids and names (never the data itself): the job reads
  the data again from PostgreSQL.
- `fingerprint(inputs)` digests the data the fit would read (counts, id sums, the models
  present). It runs in the web request, so it must be a query or two, milliseconds.
- `compute(inputs)` runs in the worker, in one REPEATABLE READ transaction together with
  `fingerprint(inputs)`, so the result is stored under the fingerprint of exactly the data it
  read.
- `on_done(inputs)` runs after a result is stored (outside that transaction): make the pages
  that show the fit fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Inputs = dict[str, Any]


@dataclass(frozen=True)
class FitKind:
    name: str
    scope: Callable[[Inputs], str]
    fingerprint: Callable[[Inputs], str]
    compute: Callable[[Inputs], dict[str, Any]]
    on_done: Callable[[Inputs], None] | None = None


_KINDS: dict[str, FitKind] = {}


def fit_kind_register(kind: FitKind) -> None:
    """Register (or re-register, e.g. on autoreload) a kind of shared fit by its name."""
    _KINDS[kind.name] = kind


def fit_kind(name: str) -> FitKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no shared fit kind {name!r} is registered") from None
