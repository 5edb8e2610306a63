"""A study's rows as Arrow tables, the content of a release: prompts, outputs (with
provenance), items, judgments, the instrument, the frozen config and a per-item aggregate.

Read with values_list straight into column lists (no model instances), so 100,000 judgments
take a few hundred MB at most. Privacy is applied here, before anything is written: raters
appear only as a per-study keyed hash, rater free text only when asked for, and model names
can be replaced by roles ("target", "baseline-1", ...)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from evalhub.crowd.models import RaterExclusion
from evalhub.dashboards.selectors.frames import EXCLUDED_PARSE_STATES, LLM_PREFIX
from evalhub.outputs.models import Output
from evalhub.studies.models import Item, Judgment, Study

# The parquet files of a release, in the order the card lists them: name -> what it holds.
TABLES = {
    "prompts": "The prompts judged, keyed by their external id.",
    "outputs": "Each model output shown, with its provenance (sampling, engine, seed).",
    "items": "Each unit judged: a prompt with its target and baseline outputs.",
    "judgments": "Every human and LLM verdict; excluded ones kept and marked.",
    "item_aggregate": "Per item and judge group: counts of each verdict over counted rows.",
    "instrument": "What raters and judges were asked: slug, version and full text.",
    "config": "The study's configuration, frozen and hashed at launch.",
}
# Config keys that must never leave the installation (they let anyone claim a payment).
PRIVATE_CONFIG_KEYS = ("completion_code", "screenout_code")

PROMPT_SCHEMA = pa.schema([
    ("prompt_id", pa.string()), ("position", pa.int64()), ("text", pa.string()),
    ("context", pa.string()), ("category", pa.string()), ("source", pa.string()),
    ("reference", pa.string())])  # fmt: skip
OUTPUT_SCHEMA = pa.schema([
    ("output_id", pa.int64()), ("prompt_id", pa.string()), ("model", pa.string()),
    ("sample_index", pa.int64()), ("text", pa.string()), ("turns", pa.string()),
    ("provenance", pa.string())])  # fmt: skip
ITEM_SCHEMA = pa.schema([
    ("item_id", pa.int64()), ("prompt_id", pa.string()), ("target_output_id", pa.int64()),
    ("baseline_output_id", pa.int64()), ("target_model", pa.string()),
    ("baseline_model", pa.string()), ("is_gold", pa.bool_()),
    ("gold_answer", pa.string())])  # fmt: skip


@dataclass(frozen=True)
class ReleaseOptions:
    include_comments: bool = False
    withhold_model_names: bool = False


@dataclass
class ReleaseTables:
    tables: dict[str, pa.Table] = field(default_factory=dict)
    # Each excluded rater (hashed) with the reason given, for the card.
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    model_names: dict[str, str] = field(default_factory=dict)  # real slug -> published name


def rater_pseudonym(study_id: int, rater_id: int) -> str:
    """A rater's id in a release: a keyed hash, stable across versions of one study and
    unlinkable across studies. 16 hex digits (64 bits): no collision among a study's raters."""
    key = settings.RATER_ID_HASH_KEY.encode()
    message = f"release:{study_id}:{rater_id}".encode()
    return "r-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _published_models(study: Study, withhold: bool) -> dict[str, str]:
    baselines = sorted(study.baselines.values_list("slug", flat=True))
    slugs = [study.target_model.slug, *baselines]
    if not withhold:
        return {s: s for s in slugs}
    names = {study.target_model.slug: "target"}
    names.update({b: f"baseline-{n}" for n, b in enumerate(baselines, start=1)})
    return names


