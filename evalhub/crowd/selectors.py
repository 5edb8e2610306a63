"""Reads for crowd quality: the raters table of a study, built from judgment arrays
through evalhub.stats (no loop over judgments), cached with the study's dashboards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Value
from django.db.models.functions import Coalesce, Length
from django.utils import timezone
from numpy.typing import NDArray

from evalhub.dashboards.cache import cached_stats
from evalhub.dashboards.selectors.crowd_quality import crowd_quality
from evalhub.dashboards.selectors.frames import LLM_PREFIX, array_agg, as_list
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.rating.models import RaterSession
from evalhub.stats.crowd_flags import QUALITY_DEFAULTS, crowd_flags
from evalhub.stats.raters import (
    DEFAULT_RULES,
    PAIRWISE_TIE,
    agreement_with_reference,
    rater_table,
    reference_by_item,
)
from evalhub.studies.models import Judgment, Study

PAIRWISE_CLASSES = {"baseline": 0, "tie": 1, "target": 2}
LABEL_CLASSES = {"fail": 0, "pass": 1, "excellent": 2}
SORTABLE = (
    "rater", "status", "judgments", "time_median_ms", "time_p10_ms", "too_fast_share",
    "checks_passed", "checks_failed", "agreement", "tie_discounted_agreement", "left_share",
    "longest_run", "comments", "reliability", "flagged", "excluded",
)  # fmt: skip


def scale_of(study: Study) -> str:
    return "pairwise" if study.kind == Study.Kind.PAIRWISE else "label"


def verdict_classes(verdicts: NDArray[np.str_], scale: str) -> NDArray[np.int64]:
    """Verdict strings -> classes 0..2 of the scale (-1: not a verdict of it)."""
    names, codes = np.unique(verdicts, return_inverse=True)
    table = PAIRWISE_CLASSES if scale == "pairwise" else LABEL_CLASSES
    lookup = np.array([table.get(str(n), -1) for n in names] or [-1], dtype=np.int64)
    return lookup[codes.reshape(-1)] if verdicts.size else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class HumanJudgments:
    """The study's judgments by raters (not LLM judges), one array entry each, in id order."""

    id: NDArray[np.int64]
    rater: NDArray[np.int64]
    item: NDArray[np.int64]
    raw_choice: NDArray[np.str_]
    verdict: NDArray[np.int64]
    is_check: NDArray[np.bool_]
    time_ms: NDArray[np.float64]
    too_fast: NDArray[np.bool_]
    has_comment: NDArray[np.bool_]
    excluded: NDArray[np.bool_]


def human_judgments(study: Study) -> HumanJudgments:
    """Every judgment of `study` by a rater, read as one row of aligned arrays."""
    scale = scale_of(study)
    found = {
        # Aliases apart from the field names (an aggregate may not shadow one). Unordered:
        # aggregates of one scan see the rows in the same order, and numpy sorts by id.
        name.removeprefix("all_"): as_list(value)
        for name, value in Judgment.objects.filter(item__study=study, rater__isnull=False)
        .aggregate(
            all_id=array_agg("id"),
            all_rater=array_agg("rater_id"),
            all_item=array_agg("item_id"),
            all_raw_choice=array_agg("raw_choice"),
            all_verdict=array_agg("verdict"),
            all_is_check=array_agg("is_attention_check"),
            all_time_ms=array_agg(Coalesce("time_on_task_ms", Value(-1))),
            all_too_fast=array_agg("too_fast"),
            all_comment_chars=array_agg(Length("comment")),
            all_excluded=array_agg("excluded"),
        )
        .items()
    }
    ids = np.array(found["id"], dtype=np.int64)
    order = np.argsort(ids, kind="stable")  # ARRAY_AGG promises no order
    arr = {k: np.asarray(v)[order] if len(v) else np.asarray(v) for k, v in found.items()}
    time_ms = arr["time_ms"].astype(np.float64)
    return HumanJudgments(
        id=ids[order],
        rater=arr["rater"].astype(np.int64),
        item=arr["item"].astype(np.int64),
        raw_choice=arr["raw_choice"].astype(str),
        verdict=verdict_classes(arr["verdict"].astype(str), scale),
        is_check=arr["is_check"].astype(bool),
        time_ms=np.where(time_ms < 0, np.nan, time_ms),
        too_fast=arr["too_fast"].astype(bool),
        has_comment=arr["comment_chars"].astype(np.int64) > 0,
        excluded=arr["excluded"].astype(bool),
    )


