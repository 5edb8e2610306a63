"""Prolific's submissions export matched to sessions by hash: approve, reject, bonus and
unmatched lists that honour Prolific's statuses and the exclusions; raw ids never stored
or logged; a malformed file names its row."""

import logging

import pytest

from evalhub.crowd.prolific import prolific_match
from evalhub.crowd.services import CrowdInputError, raters_exclude
from evalhub.rating.models import RaterSession
from evalhub.rating.services import session_start_crowd
from evalhub.studies.models import Judgment, Rater

pytestmark = pytest.mark.django_db

HEADER = "Submission id,Participant id,Status,Started at\n"


def _session(study, pid, status, failures=0, judgments=0):
    session = session_start_crowd(study=study, participant_id=pid)
    RaterSession.objects.filter(pk=session.pk).update(status=status, attention_failures=failures)
    items = list(study.items.filter(is_gold=False)[:judgments])
    Judgment.objects.bulk_create(
        Judgment(item=i, rater_id=session.rater_id, judge_group="crowd", verdict="tie",
                 raw_choice="tie") for i in items
    )  # fmt: skip
    return session


def test_it_makes_the_three_lists_and_names_the_unmatched(make_study, caplog):
    caplog.set_level(logging.DEBUG)
    study = make_study(prompts=10, quality_rules={"bonus_per_judgment": "0.15"})
    _session(study, "PIDDONE1", RaterSession.Status.COMPLETED, judgments=4)
    _session(study, "PIDDRY2", RaterSession.Status.EXHAUSTED, judgments=2)
    _session(study, "PIDOUT3", RaterSession.Status.SCREENED_OUT, failures=2, judgments=3)
    _session(study, "PIDONE4", RaterSession.Status.COMPLETED, failures=1, judgments=1)
    _session(study, "PIDACTIVE5", RaterSession.Status.ACTIVE)
    excluded = _session(study, "PIDBAD6", RaterSession.Status.COMPLETED, judgments=5)
    raters_exclude(study=study, rater_ids=[excluded.rater_id], reason="spam")
    _session(study, "PIDGONE7", RaterSession.Status.COMPLETED, judgments=2)
    _session(study, "PIDLATE8", RaterSession.Status.COMPLETED, judgments=2)
    _session(study, "PIDNO9", RaterSession.Status.COMPLETED, judgments=2)
    before = (Rater.objects.count(), RaterSession.objects.count(), Judgment.objects.count())
    status = {"PIDGONE7": "RETURNED", "PIDLATE8": "TIMED-OUT", "PIDNO9": "REJECTED"}
    text = HEADER + "".join(
        f"s{n},{pid},{status.get(pid, 'AWAITING REVIEW')},2026-01-01\n"
        for n, pid in enumerate(
            ["PIDDONE1", "PIDDRY2", "PIDOUT3", "PIDONE4", "PIDACTIVE5", "PIDBAD6", "STRANGER7",
             "PIDDONE1", "PIDGONE7", "PIDLATE8", "PIDNO9"]
        )
    )  # fmt: skip
    lists = prolific_match(study=study, text=text)
    # The excluded rater is never approved; returned, timed-out, rejected never are.
    assert lists.approve == ["PIDDONE1", "PIDDRY2", "PIDONE4"]
    # Only the two-failure screen-out and the excluded rater, with Prolific's categories.
    assert lists.reject == ["PIDOUT3", "PIDBAD6"]
    assert lists.skipped == [("PIDGONE7", "RETURNED"), ("PIDLATE8", "TIMED-OUT"),
                             ("PIDNO9", "REJECTED")]  # fmt: skip
    assert lists.bonus == [("PIDDONE1", "0.60"), ("PIDDRY2", "0.30"), ("PIDONE4", "0.15")]
    assert lists.unmatched == ["STRANGER7"]
    assert lists.csv("bonus") == (
        "participant_id,amount\nPIDDONE1,0.60\nPIDDRY2,0.30\nPIDONE4,0.15\n"
    )
    assert lists.csv("reject") == (
        "participant_id,rejection_category,message\n"
        "PIDOUT3,FAILED_CHECK,failed 2 attention checks\nPIDBAD6,LOW_EFFORT,spam\n"
    )
    # Nothing written, and no raw id in the logs or among the stored hashes.
    assert (Rater.objects.count(), RaterSession.objects.count(), Judgment.objects.count()) == before
    assert "PIDDONE1" not in caplog.text and "STRANGER7" not in caplog.text
    assert not Rater.objects.filter(external_id_hash__startswith="PID").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Submission id,Status\ns1,APPROVED\n", "line 1: header: no participant id column"),
        ("Participant id\nPID1\n", "line 1: header: no Status column"),
        (HEADER + "s1,PID1,,x\n", "line 2: Status: missing status"),
        (HEADER + "s1,PID1,APPROVED,x\ns2,,APPROVED,x\n", "line 3: Participant id: missing"),
        (HEADER + "s1,PID 1,APPROVED,x\n", "line 2: Participant id: missing or malformed"),
        (HEADER + "s1,PID1,APPROVED,x,extra\n", "line 2: Participant id: more fields"),
    ],
)
def test_a_malformed_export_names_the_row_and_field(make_study, text, message):
    study = make_study(prompts=2)
    with pytest.raises(CrowdInputError) as error:
        prolific_match(study=study, text=text)
    assert message in "; ".join(str(p) for p in error.value.problems)
