"""The edit record is part of the team's one audit log (evalhub.teams.models.AuditEvent):
an edit is an event with the fields' values before and after. EditRecord's rows moved there
(teams 0004); this app keeps the services and selectors of edits."""

from evalhub.teams.models import OBJECT_TYPES, AuditEvent

__all__ = ["OBJECT_TYPES", "AuditEvent"]
