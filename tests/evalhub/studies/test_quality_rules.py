"""One table of quality rules (evalhub.studies.quality_rules) for the running-settings form,
the raters page and the API: a rule one of them accepts, each of them accepts, in the same
range; a bonus is a decimal string everywhere."""

from __future__ import annotations

import pytest

from evalhub.audit.selectors import object_history
from evalhub.crowd.rules import study_quality_rules_update
from evalhub.crowd.services import CrowdInputError
from evalhub.importing import InputError
from evalhub.studies import editing
from evalhub.studies.quality_rules import RULES
from tests.evalhub.api.conftest import client_for
from tests.evalhub.studies.test_editing import draft, setup  # noqa: F401

pytestmark = pytest.mark.django_db

# A flag threshold of the rater table and one of the crowd-quality tests, and the bonus.
RULES_SET = {"min_agreement": 0.6, "spam_odds": 50, "bonus_per_judgment": "0.05"}


def test_every_write_accepts_the_same_rules(setup, alice):  # noqa: F811
    assert set(RULES_SET) <= set(RULES)
    study = draft(setup)
    editing.study_running_settings_update(study=study, by=alice, quality_rules=RULES_SET)
    study.refresh_from_db()
    assert study.quality_rules == RULES_SET
    other = draft(setup, slug="s2")
    assert study_quality_rules_update(study=other, rules=RULES_SET, by=alice).quality_rules == (
        RULES_SET
    )
    third = draft(setup, slug="s3")
    answer = client_for(alice).patch(
        f"/api/v1/studies/{third.slug}/", {"quality_rules": RULES_SET}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["quality_rules"] == RULES_SET


def test_every_write_refuses_the_same_bad_values(setup, alice):  # noqa: F811
    study = draft(setup)
    bad = {"min_agreement": 1.5, "bonus_per_judgment": 0.05}
    with pytest.raises(InputError) as form:
        editing.study_running_settings_update(study=study, by=alice, quality_rules=bad)
    assert {p.field for p in form.value.problems} == set(bad)
    with pytest.raises(CrowdInputError) as page:
        study_quality_rules_update(study=study, rules=bad, by=alice)
    assert {p.field for p in page.value.problems} == {f"quality_rules.{k}" for k in bad}
    answer = client_for(alice).patch(
        f"/api/v1/studies/{study.slug}/", {"quality_rules": bad}, format="json"
    )
    assert answer.status_code == 400
    study.refresh_from_db()
    assert study.quality_rules == {} and not object_history(study, team=study.team)
