"""Prolific's submissions export matched to the study's rating sessions: who to approve,
reject (or review) and pay a bonus, honouring each submission's Prolific status and the
researcher's exclusions.

Only submissions AWAITING REVIEW can be approved or rejected on Prolific; RETURNED,
TIMED-OUT, REJECTED and APPROVED ones are left alone (listed as `skipped` with their
status). An excluded rater is never approved: they go to the reject list with Prolific's
category LOW_EFFORT and the stored exclusion reason as the message; a rater screened out
for two failed attention checks gets FAILED_CHECK. Bonuses: `bonus_per_judgment` (the
study's quality_rules) x valid judgments, for the approved only.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from evalhub.crowd.models import RaterExclusion
from evalhub.crowd.services import CrowdInputError, CrowdStateError
from evalhub.importing import RowProblem
from evalhub.rating.models import RaterSession
from evalhub.rating.services import participant_hash
from evalhub.studies.models import Judgment, Study
from evalhub.studies.services import MAX_ATTENTION_FAILURES

MAX_PROLIFIC_ROWS = 100_000
PARTICIPANT_COLUMNS = ("Participant id", "participant_id", "Participant ID", "PROLIFIC_PID")
STATUS_COLUMNS = ("Status", "status")
AWAITING_REVIEW = "AWAITING REVIEW"
DONE = (RaterSession.Status.COMPLETED, RaterSession.Status.EXHAUSTED)


@dataclass
class ProlificLists:
    """The lists for Prolific, by raw participant id (held only in this object, for the
    response that carries them; never stored or logged): approve; reject (ids) with
    `reject_reasons` {id: (Prolific category, message)}; bonus (id, amount); skipped
    (id, Prolific status) that no list may touch; unmatched ids."""

    approve: list[str] = field(default_factory=list)
    reject: list[str] = field(default_factory=list)
    reject_reasons: dict[str, tuple[str, str]] = field(default_factory=dict)
    bonus: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    rows: int = 0

    def csv(self, which: str) -> str:
        """`which` as CSV text: approve (participant_id), reject (participant_id,
        rejection_category,message) or bonus (participant_id,amount)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if which == "bonus":
            writer.writerow(["participant_id", "amount"])
            writer.writerows(self.bonus)
        elif which == "reject":
            writer.writerow(["participant_id", "rejection_category", "message"])
            writer.writerows([pid, *self.reject_reasons[pid]] for pid in self.reject)
        else:
            writer.writerow(["participant_id"])
            writer.writerows([pid] for pid in getattr(self, which))
        return out.getvalue()


def bonus_rate(study: Study) -> Decimal:
    raw = (study.quality_rules or {}).get("bonus_per_judgment", 0)
    try:
        rate = Decimal(str(raw))
    except InvalidOperation as exc:
        raise CrowdStateError(
            f"study {study.slug}: bonus_per_judgment {raw!r} is no amount"
        ) from exc
    return rate if rate > 0 else Decimal(0)


def _read(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """{raw id: hash} and {raw id: Prolific status} from the export; CrowdInputError names
    the row and field of anything malformed."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    column = next((c for c in PARTICIPANT_COLUMNS if c in header), None)
    if column is None:
        raise CrowdInputError(
            [RowProblem(1, f"no participant id column (one of {', '.join(PARTICIPANT_COLUMNS)})",
                        "header")],
            "not a Prolific submissions export",
        )  # fmt: skip
    status_column = next((c for c in STATUS_COLUMNS if c in header), None)
    if status_column is None:
        raise CrowdInputError(
            [RowProblem(1, "no Status column: only submissions AWAITING REVIEW may be "
                        "approved", "header")],
            "not a Prolific submissions export",
        )  # fmt: skip
    hashes: dict[str, str] = {}
    statuses: dict[str, str] = {}
    problems: list[RowProblem] = []
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_PROLIFIC_ROWS:
            raise CrowdInputError([RowProblem(line, "too many rows", column)], "file too long")
        if None in row:
            problems.append(RowProblem(line, "more fields than the header has", column))
            continue
        pid = (row.get(column) or "").strip()
        if not pid or not pid.replace("_", "").replace("-", "").isalnum() or len(pid) > 100:
            problems.append(RowProblem(line, "missing or malformed participant id", column))
            continue
        status = " ".join((row.get(status_column) or "").upper().replace("_", " ").split())
        if not status:
            problems.append(RowProblem(line, "missing status", status_column))
            continue
        hashes.setdefault(pid, participant_hash(pid))
        # A participant with several submissions: one awaiting review is what we act on.
        if statuses.get(pid) != AWAITING_REVIEW:
            statuses[pid] = status
    if problems:
        raise CrowdInputError(problems, "malformed Prolific export")
    return hashes, statuses


def prolific_match(*, study: Study, text: str) -> ProlificLists:
    """Match Prolific's submissions export (CSV text with participant id and Status
    columns) to the study's rating sessions by the keyed hash of each id, computed on
    arrival; see the module docstring for the lists. Nothing is written."""
    hashes, statuses = _read(text)
    sessions = {
        h: (status, rater_id, failures, excluded_at)
        for h, status, rater_id, failures, excluded_at in RaterSession.objects.filter(
            study=study, rater__external_id_hash__in=hashes.values()
        ).values_list(
            "rater__external_id_hash", "status", "rater_id", "attention_failures", "excluded_at"
        )
    }
    raters = [s[1] for s in sessions.values()]
    valid = Counter(
        Judgment.objects.filter(
            item__study=study, rater_id__in=raters, excluded=False, is_attention_check=False,
        ).values_list("rater_id", flat=True)
    )  # fmt: skip
    reasons: dict[int, str] = {}
    for rater_id, reason in (
        RaterExclusion.objects.filter(study=study, rater_id__in=raters,
                                      action=RaterExclusion.Action.EXCLUDE)
        .order_by("at", "id").values_list("rater_id", "reason")
    ):  # fmt: skip
        reasons[rater_id] = reason  # the latest exclusion's reason wins
    rate = bonus_rate(study)
    lists = ProlificLists(rows=len(hashes))
    for pid, h in hashes.items():  # one per participant
        found = sessions.get(h)
        if found is None:
            lists.unmatched.append(pid)
            continue
        status, rater_id, failures, excluded_at = found
        if statuses[pid] != AWAITING_REVIEW:
            lists.skipped.append((pid, statuses[pid]))
        elif excluded_at is not None or status == RaterSession.Status.EXCLUDED:
            lists.reject.append(pid)
            message = reasons.get(rater_id, "excluded by the researcher")
            lists.reject_reasons[pid] = ("LOW_EFFORT", message)
        elif status == RaterSession.Status.SCREENED_OUT and failures >= MAX_ATTENTION_FAILURES:
            lists.reject.append(pid)
            lists.reject_reasons[pid] = ("FAILED_CHECK", f"failed {failures} attention checks")
        elif status in DONE:
            lists.approve.append(pid)
            amount = (rate * valid[rater_id]).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if amount > 0:
                lists.bonus.append((pid, str(amount)))
    return lists
