"""Reads for rating pages. The rating page itself is one prepared SQL statement: the
session, its study, live assignment and pre-rendered item page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from evalhub.rating.models import RaterSession
from evalhub.studies.models import Study
from evalhub.studies.pool import prepared_cursor


@dataclass(frozen=True)
class SessionKey:
    """How a request names its session: a crowd cookie token in a study (by slug), or a
    logged-in user in a study (by id). `sql` is a fixed WHERE clause over
    rating_ratersession s, studies_study st and studies_rater r."""

    sql: str
    first: Any
    second: Any
    where: dict[str, Any]  # the same condition, for the ORM

    @classmethod
    def crowd(cls, token: str, slug: str) -> SessionKey:
        return cls("s.token = %(first)s AND st.slug = %(second)s", token, slug,
                   {"token": token, "study__slug": slug})  # fmt: skip

    @classmethod
    def author(cls, study_id: int, user_id: int) -> SessionKey:
        return cls("s.study_id = %(first)s AND r.user_id = %(second)s", study_id, user_id,
                   {"study_id": study_id, "rater__user_id": user_id})  # fmt: skip

    @property
    def params(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second}


@dataclass(frozen=True)
class RatingView:
    """What the rating page shows, and the session state that decides whether it shows."""

    session_id: int
    status: str
    consented_at: datetime | None
    done: int
    quota: int
    assignment_token: str
    study_status: str
    kind: str
    assignment_status: str | None
    expires_at: datetime | None
    target_side: str | None
    context: list
    prompt_html: str
    target_html: str
    baseline_html: str
    turns: list

    @property
    def is_finished(self) -> bool:
        return self.status != RaterSession.Status.ACTIVE

    def is_live(self, now: datetime) -> bool:
        """Whether the session holds an unexpired reservation."""
        return (
            self.assignment_status == "reserved"
            and self.expires_at is not None
            and self.expires_at > now
        )


_VIEW = """
SELECT s.id, s.status, s.consented_at, s.done, s.quota, s.assignment_token,
       st.status, st.kind, a.status, a.expires_at, a.target_side,
       p.context, p.prompt_html, p.target_html, p.baseline_html, p.turns
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
JOIN studies_rater r ON r.id = s.rater_id
LEFT JOIN studies_assignment a ON a.id = s.assignment_id
LEFT JOIN rating_itempage p ON p.item_id = a.item_id
WHERE {where}
"""
_VIEWS = {where: _VIEW.format(where=where) for where in (
    SessionKey.crowd("", "").sql, SessionKey.author(0, 0).sql)}  # fmt: skip


def rating_view(*, key: SessionKey) -> RatingView | None:
    """The session `key` names, with its live assignment's page, in one query; None if
    there is no such session."""
    with prepared_cursor() as cursor:
        row = cursor.execute(_VIEWS[key.sql], key.params, prepare=True).fetchone()
    if row is None:
        return None
    view = RatingView(*row)
    if view.context is None:  # no assignment: no page
        view = RatingView(*row[:11], [], "", "", "", [])
    return view


_ENTRY = """
SELECT s.id, s.token, s.study_id, s.rater_id, s.quota, s.done, s.attention_failures,
       s.status, s.consented_at, s.assignment_id, s.assignment_token,
       st.slug, st.kind, st.reservation_seconds, st.completion_code, st.screenout_code,
       st.status
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
JOIN studies_rater r ON r.id = s.rater_id
WHERE {where}
"""
_ENTRIES = {where: _ENTRY.format(where=where) for where in (
    SessionKey.crowd("", "").sql, SessionKey.author(0, 0).sql)}  # fmt: skip
_SESSION_FIELDS = ["id", "token", "study_id", "rater_id", "quota", "done", "attention_failures",
                   "status", "consented_at", "assignment_id", "assignment_token"]  # fmt: skip
# Both in the models' field order, as Model.from_db wants a subset of fields.
_STUDY_FIELDS = ["id", "slug", "kind", "reservation_seconds", "completion_code",
                 "screenout_code", "status"]  # fmt: skip


def session_for_entry(*, key: SessionKey) -> RaterSession | None:
    """The session `key` names, with its study (no item content), in one prepared query.
    Fields not read here (e.g. the study's config) load on first use."""
    with prepared_cursor() as cursor:
        row = cursor.execute(_ENTRIES[key.sql], key.params, prepare=True).fetchone()
    if row is None:
        return None
    n = len(_SESSION_FIELDS)
    session = RaterSession.from_db(connection.alias, _SESSION_FIELDS, row[:n])
    study = Study.from_db(connection.alias, _STUDY_FIELDS, (row[2], *row[n:]))
    session._state.fields_cache["study"] = study
    return session
