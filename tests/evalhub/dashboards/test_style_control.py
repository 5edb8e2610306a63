"""Style-controlled leaderboards on the dashboards, beside plain Bradley-Terry."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from evalhub.dashboards.selectors.style_control import (
    STYLE_KIND,
    global_style_leaderboard,
    study_style_leaderboard,
    style_inputs,
)
from evalhub.fits.models import SharedFit
from evalhub.fits.services import shared_fit_refresh
from evalhub.jobs.models import Job
from evalhub.outputs.models import Output
from evalhub.stats.style import DEFAULT_TOKENIZER
from evalhub.stats.style_control import style_controlled_leaderboard
from evalhub.studies.arena_import import arena_battles_import
from evalhub.studies.models import Judgment
from tests.evalhub.api.test_arena import conversation_row
from tests.evalhub.dashboards.conftest import add_human, add_llm
from tests.factories import lab_team

pytestmark = pytest.mark.django_db

N_PROMPTS = 40


def long_answer(i: int) -> str:
    return "## Answer\n" + "\n".join(
        f"- **point {k}** explained at length" for k in range(12 + i % 5)
    )


def short_answer(i: int) -> str:
    return "A short plain answer" + " indeed" * (i % 3)


@pytest.fixture
def verbose_study(study_builder):
    """The target writes long markdown on even prompts and wins exactly those battles."""
    study, items = study_builder(slug="verbose", baselines=["bard", "claude"], n_prompts=N_PROMPTS)
    for output in Output.objects.filter(prompt__prompt_set=study.prompt_set).select_related(
        "prompt", "model"
    ):
        i = output.prompt.position
        target_long = i % 2 == 0
        is_target = output.model.slug == "lima-65b"
        output.text = long_answer(i) if is_target == target_long else short_answer(i)
        output.save(update_fields=["text"])
    verdicts = ["target" if i % 2 == 0 else "baseline" for i in range(N_PROMPTS)]
    verdicts[1] = "tie"
    add_human(items, {"bard": verdicts, "claude": verdicts[::-1]})
    add_llm(items, {"bard": verdicts})
    return study


def fitted(study=None, groups=None):
    """The board a page shows once the shared fit is done (computed here, as a worker would)."""
    shared_fit_refresh(kind=STYLE_KIND, inputs=style_inputs(study, groups))
    if study is None:
        return global_style_leaderboard(groups=groups)
    return study_style_leaderboard(study, groups=groups)


def test_it_controls_for_length_and_markdown(verbose_study):
    board = fitted(verbose_study)
    assert board["current"] is True and board["updating"] is False
    assert (
        board is not None and board["n_battles"] == 4 * N_PROMPTS
    )  # crowd on both baselines, LLM in both orders
    assert board["tokenizers"] == [DEFAULT_TOKENIZER]
    by_model = {row["model"]: row for row in board["models"]}
    assert set(by_model) == {"lima-65b", "bard", "claude"}
    length = board["coefficients"][0]
    assert length["feature"] == "length" and length["points_per_sd"] > 0
    assert length["words"].startswith("+1 sd of length is worth +")
    for row in board["models"]:
        assert row["rank_change"] == row["plain_rank"] - row["rank"]
        assert row["lower"] <= row["rating"] <= row["upper"]


def test_it_equals_the_pure_fit_on_the_same_battles(verbose_study):
    board = fitted(verbose_study, groups=["crowd"])
    judgments = verbose_study.items.values_list(
        "judgments__verdict", "target_output__text", "baseline_output__text",
        "baseline_output__model__slug", "judgments__judge_group",
    )  # fmt: skip
    from evalhub.stats.style import RegexTokenCounter, style_features

    counter = RegexTokenCounter()
    names = ["bard", "claude", "lima-65b"]
    a, b, o, sa, sb = [], [], [], [], []
    for verdict, target_text, baseline_text, baseline, group in judgments:
        if group != "crowd":
            continue
        a.append(2)
        b.append(names.index(baseline))
        o.append({"target": 1, "tie": 0, "baseline": -1}[verdict])
        for side, text in ((sa, target_text), (sb, baseline_text)):
            f = style_features(text, counter)
            side.append((f.tokens, f.headers, f.lists, f.bold))
    pure = style_controlled_leaderboard(np.array(a), np.array(b), np.array(o), np.array(sa),
                                        np.array(sb), names, rounds=100, seed=0)  # fmt: skip
    for row in board["models"]:
        assert row["rating"] == pytest.approx(pure.ratings[names.index(row["model"])], abs=1e-9)
    assert [c["coefficient"] for c in board["coefficients"]] == pytest.approx(
        pure.coefficients.tolist(), abs=1e-12
    )


def test_it_uses_given_style_and_the_models_own_token_counts(verbose_study):
    target = Output.objects.filter(
        model__slug="lima-65b", prompt__prompt_set=verbose_study.prompt_set
    )
    first, second = target.order_by("prompt__position")[:2]
    first.provenance = {"style": {"tokens": 900, "headers": 0, "lists": 0, "bold": 0,
                                  "tokenizer": "given (conv_metadata)"}}  # fmt: skip
    first.save(update_fields=["provenance"])
    second.provenance = {"completion_tokens": 77}
    second.save(update_fields=["provenance"])
    board = fitted(groups=["crowd", "llm:gpt-4"])
    assert board is not None
    assert "given (conv_metadata)" in board["tokenizers"]
    assert any(t.startswith("model:lima-65b") for t in board["tokenizers"])
    assert DEFAULT_TOKENIZER in board["tokenizers"]


def test_it_pools_imported_arena_battles_with_the_crowd(verbose_study):
    given = {"sum_assistant_a_tokens": 300, "sum_assistant_b_tokens": 40}
    rows = [(i + 1, conversation_row(i, model_a="bard", model_b="lima-65b",
                                     **({"conv_metadata": given} if i % 2 else {})))
            for i in range(10)]  # fmt: skip
    arena_battles_import(team=lab_team(), name="pooled", rows=rows, imported_from="battles.json")
    crowd = fitted(groups=["crowd"])
    pooled = fitted(groups=["arena", "crowd"])
    assert pooled["n_battles"] == crowd["n_battles"] + 10
    # the Arena's bard and lima-65b are the study's own models, not new ones
    assert {row["model"] for row in pooled["models"]} == {"lima-65b", "bard", "claude"}
    assert pooled["tokenizers"] == sorted(["given (conv_metadata)", DEFAULT_TOKENIZER])


def test_a_page_never_fits_it_shows_pending_then_the_last_fit_as_updating(verbose_study):
    # First look: nothing fitted yet; the page queues the worker's job and shows no numbers.
    assert study_style_leaderboard(verbose_study) == {"pending": True}
    fit = SharedFit.objects.get(kind=STYLE_KIND)
    assert fit.status == SharedFit.Status.PENDING and fit.compute_runs == 0
    assert Job.objects.filter(pk=fit.job_id, kind=Job.Kind.FIT).exists()
    before = fitted(verbose_study)
    # A new judgment: the page shows the last fit, marked updating, never as current.
    Judgment.objects.filter(item__study=verbose_study).order_by("id").first().delete()
    after = study_style_leaderboard(verbose_study)
    assert after["updating"] is True and after["current"] is False
    assert after["n_battles"] == before["n_battles"]


def test_the_pages_show_both_leaderboards(client, alice, verbose_study):
    client.force_login(alice)
    fitted(verbose_study)
    fitted()
    for url in (reverse("dashboards:study", args=["verbose"]), reverse("dashboards:overview")):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Style-controlled leaderboard" in page
        assert "+1 sd of length is worth +" in page
        assert response.context["style_board"]["models"]
