"""Cached stats go stale the moment a judgment is written."""

from __future__ import annotations

import pytest

from evalhub.dashboards.cache import stats_version, study_stats_invalidate
from evalhub.dashboards.selectors import global_leaderboard, study_results
from evalhub.studies.models import Item, Judgment
from evalhub.studies.signals import judgments_bulk_written_send
from tests.evalhub.dashboards.conftest import add_human
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def _crowd(results: dict) -> tuple[int, int, int]:
    (row,) = [r for r in results["pairwise"] if r["judge_group"] == "crowd"]
    return row["wins"], row["ties"], row["losses"]


def test_results_are_served_from_the_cache_until_a_judgment_is_written(study_builder):
    study, items = study_builder(slug="cached", baselines=["bard"], n_prompts=3)
    add_human(items, {"bard": ["target", "tie", "baseline"]})
    first = study_results(study)
    assert study_results(study)["computed_at"] == first["computed_at"]  # cached
    judgment = Judgment.objects.create(
        item=items[("bard", 0)], judge_group="crowd", verdict="target"
    )
    fresh = study_results(study)
    assert fresh["version"] > first["version"]
    assert _crowd(fresh) == (2, 1, 1)
    judgment.verdict = "baseline"
    judgment.save()
    assert _crowd(study_results(study)) == (1, 1, 2)
    judgment.delete()
    assert _crowd(study_results(study)) == (1, 1, 1)


def test_a_write_invalidates_only_its_own_study(study_builder):
    one, one_items = study_builder(slug="one", baselines=["bard"], n_prompts=2)
    two, two_items = study_builder(slug="two", baselines=["claude"], n_prompts=2)
    add_human(one_items, {"bard": ["target", "tie"]})
    add_human(two_items, {"claude": ["tie", "tie"]})
    before_two = stats_version(two.pk)
    before_one = stats_version(one.pk)
    Judgment.objects.create(item=one_items[("bard", 1)], judge_group="crowd", verdict="target")
    assert stats_version(one.pk) > before_one
    assert stats_version(two.pk) == before_two


def test_bulk_writes_invalidate_through_the_service_hook(study_builder):
    study, items = study_builder(slug="bulk", baselines=["bard"], n_prompts=2)
    add_human(items, {"bard": ["target", "target"]})
    assert _crowd(study_results(study)) == (2, 0, 0)
    assert global_leaderboard()["models"][0]["n_battles"] >= 2
    # bulk_create sends no signals: the cache still holds the old numbers ...
    Judgment.objects.bulk_create(
        [Judgment(item=items[("bard", 0)], judge_group="crowd", verdict="baseline")]
    )
    assert _crowd(study_results(study)) == (2, 0, 0)
    # ... until the writer calls the hook.
    study_stats_invalidate(study.pk)
    assert _crowd(study_results(study)) == (2, 0, 1)


def test_a_bulk_write_announced_by_its_writer_invalidates(study_builder):
    study, items = study_builder(slug="announced", baselines=["bard"], n_prompts=2)
    add_human(items, {"bard": ["target", "target"]})
    assert _crowd(study_results(study)) == (2, 0, 0)
    Judgment.objects.bulk_create(
        [Judgment(item=items[("bard", 0)], judge_group="crowd", verdict="baseline")]
    )
    judgments_bulk_written_send(study.pk)  # what judgments_import and the judge writer call
    assert _crowd(study_results(study)) == (2, 0, 1)


def test_a_new_study_with_a_reused_id_is_not_served_old_stats(study_builder):
    study, items = study_builder(slug="old", baselines=["bard"], n_prompts=2)
    add_human(items, {"bard": ["target", "target"]})
    study_results(study)  # cached under the study's id
    old_id = study.pk
    # As after the database is recreated: another study gets the same id.
    Judgment.objects.filter(item__study=study).delete()
    Item.objects.filter(study=study).delete()
    study.delete()
    before = stats_version(old_id)
    StudyFactory(pk=old_id, slug="new")
    assert stats_version(old_id) > before


def test_filtered_variants_are_cached_apart(study_builder):
    study, items = study_builder(slug="variants", baselines=["bard"], n_prompts=2)
    add_human(items, {"bard": ["target", "tie"]})
    add_human(items, {"bard": ["baseline", "baseline"]}, group="author")
    assert {r["judge_group"] for r in study_results(study)["pairwise"]} == {"crowd", "author"}
    assert {r["judge_group"] for r in study_results(study, groups=["author"])["pairwise"]} == {
        "author"
    }
