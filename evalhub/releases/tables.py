"""A study's rows as Arrow tables, the content of a release: prompts, outputs (with
provenance), items, judgments, the instrument, the frozen config and a per-item aggregate.

Each table is one SELECT that PostgreSQL hands over as CSV and pyarrow parses
(evalhub.releases.db_arrow): what can be computed in SQL is (null for blank, left and right
outputs, counted); what needs Python is done once per rater or per model, never per row.
Privacy is applied here, before anything is written: raters appear only as a per-study keyed
hash, rater free text only when asked for, and model names can be replaced by roles
("target", "baseline-1", ...)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Extract, NullIf

from evalhub.crowd.models import RaterExclusion
from evalhub.dashboards.selectors.frames import EXCLUDED_PARSE_STATES, LLM_PREFIX
from evalhub.outputs.models import Output
from evalhub.releases.db_arrow import queryset_table
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


def _text(field: str) -> Cast:
    """A JSON column as its text, written by PostgreSQL (the same JSON, parsed the same)."""
    return Cast(field, TextField())


def _renamed(table: pa.Table, column: str, names: dict[str, str]) -> pa.Table:
    """`column`'s model slugs replaced by their published names (roles when withheld)."""
    if all(k == v for k, v in names.items()):
        return table
    slugs = pa.array(list(names), pa.string())
    shown = pc.take(pa.array(list(names.values()), pa.string()), pc.index_in(table[column], slugs))
    kept = pc.if_else(pc.is_null(shown), table[column], shown)
    return table.set_column(table.column_names.index(column), column, kept)


def prompt_rows(study: Study) -> QuerySet:
    from evalhub.prompts.models import Prompt

    used = Item.objects.filter(study=study).values("prompt_id")
    return (
        Prompt.objects.filter(pk__in=used)
        .order_by("id")  # id order: an import recreates the same order, the same bootstrap
        .values_list("external_id", "position", "text", _text("context"), "category", "source",
                     "reference")
    )  # fmt: skip


def output_rows(study: Study) -> QuerySet:
    items = Item.objects.filter(study=study)
    used = Output.objects.filter(pk__in=items.values("target_output_id")) | Output.objects.filter(
        pk__in=items.values("baseline_output_id")
    )
    return used.order_by("id").values_list(
        "id", "prompt__external_id", "model__slug", "sample_index", "text", _text("turns"),
        _text("provenance"),
    )  # fmt: skip


def item_rows(study: Study) -> QuerySet:
    return (
        Item.objects.filter(study=study)
        .order_by("id")
        .values_list("id", "prompt__external_id", "target_output_id", "baseline_output_id",
                     "target_output__model__slug", "baseline_output__model__slug", "is_gold",
                     "gold_answer")
    )  # fmt: skip


def _outputs(study: Study, names: dict[str, str], withhold: bool) -> pa.Table:
    table = _renamed(queryset_table(output_rows(study), OUTPUT_SCHEMA), "model", names)
    if withhold:  # model names may sit anywhere in the provenance: rewrite each one
        scrubbed = [_json(_scrub(json.loads(p), names)) for p in table["provenance"].to_pylist()]
        table = table.set_column(6, "provenance", pa.array(scrubbed, pa.string()))
    return table


def _items(study: Study, names: dict[str, str]) -> pa.Table:
    table = _renamed(queryset_table(item_rows(study), ITEM_SCHEMA), "target_model", names)
    return _renamed(table, "baseline_model", names)


