"""Reads for rating pages: the rating page is one prepared SQL statement (the session, its
study, live assignment and pre-rendered item page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from evalhub.rating.models import RaterSession
from evalhub.studies import pool
from evalhub.studies.models import Study


@dataclass(frozen=True)
class SessionKey:
    """How a request names its session: a crowd cookie token in a study (by slug), or a
    logged-in user in a study (by id). `sql` is a fixed WHERE clause over
    rating_ratersession s and studies_study st."""

    sql: str
    first: Any
    second: Any

    @classmethod
    def crowd(cls, token: str, slug: str) -> SessionKey:
        return cls(_CROWD, token, slug)

    @classmethod
    def author(cls, study_id: int, user_id: int) -> SessionKey:
        return cls(_AUTHOR, study_id, user_id)

    @property
    def params(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second}


_CROWD = "s.token = %(first)s AND st.slug = %(second)s"
_AUTHOR = (
    "s.study_id = %(first)s "
    "AND s.rater_id = (SELECT id FROM studies_rater WHERE user_id = %(second)s)"
)


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
    # The study's instrument version and its frozen content hash (see definition_of).
    instrument_id: int | None = None
    instrument_hash: str | None = None

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
       p.context, p.prompt_html, p.target_html, p.baseline_html, p.turns,
       st.instrument_id, st.config #>> '{{instrument,content_hash}}'
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
LEFT JOIN studies_assignment a ON a.id = s.assignment_id
LEFT JOIN rating_itempage p ON p.item_id = a.item_id
WHERE {where}
"""
_VIEWS = {where: _VIEW.format(where=where) for where in (_CROWD, _AUTHOR)}


def rating_view(*, key: SessionKey) -> RatingView | None:
    """The session `key` names, with its live assignment's page, in one query; None if
    there is no such session."""
    row = pool.execute(_VIEWS[key.sql], key.params).fetchone()
    if row is None:
        return None
    if row[11] is None:  # no assignment: no page
        return RatingView(*row[:11], [], "", "", "", [], *row[16:])
    return RatingView(*row)


# In the models' field order, as Model.from_db wants a subset of fields.
SESSION_FIELDS = ["id", "token", "study_id", "rater_id", "quota", "done", "attention_failures",
                  "status", "consented_at", "assignment_id", "assignment_token"]  # fmt: skip
_STUDY_FIELDS = ["id", "slug", "kind", "instrument_id", "raters_per_item", "attention_check_rate",
                 "session_quota", "reservation_seconds", "completion_code", "screenout_code",
                 "status"]  # fmt: skip
_ENTRY = """
SELECT {session}, {study}
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
WHERE {where}
""".format(session=", ".join(f"s.{f}" for f in SESSION_FIELDS),
           study=", ".join(f"st.{f}" for f in _STUDY_FIELDS), where="{where}")  # fmt: skip
_ENTRIES = {where: _ENTRY.format(where=where) for where in (_CROWD, _AUTHOR)}


def session_from_row(row: tuple, study: Study | None = None) -> RaterSession:
    """A RaterSession of SESSION_FIELDS' values (other fields load on first use), with
    `study` cached on it."""
    session = RaterSession.from_db(connection.alias, SESSION_FIELDS, row)
    if study is not None:
        session._state.fields_cache["study"] = study
    return session


def session_for_entry(*, key: SessionKey) -> RaterSession | None:
    """The session `key` names, with its study (no item content), in one query. Fields not
    read here (e.g. the study's config) load on first use."""
    row = pool.execute(_ENTRIES[key.sql], key.params).fetchone()
    if row is None:
        return None
    n = len(SESSION_FIELDS)
    return session_from_row(row[:n], Study.from_db(connection.alias, _STUDY_FIELDS, row[n:]))


_OPEN = ", ".join(f"'{status}'" for status in (Study.Status.LAUNCHED, Study.Status.CLOSED))
_STUDY = (
    f"SELECT {', '.join(_STUDY_FIELDS)} FROM studies_study "  # noqa: S608
    f"WHERE slug = %(slug)s AND status IN ({_OPEN})"
)


def study_for_entry(*, slug: str) -> Study | None:
    """The launched or closed study with this slug, with what a rater's entry needs (other
    fields load on first use); None for no such study or a draft."""
    row = pool.execute(_STUDY, {"slug": slug}).fetchone()
    return None if row is None else Study.from_db(connection.alias, _STUDY_FIELDS, row)
