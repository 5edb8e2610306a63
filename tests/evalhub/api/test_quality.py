"""A study's quality_rules and gold prompts over the API: PATCH merges, bad values name
their field, the bonus list pays the rule, raters are scored on gold prompts."""

import numpy as np
import pytest

from evalhub.audit.selectors import object_history
from evalhub.crowd.prolific import prolific_match
from evalhub.crowd.selectors import raters_table
from evalhub.rating.models import RaterSession
from evalhub.rating.services import session_start_crowd
from evalhub.studies.models import GoldPrompt, Item, Judgment, Study
from evalhub.teams.models import AuditEvent
from tests.evalhub.crowd.fixtures import crowd_study_fixture  # noqa: F401
from tests.evalhub.crowd.simulation import TRUTH
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _edits(study):
    """The study's edits in its team's audit log (the log also holds its launch)."""
    edit = {AuditEvent.Action.EDIT, AuditEvent.Action.SETTINGS_CHANGE}
    return [e for e in object_history(study, team=study.team) if e.action in edit]


def test_quality_rules_are_patched_and_the_bonus_list_pays_them(api, make_study):
    study = make_study(prompts=3)
    url = f"/api/v1/studies/{study.slug}/"
    answer = api.patch(url, {"quality_rules": {"bonus_per_judgment": "0.05"}}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["quality_rules"] == {"bonus_per_judgment": "0.05"}
    more = api.patch(url, {"quality_rules": {"spam_odds": 50}}, format="json")
    assert more.json()["quality_rules"] == {"bonus_per_judgment": "0.05", "spam_odds": 50}
    assert api.get(url).json()["quality_rules"]["spam_odds"] == 50
    # Each change is recorded: who, when, before and after (the same rules again: nothing).
    api.patch(url, {"quality_rules": {"spam_odds": 50}}, format="json")
    edits = _edits(study)[::-1]
    assert [(e.before["quality_rules"], e.after["quality_rules"]) for e in edits] == [
        ({}, {"bonus_per_judgment": "0.05"}),
        ({"bonus_per_judgment": "0.05"}, {"bonus_per_judgment": "0.05", "spam_odds": 50}),
    ]
    assert {e.actor.username for e in edits} == {"alice"} and all(e.at for e in edits)
    timed = api.patch(url, {"quality_rules": {"min_timed_judgments": 8}}, format="json")
    assert timed.json()["quality_rules"]["min_timed_judgments"] == 8

    session = session_start_crowd(study=study, participant_id="PIDPAID")
    RaterSession.objects.filter(pk=session.pk).update(status=RaterSession.Status.COMPLETED)
    for item in study.items.filter(is_gold=False)[:2]:
        Judgment.objects.create(item=item, rater_id=session.rater_id, judge_group="crowd",
                                verdict="tie", raw_choice="tie")  # fmt: skip
    study.refresh_from_db()
    lists = prolific_match(study=study, text="Participant id,Status\nPIDPAID,AWAITING REVIEW\n")
    assert lists.bonus == [("PIDPAID", "0.10")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quality_rules": {"bonus_per_judgment": 0.05}}, "quality_rules.bonus_per_judgment"),
        ({"quality_rules": {"bonus_per_judgment": "0.005"}}, "quality_rules.bonus_per_judgment"),
        ({"quality_rules": {"spam_odds": "big"}}, "quality_rules.spam_odds"),
        ({"quality_rules": {"min_timed_judgments": 0}}, "quality_rules.min_timed_judgments"),
        ({"quality_rules": {"nope": 1}}, "quality_rules.nope"),
    ],
)
def test_a_bad_rule_names_its_field_and_saves_nothing(api, make_study, body, field):
    study = make_study(prompts=2)
    answer = api.patch(f"/api/v1/studies/{study.slug}/", body, format="json")
    assert answer.status_code in (400, 409), answer.content
    assert field in {p["field"] for p in answer.json()["problems"]}, answer.json()
    assert Study.objects.get(pk=study.pk).quality_rules == {}


def test_gold_prompts_are_marked_and_raters_scored_on_them(api, crowd_study):
    study, made = crowd_study
    url = f"/api/v1/studies/{study.slug}/gold/"
    # The planted truth as the expected answer on 40 prompts (one item each).
    rng = np.random.default_rng(0)
    items = list(Item.objects.filter(study=study, is_gold=False).order_by("id"))
    truth = rng.choice(3, size=len(items), p=TRUTH)
    gold = {
        item.prompt.external_id: ("baseline", "tie", "target")[int(t)]
        for item, t in zip(items[:40], truth[:40], strict=True)
    }
    prompts = list(gold)
    answer = api.patch(url, {"gold": gold}, format="json")
    assert answer.status_code == 200, answer.content
    assert api.get(url).json()["gold"] == dict(sorted(gold.items()))
    assert GoldPrompt.objects.filter(study=study).count() == 40
    rows = {r["rater"]: r for r in raters_table(study)["raters"]}
    # Every random and left-clicking rater fails the gold prompts; no honest one does.
    for rater in made["random"] + made["left"]:
        assert rows[rater]["evidence"]["gold_items"].startswith("right on "), rows[rater]
    assert not any("gold_items" in rows[r]["flags"] for r in made["honest"])
    bad = api.patch(url, {"gold": {"no-such-prompt": "target", prompts[0]: "maybe"}},
                    format="json")  # fmt: skip
    assert bad.status_code == 409
    assert [p["row"] for p in bad.json()["problems"]] == [1, 2]
    unmark = api.patch(url, {"gold": {prompts[0]: ""}}, format="json")
    assert prompts[0] not in unmark.json()["gold"]
    # Marking and unmarking are recorded (a refused change is not).
    unmarked, marked = _edits(study)
    assert marked.after["gold"] == gold and marked.before["gold"] == dict.fromkeys(gold, "")
    assert unmarked.before == {"gold": {prompts[0]: gold[prompts[0]]}}
    assert unmarked.after == {"gold": {prompts[0]: ""}} and unmarked.actor.username == "alice"


def test_aggregated_labels_per_item_in_the_api_and_the_export(api, crowd_study, tmp_path):
    from django.core.management import call_command

    study, _ = crowd_study
    answer = api.get(f"/api/v1/studies/{study.slug}/items/labels/?page_size=1000")
    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert len(rows) == answer.json()["count"] == 100
    verdicts = {"target", "tie", "baseline"}
    for row in rows:
        assert sum(row["votes"].values()) == Judgment.objects.filter(item_id=row["item"]).count()
        assert row["reliability_weighted"] in verdicts
        top = max(row["votes"].values())
        leaders = [v for v, n in row["votes"].items() if n == top]
        assert row["majority"] == (leaders[0] if len(leaders) == 1 else "tie")
    out = tmp_path / "labels.csv"
    call_command(
        "export_item_labels", "--team", study.team.slug, "--study", study.slug, "-o", str(out)
    )
    lines = out.read_text().splitlines()
    assert lines[0] == (
        "item,prompt,target,baseline,votes,majority,reliability_weighted,reliability_weighted_state"
    )
    assert len(lines) == 101
