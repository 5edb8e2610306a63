"""The team object each API operation's URL names, by URL name: the permission
(evalhub.api.permissions.IsTeamMember) resolves it within the caller's team before it
checks the role, so another team's object is a 404 for every role."""

from __future__ import annotations

from evalhub.instruments.selectors import INSTRUMENT_SCOPE
from evalhub.jobs.selectors import JOB_SCOPE
from evalhub.outputs.selectors import MODEL_SCOPE
from evalhub.prompts.selectors import PROMPT_SET_SCOPE
from evalhub.studies.selectors import STUDY_SCOPE
from evalhub.teams.scope import TeamScope

TEAM_SCOPES: dict[str, TeamScope] = {
    **dict.fromkeys(
        [
            "live-study",
            "live-study-preview",
            "study",
            "study-gold",
            "study-item-labels",
            "study-launch",
            "study-close",
            "study-results",
            "study-judgments",
            "study-judgments-import",
            "study-raters",
            "study-raters-exclude",
            "study-raters-include",
            "study-raters-prolific",
            "releases",
            "release-archive",
        ],
        STUDY_SCOPE,
    ),
    **dict.fromkeys(["prompt-set", "prompts", "outputs"], PROMPT_SET_SCOPE),
    "model": MODEL_SCOPE,
    "instrument": INSTRUMENT_SCOPE,
    "job": JOB_SCOPE,
    "job-cancel": JOB_SCOPE,
}
