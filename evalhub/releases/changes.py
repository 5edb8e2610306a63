"""What changed between two versions of a release, read from the earlier version's files
(never from the database, which has moved on): judgments added, removed, newly excluded,
included again or with another verdict; items added or removed; another instrument or
configuration; other publishing options."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _keyed(table: pa.Table, key: str, columns: list[str]) -> dict[int, tuple]:
    cols = [table[key].to_pylist()] + [table[c].to_pylist() for c in columns]
    return {row[0]: tuple(row[1:]) for row in zip(*cols, strict=True)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def release_changes(previous: Path, tables: dict[str, pa.Table]) -> list[str]:
    """One sentence per kind of change from the release folder `previous` to `tables`."""
    data = previous / "data"
    changes: list[str] = []
    old_j = _keyed(pq.read_table(data / "judgments.parquet",
                                 columns=["judgment_id", "verdict", "score", "excluded"]),
                   "judgment_id", ["verdict", "score", "excluded"])  # fmt: skip
    new_j = _keyed(tables["judgments"], "judgment_id", ["verdict", "score", "excluded"])
    added = new_j.keys() - old_j.keys()
    removed = old_j.keys() - new_j.keys()
    kept = new_j.keys() & old_j.keys()
    excluded = sum(1 for k in kept if new_j[k][2] and not old_j[k][2])
    included = sum(1 for k in kept if old_j[k][2] and not new_j[k][2])
    verdicts = sum(1 for k in kept if new_j[k][:2] != old_j[k][:2])
    if added:
        changes.append(f"{_plural(len(added), 'judgment')} added")
    if removed:
        changes.append(f"{_plural(len(removed), 'judgment')} removed")
    if excluded:
        changes.append(f"{_plural(excluded, 'judgment')} newly excluded (see Exclusions)")
    if included:
        changes.append(f"{_plural(included, 'judgment')} included again")
    if verdicts:
        changes.append(f"{_plural(verdicts, 'judgment')} with another verdict or score")
    old_items = set(pq.read_table(data / "items.parquet", columns=["item_id"])["item_id"]
                    .to_pylist())  # fmt: skip
    new_items = set(tables["items"]["item_id"].to_pylist())
    if new_items - old_items:
        changes.append(f"{_plural(len(new_items - old_items), 'item')} added")
    if old_items - new_items:
        changes.append(f"{_plural(len(old_items - new_items), 'item')} removed")
    old_inst = pq.read_table(data / "instrument.parquet").to_pylist()[0]
    new_inst = tables["instrument"].to_pylist()[0]
    if (old_inst["slug"], old_inst["version"]) != (new_inst["slug"], new_inst["version"]):
        changes.append(f"instrument {old_inst['slug']} v{old_inst['version']} -> "
                       f"{new_inst['slug']} v{new_inst['version']}")  # fmt: skip
    old_conf = json.loads(pq.read_table(data / "config.parquet")["config"][0].as_py())
    new_conf = json.loads(tables["config"]["config"][0].as_py())
    if old_conf != new_conf:
        keys = sorted(k for k in old_conf.keys() | new_conf.keys()
                      if old_conf.get(k) != new_conf.get(k))  # fmt: skip
        changes.append(f"configuration changed: {', '.join(keys)}")
    old_cols = set(pq.read_schema(data / "judgments.parquet").names)
    new_cols = set(tables["judgments"].column_names)
    if "comment" in new_cols - old_cols:
        changes.append("rater comments now included")
    if "comment" in old_cols - new_cols:
        changes.append("rater comments no longer included")
    old_models = set(pq.read_table(data / "outputs.parquet", columns=["model"])["model"]
                     .to_pylist())  # fmt: skip
    if old_models != set(tables["outputs"]["model"].to_pylist()):
        changes.append("model names shown differently (withheld or revealed)")
    return changes