def _llm_references(
    study: Study, item_index: NDArray[np.int64], scale: str
) -> dict[str, NDArray[np.float64]]:
    """{LLM judge group: one verdict class per item code (NaN: not judged)}."""
    rows = list(
        Judgment.objects.filter(
            item__study=study, judge_group__startswith=LLM_PREFIX, item__is_gold=False
        )
        .exclude(parse_state__in=(Judgment.ParseState.FAILED, Judgment.ParseState.ERROR))
        .values("judge_group", "verdict")
        .annotate(items=array_agg("item_id"))
        .order_by()
        .values_list("judge_group", "verdict", "items")
    )
    by_group: dict[str, tuple[list, list]] = {}
    for group, verdict, items in rows:  # one row per (group, verdict): a handful
        ids = as_list(items)
        found = by_group.setdefault(group, ([], []))
        found[0].append(np.array(ids, dtype=np.int64))
        found[1].append(np.full(len(ids), verdict))
    refs = {}
    for group, (ids, verdicts) in sorted(by_group.items()):
        ids_arr, verdict_arr = np.concatenate(ids), np.concatenate(verdicts).astype(str)
        classes = verdict_classes(verdict_arr, scale)
        pos = np.searchsorted(item_index, ids_arr)
        ok = (classes >= 0) & (pos < item_index.size)
        ok[ok] &= item_index[pos[ok]] == ids_arr[ok]
        refs[group] = reference_by_item(
            pos[ok], classes[ok], item_index.size, signed=scale == "pairwise"
        )
    return refs


def _display_status(status: str, expires_at: Any, now: Any) -> str:
    if status == RaterSession.Status.ACTIVE and (expires_at is None or expires_at <= now):
        return "returned or timed out"
    return {
        RaterSession.Status.ACTIVE: "active",
        RaterSession.Status.COMPLETED: "completed",
        RaterSession.Status.SCREENED_OUT: "screened out",
        RaterSession.Status.EXHAUSTED: "completed (no items left)",
        RaterSession.Status.EXCLUDED: "ended by exclusion",
    }.get(status, status)