def _judgment_columns(include_comments: bool) -> list[Any]:
    """The SELECT of the judgments table, in JUDGMENT_SCHEMA's order (rater and
    exclusion_reason are filled in afterwards, from the rater's id)."""
    target, baseline = F("item__target_output_id"), F("item__baseline_output_id")

    def blank_null(column: Any) -> NullIf:  # stored blank, published null
        return NullIf(column, Value(""), output_field=TextField())

    counted = (
        ~Q(item__is_gold=True)
        & ~Q(is_attention_check=True)
        & ~Q(excluded=True)
        & ~Q(parse_state__in=EXCLUDED_PARSE_STATES)
    )
    columns = [
        "id", "item_id", "item__prompt__external_id",
        Case(When(judge_group__startswith=LLM_PREFIX, then=Value("llm")), default=Value("human")),
        "judge_group", "rater_id", "judge__slug", "order",
        blank_null("assignment__target_side"),
        Case(When(order=Judgment.Order.BASELINE_FIRST, then=baseline), default=target),
        Case(When(order=Judgment.Order.BASELINE_FIRST, then=target),
             When(order=Judgment.Order.TARGET_FIRST, then=baseline), default=None),
        "raw_choice", blank_null("verdict"), "score", "preference",
        NullIf(_text("turn_labels"), Value("[]"), output_field=TextField()),
        "time_on_task_ms", "too_fast", "is_attention_check", blank_null("parse_state"),
        "excluded", Value(None, output_field=TextField()),
        ExpressionWrapper(counted, output_field=BooleanField()),
        blank_null("raw_response"), "tokens_in", "tokens_out",
        Cast(Extract("created_at", "epoch") * Value(1_000_000), BigIntegerField()),
    ]  # fmt: skip
    return [*columns, blank_null("comment")] if include_comments else columns


def judgment_rows(study: Study, include_comments: bool = False) -> QuerySet:
    return (
        Judgment.objects.filter(item__study=study)
        .order_by("id")
        .values_list(*_judgment_columns(include_comments))
    )


def _judgments(study: Study, include_comments: bool) -> tuple[pa.Table, list[dict[str, Any]]]:
    reasons = _exclusion_reasons(study)
    schema = JUDGMENT_SCHEMA.set(5, pa.field("rater", pa.int64()))
    if include_comments:
        schema = schema.append(pa.field("comment", pa.string()))
    table = queryset_table(judgment_rows(study, include_comments), schema)
    # Per rater, not per row: a few thousand hashes and reasons, then looked up by index.
    rater_ids = pc.unique(table["rater"].drop_null())
    where = pc.index_in(table["rater"], rater_ids)
    hashed = pa.array([rater_pseudonym(study.pk, r) for r in rater_ids.to_pylist()], pa.string())
    reason = pa.array([reasons.get(r, ("",))[0] or None for r in rater_ids.to_pylist()],
                      pa.string())  # fmt: skip
    excluded_reason = pc.if_else(table["excluded"], pc.take(reason, where), None)
    table = table.set_column(5, "rater", pc.take(hashed, where))
    table = table.set_column(21, "exclusion_reason", excluded_reason)
    exclusions = [
        {"rater": rater_pseudonym(study.pk, r), "reason": why, "judgments": n}
        for r, (why, n) in sorted(reasons.items())
    ]
    return table, exclusions


def item_aggregate(judgments: pa.Table) -> pa.Table:
    """Per (item, judge group), over counted judgments: how many, how many of each verdict,
    the mean score, and the majority verdict (null on a tie for the most)."""
    counted = judgments.filter(pc.field("counted"))
    verdicts = ["target", "tie", "baseline", "fail", "pass", "excellent"]
    counted = counted.append_column(
        "n", pa.array(np.ones(counted.num_rows, dtype=np.int64))
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
    counts = np.column_stack([grouped[f"n_{v}"].to_numpy() for v in verdicts])
    top = counts.max(axis=1, initial=0)
    alone = ((counts == top[:, None]) & (counts > 0)).sum(axis=1) == 1
    winner = np.array(verdicts, dtype=object)[counts.argmax(axis=1)]
    grouped = grouped.append_column("majority", pa.array(winner, pa.string(), mask=~alone))
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
    found.tables["prompts"] = queryset_table(prompt_rows(study), PROMPT_SCHEMA)
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