def _scrub(value: Any, names: dict[str, str]) -> Any:
    """Replace model names where they appear as whole values (and under any "model" key)."""
    if isinstance(value, dict):
        return {
            k: ("withheld" if k in {"model", "model_path", "served_model_name"}
                and isinstance(v, str) else _scrub(v, names))
            for k, v in value.items()
        }  # fmt: skip
    if isinstance(value, list):
        return [_scrub(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _columns(rows: Iterable[tuple], names: list[str]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {n: [] for n in names}
    appenders = [cols[n].append for n in names]
    for row in rows:
        for append, value in zip(appenders, row, strict=True):
            append(value)
    return cols


def _prompts(study: Study) -> pa.Table:
    from evalhub.prompts.models import Prompt

    used = Item.objects.filter(study=study).values("prompt_id")
    rows = (
        Prompt.objects.filter(pk__in=used)
        .order_by("id")  # id order: an import recreates the same order, the same bootstrap
        .values_list("external_id", "position", "text", "context", "category", "source",
                     "reference")
    )  # fmt: skip
    names = ["prompt_id", "position", "text", "context", "category", "source", "reference"]
    cols = _columns(rows.iterator(chunk_size=5000), names)
    cols["context"] = [_json(c) for c in cols["context"]]
    return pa.table(cols, schema=PROMPT_SCHEMA)


def _outputs(study: Study, names: dict[str, str], withhold: bool) -> pa.Table:
    items = Item.objects.filter(study=study)
    used = Output.objects.filter(pk__in=items.values("target_output_id")) | Output.objects.filter(
        pk__in=items.values("baseline_output_id")
    )
    rows = used.order_by("id").values_list(
        "id", "prompt__external_id", "model__slug", "sample_index", "text", "turns", "provenance"
    )
    cols = _columns(rows.iterator(chunk_size=5000), ["output_id", "prompt_id", "model",
                                                     "sample_index", "text", "turns",
                                                     "provenance"])  # fmt: skip
    cols["model"] = [names.get(m, m) for m in cols["model"]]
    cols["turns"] = [_json(t) for t in cols["turns"]]
    scrub = (lambda p: _scrub(p, names)) if withhold else (lambda p: p)
    cols["provenance"] = [_json(scrub(p)) for p in cols["provenance"]]
    return pa.table(cols, schema=OUTPUT_SCHEMA)


def _items(study: Study, names: dict[str, str]) -> pa.Table:
    rows = (
        Item.objects.filter(study=study)
        .order_by("id")
        .values_list("id", "prompt__external_id", "target_output_id", "baseline_output_id",
                     "target_output__model__slug", "baseline_output__model__slug", "is_gold",
                     "gold_answer")
    )  # fmt: skip
    cols = _columns(rows.iterator(chunk_size=5000), ["item_id", "prompt_id", "target_output_id",
                                                     "baseline_output_id", "target_model",
                                                     "baseline_model", "is_gold",
                                                     "gold_answer"])  # fmt: skip
    cols["target_model"] = [names.get(m, m) if m else None for m in cols["target_model"]]
    cols["baseline_model"] = [names.get(m, m) if m else None for m in cols["baseline_model"]]
    return pa.table(cols, schema=ITEM_SCHEMA)


JUDGMENT_FIELDS = [
    "id", "item_id", "item__prompt__external_id", "item__is_gold", "judge_group", "rater_id",
    "judge__slug", "order", "assignment__target_side", "item__target_output_id",
    "item__baseline_output_id", "raw_choice", "verdict", "score", "preference", "turn_labels",
    "time_on_task_ms", "too_fast", "is_attention_check", "parse_state", "excluded",
    "raw_response", "tokens_in", "tokens_out", "created_at", "comment",
]  # fmt: skip
JUDGMENT_SCHEMA = pa.schema([
    ("judgment_id", pa.int64()), ("item_id", pa.int64()), ("prompt_id", pa.string()),
    ("judge_kind", pa.string()), ("judge_group", pa.string()), ("rater", pa.string()),
    ("judge", pa.string()), ("order", pa.string()), ("target_side", pa.string()),
    ("left_output_id", pa.int64()), ("right_output_id", pa.int64()),
    ("raw_choice", pa.string()), ("verdict", pa.string()), ("score", pa.float64()),
    ("preference", pa.float64()), ("turn_labels", pa.string()),
    ("time_on_task_ms", pa.int64()), ("too_fast", pa.bool_()),
    ("is_attention_check", pa.bool_()), ("parse_state", pa.string()),
    ("excluded", pa.bool_()), ("exclusion_reason", pa.string()), ("counted", pa.bool_()),
    ("raw_response", pa.string()), ("tokens_in", pa.int64()), ("tokens_out", pa.int64()),
    ("created_at", pa.timestamp("us", tz="UTC")),
])  # fmt: skip


def _exclusion_reasons(study: Study) -> dict[int, tuple[str, int]]:
    """The reason of each rater's latest exclusion still in force: rater id -> (reason, n)."""
    latest: dict[int, RaterExclusion] = {}
    for row in RaterExclusion.objects.filter(study=study).order_by("at", "id"):
        latest[row.rater_id] = row
    return {
        r: (row.reason, row.judgments)
        for r, row in latest.items()
        if row.action == RaterExclusion.Action.EXCLUDE
    }


def _judgments(study: Study, include_comments: bool) -> tuple[pa.Table, list[dict[str, Any]]]:
    reasons = _exclusion_reasons(study)
    rows = (
        Judgment.objects.filter(item__study=study)
        .order_by("id")
        .values_list(*JUDGMENT_FIELDS)
        .iterator(chunk_size=5000)
    )
    cols = _columns(rows, JUDGMENT_FIELDS)
    hashed = {r: rater_pseudonym(study.pk, r) for r in set(cols["rater_id"]) - {None}}
    failed = set(EXCLUDED_PARSE_STATES)
    order = cols["order"]
    target, baseline = cols["item__target_output_id"], cols["item__baseline_output_id"]
    left = [b if o == "baseline_first" else t for o, t, b in zip(order, target, baseline,
                                                                 strict=True)]  # fmt: skip
    right = [t if o == "baseline_first" else (b if o == "target_first" else None)
             for o, t, b in zip(order, target, baseline, strict=True)]  # fmt: skip
    data = {
        "judgment_id": cols["id"],
        "item_id": cols["item_id"],
        "prompt_id": cols["item__prompt__external_id"],
        "judge_kind": ["llm" if g.startswith(LLM_PREFIX) else "human" for g in cols["judge_group"]],
        "judge_group": cols["judge_group"],
        "rater": [hashed.get(r) for r in cols["rater_id"]],
        "judge": cols["judge__slug"],
        "order": order,
        "target_side": [s or None for s in cols["assignment__target_side"]],
        "left_output_id": left,
        "right_output_id": right,
        "raw_choice": cols["raw_choice"],
        "verdict": [v or None for v in cols["verdict"]],
        "score": cols["score"],
        "preference": cols["preference"],
        "turn_labels": [_json(t) if t else None for t in cols["turn_labels"]],
        "time_on_task_ms": cols["time_on_task_ms"],
        "too_fast": cols["too_fast"],
        "is_attention_check": cols["is_attention_check"],
        "parse_state": [p or None for p in cols["parse_state"]],
        "excluded": cols["excluded"],
        "exclusion_reason": [
            reasons.get(r, ("",))[0] or None if x else None
            for r, x in zip(cols["rater_id"], cols["excluded"], strict=True)
        ],
        "counted": [
            not (gold or check or x or p in failed)
            for gold, check, x, p in zip(
                cols["item__is_gold"],
                cols["is_attention_check"],
                cols["excluded"],
                cols["parse_state"],
                strict=True,
            )
        ],
        "raw_response": [r or None for r in cols["raw_response"]],
        "tokens_in": cols["tokens_in"],
        "tokens_out": cols["tokens_out"],
        "created_at": cols["created_at"],
    }
    schema = JUDGMENT_SCHEMA
    if include_comments:
        data["comment"] = [c or None for c in cols["comment"]]
        schema = schema.append(pa.field("comment", pa.string()))
    exclusions = [
        {"rater": rater_pseudonym(study.pk, r), "reason": reason, "judgments": n}
        for r, (reason, n) in sorted(reasons.items())
    ]
    return pa.table(data, schema=schema), exclusions


def item_aggregate(judgments: pa.Table) -> pa.Table:
    """Per (item, judge group), over counted judgments: how many, how many of each verdict,
    the mean score, and the majority verdict (null on a tie for the most)."""
    counted = judgments.filter(pc.field("counted"))
    verdicts = ["target", "tie", "baseline", "fail", "pass", "excellent"]
    counted = counted.append_column(
        "n", pa.array([1] * counted.num_rows, type=pa.int64())
    ).append_column("score_mean", counted["score"])
    for v in verdicts:
        counted = counted.append_column(
            f"n_{v}", pc.cast(pc.equal(pc.fill_null(counted["verdict"], ""), v), pa.int64())
        )
    grouped = counted.group_by(["item_id", "judge_group"], use_threads=False).aggregate(
        [("n", "sum"), ("score_mean", "mean")] + [(f"n_{v}", "sum") for v in verdicts]
    )
    grouped = grouped.rename_columns(
        [c.removesuffix("_sum").removesuffix("_mean") if c != "score_mean_mean" else "score_mean"
         for c in grouped.column_names]
    )  # fmt: skip
    counts = [grouped[f"n_{v}"].to_pylist() for v in verdicts]
    majority = []
    for row in zip(*counts, strict=True):
        top = max(row)
        winners = [v for v, c in zip(verdicts, row, strict=True) if c == top and c > 0]
        majority.append(winners[0] if len(winners) == 1 else None)
    grouped = grouped.append_column("majority", pa.array(majority, type=pa.string()))
    return grouped.sort_by([("item_id", "ascending"), ("judge_group", "ascending")])


def _instrument(study: Study) -> pa.Table:
    from evalhub.instruments.services import instrument_for_study_kind

    inst = study.instrument or instrument_for_study_kind(study.kind)
    content = inst.content()
    row = {"slug": inst.slug, "version": inst.version, "content_hash": inst.content_hash,
           **{k: (_json(v) if k == "choices" else v) for k, v in content.items()}}  # fmt: skip
    return pa.Table.from_pylist([row])


def published_config(study: Study, names: dict[str, str], withhold: bool) -> dict[str, Any]:
    config = {k: v for k, v in study.config.items() if k not in PRIVATE_CONFIG_KEYS}
    return _scrub(config, names) if withhold else config


def _config(study: Study, names: dict[str, str], withhold: bool) -> pa.Table:
    row = {
        "study": study.slug,
        "name": study.name,
        "kind": study.kind,
        "config": _json(published_config(study, names, withhold)),
        "config_hash": study.config_hash,
        "launched_at": study.launched_at.isoformat() if study.launched_at else None,
        "closed_at": study.closed_at.isoformat() if study.closed_at else None,
    }
    return pa.Table.from_pylist([row])


def release_tables(
    study: Study, options: ReleaseOptions, progress: Callable[[str], None] = lambda _: None
) -> ReleaseTables:
    """Every table of a release of `study`, privacy applied. `progress` hears each step."""
    names = _published_models(study, options.withhold_model_names)
    found = ReleaseTables(model_names=names)
    progress("prompts")
    found.tables["prompts"] = _prompts(study)
    progress("outputs")
    found.tables["outputs"] = _outputs(study, names, options.withhold_model_names)
    progress("items")
    found.tables["items"] = _items(study, names)
    progress("judgments")
    judgments, found.exclusions = _judgments(study, options.include_comments)
    found.tables["judgments"] = judgments
    progress("item aggregate")
    found.tables["item_aggregate"] = item_aggregate(judgments)
    found.tables["instrument"] = _instrument(study)
    found.tables["config"] = _config(study, names, options.withhold_model_names)
    return found