def compute_raters_table(study: Study) -> dict[str, Any]:
    """The raters table body (uncached); see raters_table."""
    scale = scale_of(study)
    judged = human_judgments(study)
    sessions = list(
        RaterSession.objects.filter(study=study)
        .order_by("rater_id")
        .values_list(
            "rater_id",
            "status",
            "attention_failures",
            "excluded_at",
            "assignment__expires_at",
            "rater__group",
        )
    )
    # Raters: every session's, plus any with judgments but no session (imported ones).
    rater_ids = np.union1d(
        np.array([s[0] for s in sessions], dtype=np.int64), np.unique(judged.rater)
    )
    n = int(rater_ids.size)
    code = np.searchsorted(rater_ids, judged.rater)
    item_ids, item_code = np.unique(judged.item, return_inverse=True)
    item_code = item_code.reshape(-1)
    table = rater_table(
        n_raters=n, rater=code, item=item_code, sequence=judged.id,
        choice=np.unique(judged.raw_choice, return_inverse=True)[1].reshape(-1),
        verdict=judged.verdict, n_classes=3,
        tie_class=PAIRWISE_TIE if scale == "pairwise" else None,
        is_check=judged.is_check,
        time_ms=judged.time_ms, too_fast=judged.too_fast,
        chose_left=judged.raw_choice == "A",
        sided=np.isin(judged.raw_choice, ("A", "B", "tie")) & (scale == "pairwise"),
        has_comment=judged.has_comment,
    )  # fmt: skip
    real = ~judged.is_check & (judged.verdict >= 0)
    session_of = {s[0]: s for s in sessions}
    # Failed checks are counted on the session as they happen (the gold answer decides).
    failed = np.zeros(n, dtype=np.int64)
    has_session = np.isin(rater_ids, [s[0] for s in sessions])
    failed[has_session] = [s[2] for s in sessions]
    failed = np.minimum(failed, table.checks)
    quality = crowd_quality(study)
    reliability = np.full(n, np.nan)
    flags: dict[str, NDArray[np.bool_]] = {}
    evidence: dict[str, list[str | None]] = {}
    if quality is not None and quality.rater_ids.size:
        at = np.searchsorted(rater_ids, quality.rater_ids)  # every one is a table rater
        if quality.fit is not None:  # else the worker's fit is pending: reliability unknown
            reliability[np.searchsorted(rater_ids, quality.fit.raters)] = quality.fit.skill
        for name, hit in quality.flags.flags.items():
            flags[name] = np.zeros(n, dtype=bool)
            flags[name][at] = hit
            evidence[name] = [None] * n
            for j in np.flatnonzero(hit).tolist():
                evidence[name][int(at[j])] = quality.flags.evidence[name][j]
    elif quality is None:  # no three-class scale (likert, dialogue): time and sides only
        mine = ~judged.is_check & ~judged.excluded
        own = crowd_flags(
            n_raters=n, rater=code[mine], item=judged.item[mine],
            label=np.zeros(int(mine.sum()), dtype=np.int64),
            sided=np.isin(judged.raw_choice[mine], ("A", "B")),
            chose_left=judged.raw_choice[mine] == "A", time_ms=judged.time_ms[mine], fit=None,
            rules={k: v for k, v in (study.quality_rules or {}).items() if k in QUALITY_DEFAULTS},
        )  # fmt: skip
        for name in ("position_bias", "too_fast"):
            flags[name], evidence[name] = own.flags[name], own.evidence[name]
    llm = {
        group: agreement_with_reference(code[real], judged.verdict[real], ref[item_code[real]], n)
        for group, ref in _llm_references(study, item_ids, scale).items()
    }
    # The flags' rules (the old agreement and run thresholds are no longer flags).
    own = study.quality_rules or {}
    checks_rule = own.get("max_attention_failures", DEFAULT_RULES["max_attention_failures"])
    rules = {**(quality.rules if quality else {}), "max_attention_failures": checks_rule}
    if "bonus_per_judgment" in own:
        rules["bonus_per_judgment"] = own["bonus_per_judgment"]
    checks = failed >= int(rules["max_attention_failures"])
    flags["attention_checks"] = checks
    evidence["attention_checks"] = [
        f"failed {f} of {c} attention checks" if hit else None
        for f, c, hit in zip(failed.tolist(), table.checks.tolist(), checks.tolist(), strict=True)
    ]
    excluded_judgments = np.bincount(code[judged.excluded], minlength=n)
    now = timezone.now()
    # Columns as plain lists (NaN as None) and rows zipped from them: a Python object per
    # rater, never one per judgment, and no per-value conversion afterwards.
    columns = {
        "excluded_judgments": excluded_judgments, "judgments": table.judgments,
        "time_median_ms": table.time_median_ms, "time_p10_ms": table.time_p10_ms,
        "too_fast_share": table.too_fast_share, "checks_passed": table.checks - failed,
        "checks_failed": failed, "agreement": table.agreement,
        "tie_discounted_agreement": table.tie_discounted_agreement,
        "left_share": table.left_share, "longest_run": table.longest_run,
        "comments": table.comments, "reliability": reliability,
    }  # fmt: skip
    lists = {name: _plain(values) for name, values in columns.items()}
    llm_lists = {g: _plain(values) for g, values in llm.items()}
    flag_lists = {name: hit.tolist() for name, hit in flags.items()}
    rows = []
    for i, rater_id in enumerate(rater_ids.tolist()):  # one row per rater
        found = session_of.get(rater_id)
        flagged = [name for name, hit in flag_lists.items() if hit[i]]
        why = {name: evidence[name][i] for name in flagged}
        rows.append({
            "rater": rater_id,
            "group": found[5] if found else "",
            "status": _display_status(found[1], found[4], now) if found else "imported",
            "excluded": bool(found and found[3] is not None),
            **{name: values[i] for name, values in lists.items()},
            "llm_agreement": {g: values[i] for g, values in llm_lists.items()},
            "flags": flagged,
            "evidence": why,
            "flagged": bool(flagged),
        })  # fmt: skip
    excluded = code[judged.excluded]
    return {
        "scale": scale,
        "rules": jsonable(rules),
        "llm_groups": sorted(llm),
        "raters": rows,
        "excluded": {"raters": int(np.unique(excluded).size), "judgments": int(excluded.size)},
        # The worker's one-coin fit: "updating" (or "failed") leaves the reliability
        # column empty and the spam test silent until it lands, never an older fit's.
        "reliability_state": quality.state if quality is not None else "current",
        "reliability_current": quality is None or quality.state == "current",
    }


