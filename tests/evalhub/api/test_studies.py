"""Studies through the API: create, launch and close (evalhub.studies.services), results."""

import pytest

from evalhub.studies.models import Item, Judgment, Study
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

STUDY = {
    "slug": "lima-vs-davinci",
    "name": "LIMA vs DaVinci003",
    "kind": "pairwise",
    "prompt_set": "eval",
    "target_model": "lima",
    "baselines": ["davinci"],
    "raters_per_item": 1,
    "attention_check_rate": 0.0,
}


def test_it_creates_launches_and_closes_a_study(api, alice, pair_models):
    created = api.post("/api/v1/studies/", STUDY, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft"
    assert created["Location"] == "/api/v1/studies/lima-vs-davinci/"
    study = Study.objects.get(slug="lima-vs-davinci")
    assert study.created_by == alice and list(study.baselines.values_list("slug", flat=True)) == [
        "davinci"
    ]

    launched = api.post("/api/v1/studies/lima-vs-davinci/launch/")
    assert launched.status_code == 200, launched.json()
    body = launched.json()
    assert body["status"] == "launched" and len(body["config_hash"]) == 64
    assert body["item_count"] == 3 == Item.objects.filter(study=study, is_gold=False).count()

    again = api.post("/api/v1/studies/lima-vs-davinci/launch/")
    assert again.status_code == 409
    assert "only a draft can launch" in again.json()["detail"]

    closed = api.post("/api/v1/studies/lima-vs-davinci/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert api.post("/api/v1/studies/lima-vs-davinci/close/").status_code == 409
    listing = api.get("/api/v1/studies/").json()
    assert [s["slug"] for s in listing["results"]] == ["lima-vs-davinci"]


def test_prompts_missing_an_output_are_left_out_and_the_rest_launch(api, pair_models, eval_set):
    pair_models[1].outputs.filter(prompt__external_id="q2").delete()
    api.post("/api/v1/studies/", STUDY, format="json")
    response = api.post("/api/v1/studies/lima-vs-davinci/launch/")
    assert response.status_code == 200, response.json()
    study = Study.objects.get()
    assert study.status == "launched" and study.config["prompts_left_out"] == ["q2"]
    real = Item.objects.filter(study=study, is_gold=False)
    assert sorted(real.values_list("prompt__external_id", flat=True)) == ["q1", "q3"]


def test_a_study_left_with_no_prompt_is_refused(api, pair_models, eval_set):
    pair_models[1].outputs.all().delete()
    api.post("/api/v1/studies/", STUDY, format="json")
    response = api.post("/api/v1/studies/lima-vs-davinci/launch/")
    assert response.status_code == 409
    (problem,) = response.json()["problems"]
    assert problem["message"] == (
        "no prompt of eval has an output from every chosen model (lima, davinci)"
    )
    assert problem["field"] == "target_model"
    assert Study.objects.get().status == "draft" and not Item.objects.exists()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"prompt_set": "nope"}, 409, "prompt_set"),
        ({"target_model": "nope"}, 409, "target_model"),
        ({"baselines": ["lima"]}, 409, "baselines"),
        ({"baselines": ["nope"]}, 409, "baselines"),
        ({"baselines": []}, 400, "baselines"),
        ({"kind": "ranking"}, 400, "kind"),
        ({"kind": "likert"}, 400, "baselines"),  # single-output studies take no baselines
        ({"raters_per_item": 0}, 400, "raters_per_item"),
        ({"raters_per_item": "3"}, 400, "raters_per_item"),
        ({"attention_check_rate": 0.9}, 400, "attention_check_rate"),
        ({"judges": ["nope"]}, 409, "judges"),
        ({"judges": {}}, 400, "judges"),
        ({"status": "launched"}, 400, "status"),
    ],
)
def test_a_bad_study_names_its_field(api, pair_models, change, status, field):
    response = api.post("/api/v1/studies/", {**STUDY, **change}, format="json")
    assert response.status_code == status
    assert field in [p["field"] for p in response.json()["problems"]]
    assert not Study.objects.exists()


def test_an_existing_study_slug_is_refused(api, pair_models):
    assert api.post("/api/v1/studies/", STUDY, format="json").status_code == 201
    again = api.post("/api/v1/studies/", STUDY, format="json")
    assert again.status_code == 409
    assert again.json()["problems"][0]["field"] == "slug"


def test_unknown_studies_are_404_everywhere(api):
    for path in ("", "launch/", "close/", "results/", "judgments/"):
        method = api.post if path in ("launch/", "close/") else api.get
        assert method(f"/api/v1/studies/nope/{path}").status_code == 404, path


def _judge(study: Study, verdicts: dict[str, list[str]], group: str) -> None:
    for item in Item.objects.filter(study=study, is_gold=False).select_related("prompt"):
        for verdict in verdicts[item.prompt.external_id]:
            Judgment.objects.create(item=item, judge_group=group, verdict=verdict)


def test_results_give_win_tie_loss_per_baseline_and_judge_group(api, pair_models):
    api.post("/api/v1/studies/", STUDY, format="json")
    api.post("/api/v1/studies/lima-vs-davinci/launch/")
    study = Study.objects.get()
    _judge(study, {"q1": ["target", "target"], "q2": ["tie"], "q3": ["baseline"]}, "crowd")
    _judge(study, {"q1": ["target"], "q2": ["target"], "q3": ["target"]}, "llm:tiny")
    response = api.get("/api/v1/studies/lima-vs-davinci/results/")
    assert response.status_code == 200
    body = response.json()
    assert body["study"] == "lima-vs-davinci" and body["kind"] == "pairwise"
    crowd, llm = body["pairwise"]
    assert (crowd["baseline"], crowd["judge_group"]) == ("davinci", "crowd")
    assert (crowd["wins"], crowd["ties"], crowd["losses"]) == (2, 1, 1)
    assert crowd["n_prompts"] == 3 and crowd["equivalent_or_preferred"] == 0.75
    assert 0 <= crowd["win_interval"]["low"] <= 0.5 <= crowd["win_interval"]["high"] <= 1
    assert (llm["judge_group"], llm["win_share"], llm["sign_test_p_value"]) == (
        "llm:tiny",
        1.0,
        0.25,
    )
    # The same judgments give the same numbers every time.
    assert api.get("/api/v1/studies/lima-vs-davinci/results/").json() == body


def test_results_of_an_absolute_study_are_label_shares(api, pair_models):
    study = StudyFactory(slug="abs", kind="absolute", prompt_set=pair_models[0].outputs.first().prompt.prompt_set,
                         target_model=pair_models[0], attention_check_rate=0)  # fmt: skip
    assert api.post("/api/v1/studies/abs/launch/").status_code == 200
    _judge(study, {"q1": ["excellent"], "q2": ["pass"], "q3": ["fail"]}, "author")
    body = api.get("/api/v1/studies/abs/results/").json()
    (labels,) = body["labels"]
    assert (labels["model"], labels["judge_group"], labels["n_ratings"]) == ("lima", "author", 3)
    assert [(s["label"], s["count"]) for s in labels["shares"]] == [
        ("Fail", 1), ("Pass", 1), ("Excellent", 1)
    ]  # fmt: skip


def test_results_of_a_draft_study_answer_200(api, pair_models):
    api.post("/api/v1/studies/", STUDY, format="json")
    response = api.get("/api/v1/studies/lima-vs-davinci/results/?groups=crowd")
    assert response.status_code == 200
    assert (response.json()["study"], response.json()["status"]) == ("lima-vs-davinci", "draft")
