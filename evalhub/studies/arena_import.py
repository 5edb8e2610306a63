"""Import Chatbot Arena battles (evalhub.studies.arena_rows) as EvalHub data, in one transaction.

A battle becomes a prompt (its first user turn; the question id as external id) in the
import's prompt set, one output per side (the assistant turns), an item of the import's
pairwise study (model_a as the item's target, shown first) and one judgment whose verdict is
the winner from model_a's side ("tie (bothbad)" is a tie; the raw winner is kept). Judges
become crowd raters known only by a keyed hash of their Arena id (as Prolific ids are);
judgments carry `judge_group` (default "arena") and `imported_from`. Outputs keep their
provenance: format, question id, language, turn, anony, tstamp and, where the row had
conv_metadata, FastChat's style counts as given (provenance["style"]: those of tokens,
headers, lists and bold it gave, and the tokenizer "given (conv_metadata)" when it gave the
tokens; evalhub.dashboards.selectors.style_control counts the rest).

Importing into the same name again adds only battles whose question id is new there, so a
large file can arrive in several requests and a repeated request changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from evalhub.importing import InputError, Row, RowProblem
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.arena_rows import GIVEN_TOKENIZER, ArenaBattle, read_arena_battles
from evalhub.studies.bulk_copy import copy_insert
from evalhub.studies.models import Item, Judgment, Rater, Study
from evalhub.studies.signals import judgments_bulk_written_send
from evalhub.teams.models import Team

VERDICTS = {"model_a": "target", "model_b": "baseline", "tie": "tie", "tie (bothbad)": "tie"}
BATCH = 5000  # raters per INSERT


@dataclass(frozen=True)
class ArenaImportResult:
    study: str
    prompt_set: str
    created: int
    unchanged: int
    models: int
    raters: int

    @property
    def changed_nothing(self) -> bool:
        return self.created == 0


def arena_judge_hash(judge: str) -> str:
    """Keyed hash (HMAC-SHA256, settings.RATER_ID_HASH_KEY) of an Arena judge id."""
    key = settings.RATER_ID_HASH_KEY.encode()
    return hmac.new(key, f"arena:{judge}".encode(), hashlib.sha256).hexdigest()


def _models(team: Team, battles: list[ArenaBattle]) -> dict[str, ModelEntry]:
    """The team's models the battles name, made where missing (slugs are unique within a
    team: another team's model of the same slug is not in the way)."""
    names = {b.model_a for b in battles} | {b.model_b for b in battles}
    slugs = {name: slugify(name)[:100] or "model" for name in names}
    ModelEntry.objects.bulk_create(
        [ModelEntry(team=team, slug=slug, name=name[:200]) for name, slug in slugs.items()],
        ignore_conflicts=True,
    )
    by_slug = {m.slug: m for m in ModelEntry.objects.filter(team=team, slug__in=slugs.values())}
    return {name: by_slug[slug] for name, slug in slugs.items()}


def _raters(battles: list[ArenaBattle]) -> dict[str, int]:
    hashes = {b.judge: arena_judge_hash(b.judge) for b in battles if b.judge}
    Rater.objects.bulk_create(
        [Rater(group=Rater.Group.CROWD, external_id_hash=h) for h in hashes.values()],
        ignore_conflicts=True,
        batch_size=BATCH,
    )
    ids = dict(
        Rater.objects.filter(external_id_hash__in=list(hashes.values())).values_list(
            "external_id_hash", "id"
        )
    )
    return {judge: ids[h] for judge, h in hashes.items()}


def _style(counts: dict[str, int]) -> dict[str, object]:
    if not counts:
        return {}
    tokenizer = {"tokenizer": GIVEN_TOKENIZER} if "tokens" in counts else {}
    return {"style": {**counts, **tokenizer}}


def _output(battle: ArenaBattle, prompt_id: int, model_id: int, side: str, source: str) -> dict:
    answers = battle.answers_a if side == "a" else battle.answers_b
    provenance = {
        "imported_from": source,
        "arena": {"question_id": battle.question_id, "side": side, **battle.meta},
        **_style(battle.style_a if side == "a" else battle.style_b),
    }
    # html stays empty until a study shows it (evalhub.outputs.services.output_fields)
    return {
        "prompt_id": prompt_id,
        "model_id": model_id,
        "text": "\n".join(answers),
        "turns": answers if len(answers) > 1 else [],
        "provenance": provenance,
    }


