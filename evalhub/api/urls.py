"""/api/schema/ (OpenAPI), /api/docs/ (Swagger UI, assets served by us; its start-up script
is a separate request, /api/docs/?script, as the CSP allows no inline script), /api/v1/..."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from evalhub.api.views import (
    arena,
    instruments,
    judges,
    judgments,
    live,
    models,
    outputs,
    prompts,
    quality,
    raters,
    runs,
    studies,
)
from evalhub.api.views.common import api_not_found
from evalhub.releases import api as releases
from evalhub.teams import api as teams

app_name = "api"


v1 = [
    path("prompt-sets/", prompts.PromptSetListCreate.as_view(), name="prompt-sets"),
    path("prompt-sets/<slug:slug>/", prompts.PromptSetDetail.as_view(), name="prompt-set"),
    path("prompt-sets/<slug:slug>/prompts/", prompts.PromptList.as_view(), name="prompts"),
    path("prompt-sets/<slug:slug>/outputs/", outputs.PromptSetOutputs.as_view(), name="outputs"),
    path("models/", models.ModelListCreate.as_view(), name="models"),
    path("models/<slug:slug>/", models.ModelDetail.as_view(), name="model"),
    path("judges/", models.JudgeListCreate.as_view(), name="judges"),
    path("instruments/", instruments.InstrumentListCreate.as_view(), name="instruments"),
    path("instruments/<slug:slug>/", instruments.InstrumentDetail.as_view(), name="instrument"),
    path("live-studies/", live.LiveStudyListCreate.as_view(), name="live-studies"),
    path("live-studies/<slug:slug>/", live.LiveStudyDetail.as_view(), name="live-study"),
    path(
        "live-studies/<slug:slug>/preview/",
        live.LiveStudyPreview.as_view(),
        name="live-study-preview",
    ),
    path("studies/", studies.StudyListCreate.as_view(), name="studies"),
    path("studies/<slug:slug>/", quality.StudyDetail.as_view(), name="study"),
    path("studies/<slug:slug>/gold/", quality.StudyGold.as_view(), name="study-gold"),
    path(
        "studies/<slug:slug>/items/labels/",
        quality.StudyItemLabels.as_view(),
        name="study-item-labels",
    ),
    path("studies/<slug:slug>/launch/", studies.StudyLaunch.as_view(), name="study-launch"),
    path("studies/<slug:slug>/close/", studies.StudyClose.as_view(), name="study-close"),
    path("studies/<slug:slug>/results/", studies.StudyResults.as_view(), name="study-results"),
    path(
        "studies/<slug:slug>/judgments/",
        judgments.JudgmentExport.as_view(),
        name="study-judgments",
    ),
    path(
        "studies/<slug:slug>/judgments/import/",
        judgments.JudgmentImport.as_view(),
        name="study-judgments-import",
    ),
    path("studies/<slug:slug>/raters/", raters.RaterList.as_view(), name="study-raters"),
    path(
        "studies/<slug:slug>/raters/exclude/",
        raters.RaterExclude.as_view(),
        name="study-raters-exclude",
    ),
    path(
        "studies/<slug:slug>/raters/include/",
        raters.RaterInclude.as_view(),
        name="study-raters-include",
    ),
    path(
        "studies/<slug:slug>/raters/prolific/",
        raters.ProlificMatch.as_view(),
        name="study-raters-prolific",
    ),
    path("arena-battles/", arena.ArenaBattleImport.as_view(), name="arena-battles"),
    path("studies/<slug:slug>/releases/", releases.StudyReleases.as_view(), name="releases"),
    path(
        "studies/<slug:slug>/releases/<int:version>/archive/",
        releases.ReleaseArchive.as_view(),
        name="release-archive",
    ),
    path("releases/import/", releases.ReleaseImport.as_view(), name="release-import"),
    path("judge-runs/", runs.JudgeRunCreate.as_view(), name="judge-runs"),
    path("judge-leaderboard/", judges.JudgeLeaderboard.as_view(), name="judge-leaderboard"),
    path("generation-runs/", runs.GenerationRunCreate.as_view(), name="generation-runs"),
    path("jobs/", runs.JobList.as_view(), name="jobs"),
    path("jobs/<int:job_id>/", runs.JobDetail.as_view(), name="job"),
    path("jobs/<int:job_id>/cancel/", runs.JobCancel.as_view(), name="job-cancel"),
    path("team/", teams.CurrentTeam.as_view(), name="team"),
    path("team/tokens/", teams.TeamTokenList.as_view(), name="team-tokens"),
    path(
        "team/tokens/<str:digest>/revoke/",
        teams.TeamTokenRevoke.as_view(),
        name="team-token-revoke",
    ),
    path("team/audit/", teams.TeamAuditLog.as_view(), name="team-audit"),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include(v1)),
    re_path(r"^[\s\S]*$", api_not_found),  # any path, newlines included
]
