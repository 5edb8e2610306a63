"""/api/v1/studies/<slug>/raters/...: the table, exclude / include, Prolific matching."""

import pytest
import yaml

from evalhub.crowd.models import RaterExclusion
from evalhub.rating.services import session_start_crowd
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_close
from tests.evalhub.crowd.fixtures import crowd_study_fixture  # noqa: F401
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_schema_documents_the_raters_endpoints(anon_api):
    schema = yaml.safe_load(anon_api.get("/api/schema/").content)
    paths = schema["paths"]
    for path in ("raters/", "raters/exclude/", "raters/include/", "raters/prolific/"):
        assert f"/api/v1/studies/{{slug}}/{path}" in paths
    prolific = paths["/api/v1/studies/{slug}/raters/prolific/"]["post"]
    assert {"text/csv", "application/json"} <= set(prolific["requestBody"]["content"])
    assert "409" in paths["/api/v1/studies/{slug}/raters/exclude/"]["post"]["responses"]


def test_the_table_sorts_filters_and_pages(api, crowd_study):
    study, made = crowd_study
    response = api.get(f"/api/v1/studies/{study.slug}/raters/?sort=-left_share&page_size=4")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 24 and len(body["results"]) == 4
    assert {r["rater"] for r in body["results"]} == set(made["left"])
    assert body["excluded"] == {"raters": 0, "judgments": 0} and body["scale"] == "pairwise"
    flagged = api.get(f"/api/v1/studies/{study.slug}/raters/?flagged=true&page_size=100").json()
    assert flagged["count"] == 12
    bad = api.get(f"/api/v1/studies/{study.slug}/raters/?sort=bogus")
    assert bad.status_code == 400 and bad.json()["problems"][0]["field"] == "sort"


def test_exclude_flagged_and_include_again(
    api, alice, crowd_study, django_capture_on_commit_callbacks
):
    study, made = crowd_study
    url = f"/api/v1/studies/{study.slug}/raters/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url + "exclude/", {"flagged": True, "reason": "rules"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["excluded"] == {"raters": 12, "judgments": 720}
    results = api.get(f"/api/v1/studies/{study.slug}/results/").json()
    assert results["excluded"] == {"raters": 12, "judgments": 720}
    assert RaterExclusion.objects.filter(by=alice, reason="rules").count() == 12
    rater = made["left"][0]
    with django_capture_on_commit_callbacks(execute=True):
        back = api.post(url + "include/", {"raters": [rater], "reason": "ok"}, format="json")
    assert back.json() == {"raters": [rater], "judgments": 60,
                           "excluded": {"raters": 11, "judgments": 660}}  # fmt: skip
    table = api.get(url + "?excluded=true&page_size=100").json()
    assert table["count"] == 11


def test_bad_input_names_the_field_and_writes_nothing(api, rater_api, crowd_study):
    study, made = crowd_study
    url = f"/api/v1/studies/{study.slug}/raters/exclude/"
    unknown = api.post(url, {"raters": [made["left"][0], 987654], "reason": "x"}, format="json")
    # Well-formed, but the data refuses it: 409 (the API's rule), naming the field.
    assert unknown.status_code == 409
    assert unknown.json()["problems"][0]["field"] == "raters"
    assert "987654" in unknown.json()["problems"][0]["message"]
    missing = api.post(url, {"raters": made["left"]}, format="json")
    assert missing.status_code == 400 and missing.json()["problems"][0]["field"] == "reason"
    assert (
        rater_api.post(url, {"raters": made["left"], "reason": "x"}, format="json").status_code
        == 403
    )
    study_close(study=study)
    closed = api.post(url, {"raters": made["left"], "reason": "x"}, format="json")
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    assert not Judgment.objects.filter(excluded=True).exists()
    assert not RaterExclusion.objects.exists()


def test_prolific_matching_as_csv(api, make_study):
    study = make_study(prompts=3)
    session_start_crowd(study=study, participant_id="PIDACTIVE")
    body = "Participant id,Status\nPIDACTIVE,APPROVED\nNOBODY,APPROVED\n"
    response = api.generic(
        "POST", f"/api/v1/studies/{study.slug}/raters/prolific/", body, content_type="text/csv"
    )
    assert response.status_code == 200, response.content
    found = response.json()
    assert found["unmatched"] == ["NOBODY"] and found["approve"] == [] and found["rows"] == 2
    assert found["csv"]["bonus"] == "participant_id,amount\n"
    bad = api.generic(
        "POST", f"/api/v1/studies/{study.slug}/raters/prolific/", "Status\nx\n",
        content_type="text/csv",
    )  # fmt: skip
    assert bad.status_code == 409  # a string body the schema allows; its rows are refused
    assert bad.json()["problems"][0] == {
        "row": 1, "field": "header",
        "message": "no participant id column (one of Participant id, participant_id, "
        "Participant ID, PROLIFIC_PID)",
    }  # fmt: skip