def _plain(values: NDArray) -> list[Any]:
    """numpy values as a list of Python numbers, NaN as None."""
    if values.dtype.kind == "f":
        return [None if v != v else v for v in values.tolist()]  # NaN != NaN
    return values.tolist()


def raters_table(study: Study) -> dict[str, Any]:
    """The study's raters table as a JSON-able dict, cached until the next judgment or
    exclusion: {"scale", "rules", "llm_groups", "raters": [one row per rater: rater (id),
    group, status, excluded, excluded_judgments, judgments, time_median_ms, time_p10_ms,
    too_fast_share, checks_passed, checks_failed, agreement, tie_discounted_agreement
    (leave-one-out majority), llm_agreement {group: share}, left_share, longest_run,
    comments, reliability (one-coin Dawid-Skene skill), flags (test names), evidence
    {test: text}, flagged], "excluded", "reliability_state" (the worker's fit behind
    reliability and the spam test: current / updating / failed), "reliability_current"}."""
    return cached_stats(study.pk, {"view": "raters"}, lambda: compute_raters_table(study))


def rows_sorted(
    rows: list[dict[str, Any]], *, sort: str = "rater", flagged: bool | None = None,
    excluded: bool | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Rows filtered (flagged / excluded when given) and sorted by `sort` ("-" prefix:
    descending); missing values (null) last either way."""
    key = sort.lstrip("-")
    if key not in SORTABLE:
        raise ValueError(f"sort: unknown column {key!r}; use one of {', '.join(SORTABLE)}")
    picked = [
        r for r in rows
        if (flagged is None or r["flagged"] == flagged)
        and (excluded is None or r["excluded"] == excluded)
    ]  # fmt: skip
    present = [r for r in picked if r.get(key) is not None]
    missing = [r for r in picked if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=sort.startswith("-"))
    return present + missing


class FlagsUpdating(Exception):
    """The worker's one-coin fit for the current verdicts is pending: the spam test is
    silent, so "every flagged rater" would miss raters it flags."""


def flagged_rater_ids(study: Study) -> list[int]:
    """Raters the study's rules flag and who are not excluded yet; FlagsUpdating while
    the spam test waits for its fit."""
    table = raters_table(study)
    if not table["reliability_current"]:
        raise FlagsUpdating(
            f"flagged: the spam test is {table['reliability_state']} (a worker is fitting the "
            "current verdicts); exclude the flagged raters once it has landed"
        )
    return [r["rater"] for r in table["raters"] if r["flagged"] and not r["excluded"]]
