"""Reads for rating pages: the rating page is one prepared SQL statement (the session, its
study, live assignment and pre-rendered item page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from evalhub.rating import statements
from evalhub.rating.models import RaterSession
from evalhub.rating.statements import SESSION_FIELDS, STUDY_FIELDS
from evalhub.studies import pool
from evalhub.studies.models import Study


@dataclass(frozen=True)
class SessionKey:
    """How a request names its session: a crowd cookie token in a study (by crowd code), or a
    logged-in user in a study (by id). `by` picks the form of a keyed statement of
    evalhub.rating.statements ("token" or "user")."""

    by: str
    first: Any
    second: Any

    @classmethod
    def crowd(cls, token: str, crowd_code: str) -> SessionKey:
        return cls("token", token, crowd_code)

    @classmethod
    def author(cls, study_id: int, user_id: int) -> SessionKey:
        return cls("user", study_id, user_id)

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


def rating_view(*, key: SessionKey) -> RatingView | None:
    """The session `key` names, with its live assignment's page, in one query; None if
    there is no such session."""
    row = pool.execute(statements.VIEW[key.by], key.params).fetchone()
    if row is None:
        return None
    if row[11] is None:  # no assignment: no page
        return RatingView(*row[:11], [], "", "", "", [], *row[16:])
    return RatingView(*row)


def session_from_row(row: tuple, study: Study | None = None) -> RaterSession:
    """A RaterSession of SESSION_FIELDS' values (other fields load on first use), with
    `study` cached on it."""
    session = RaterSession.from_db(connection.alias, SESSION_FIELDS, row)
    if study is not None:
        session._state.fields_cache["study"] = study
    return session


def session_for_entry(*, key: SessionKey) -> RaterSession | None:
    """The session `key` names, with its study (no item content), in one query. Fields not
    read here (e.g. the study's name) load on first use."""
    row = pool.execute(statements.ENTRY[key.by], key.params).fetchone()
    if row is None:
        return None
    n = len(SESSION_FIELDS)
    return session_from_row(row[:n], Study.from_db(connection.alias, STUDY_FIELDS, row[n:]))


def study_for_entry(*, crowd_code: str) -> Study | None:
    """The launched or closed study with this crowd code, with what a rater's entry needs (other
    fields load on first use); None for no such study or a draft."""
    row = pool.execute(statements.STUDY_FOR_ENTRY, {"crowd_code": crowd_code}).fetchone()
    return None if row is None else Study.from_db(connection.alias, STUDY_FIELDS, row)