@transaction.atomic
def arena_battles_import(
    *,
    team: Team,
    name: str,
    rows: list[Row],
    imported_from: str,
    judge_group: str = "arena",
) -> ArenaImportResult:
    """Import Arena battles into the study and prompt set named after `name`.

    Raises InputError (nothing written) for any bad row, naming its line and field."""
    slug = slugify(name)[:90]
    if not slug:
        raise InputError.single(0, "must contain letters or digits", "name")
    if not imported_from.strip() or len(imported_from) > 200:
        raise InputError.single(0, "must be 1 to 200 characters", "imported_from")
    if not judge_group.strip() or len(judge_group) > 120 or judge_group.startswith("llm:"):
        raise InputError.single(0, 'must be 1 to 120 characters, not "llm:..."', "judge_group")
    battles = read_arena_battles(rows)
    prompt_set, _ = PromptSet.objects.get_or_create(
        team=team, slug=f"arena-{slug}", defaults={"name": name[:200]}
    )
    known = set(prompt_set.prompts.values_list("external_id", flat=True))
    new = [b for b in battles if b.question_id not in known]
    models = _models(team, battles)
    same = [b for b in battles if models[b.model_a].pk == models[b.model_b].pk]
    if same:  # e.g. "GPT 4" and "gpt-4": one slug, so one model (rolled back)
        raise InputError([RowProblem(b.line, "names the same model as model_a once made a slug",
                                     "model_b") for b in same])  # fmt: skip
    study = Study.objects.filter(team=team, slug=f"arena-{slug}").first()
    if study is None:
        study = Study.objects.create(
            team=team, slug=f"arena-{slug}", name=name[:200], kind=Study.Kind.PAIRWISE,
            prompt_set=prompt_set, target_model=models[battles[0].model_a], raters_per_item=1,
            status=Study.Status.CLOSED,
            config={"imported": "chatbot-arena", "source": imported_from},
        )  # fmt: skip
    study.baselines.add(*{m for m in models.values() if m.pk != study.target_model_id})
    if not new:
        return ArenaImportResult(study.slug, prompt_set.slug, 0, len(battles), len(models), 0)
    raters = _raters(new)
    start = prompt_set.prompts.count()
    # Rows are generated as COPY reads them: no list of 100k dicts is held at once.
    n = len(new)
    prompt_ids = copy_insert(Prompt, (
        {"prompt_set_id": prompt_set.pk, "external_id": b.question_id, "text": b.user_turns[0],
         "source": "chatbot-arena", "position": start + i}
        for i, b in enumerate(new)
    ), n)  # fmt: skip
    output_ids = copy_insert(Output, (
        _output(b, prompt_id, models[b.model_a if side == "a" else b.model_b].pk, side,
                imported_from)
        for b, prompt_id in zip(new, prompt_ids, strict=True)
        for side in ("a", "b")
    ), 2 * n)  # fmt: skip
    item_ids = copy_insert(Item, (
        {"study_id": study.pk, "prompt_id": prompt_id, "target_output_id": output_ids[2 * i],
         "baseline_output_id": output_ids[2 * i + 1], "judgment_count": 1}
        for i, prompt_id in enumerate(prompt_ids)
    ), n)  # fmt: skip
    copy_insert(Judgment, (
        {"item_id": item_id, "rater_id": raters.get(b.judge), "judge_group": judge_group,
         "order": Judgment.Order.TARGET_FIRST.value, "raw_choice": b.winner,
         "verdict": VERDICTS[b.winner], "imported_from": imported_from}
        for b, item_id in zip(new, item_ids, strict=True)
    ), n)  # fmt: skip
    judgments_bulk_written_send(study.id)
    return ArenaImportResult(
        study.slug, prompt_set.slug, len(new), len(battles) - len(new), len(models), len(raters)
    )


def arena_import_preview(*, team: Team, rows: list[Row]) -> dict[str, object]:
    """What importing these rows would do, without writing: format, battles per model and
    every problem (row, field, message)."""
    try:
        battles = read_arena_battles(rows)
    except InputError as exc:
        problems = [{"row": p.row, "field": p.field, "message": p.message} for p in exc.problems]
        return {"format": "Chatbot Arena", "problems": problems}
    formats = sorted({b.meta["format"] for b in battles})
    models: dict[str, int] = {}
    for b in battles:
        for name in (b.model_a, b.model_b):
            models[name] = models.get(name, 0) + 1
    known = set(ModelEntry.objects.filter(team=team, slug__in=[slugify(n) for n in models])
                .values_list("slug", flat=True))  # fmt: skip
    return {
        "format": ", ".join(formats),
        "models": dict(sorted(models.items())),
        "new_models": sorted(n for n in models if slugify(n) not in known),
        "problems": [],
    }
