"""/api/v1/judge-leaderboard/: LLM judges scored against humans on the same items."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.views.common import error_responses


@extend_schema(
    summary="The judge leaderboard",
    description="One row per LLM judge group on each pairwise study that also has human "
    "judgments (evalhub.dashboards.selectors.judges.judge_leaderboard): agreement with the "
    "per-item human majority (LIMA's tie-discounted accuracy, accuracy, Cohen's kappa, each "
    "with a 95% bootstrap interval over prompts), swap consistency, position bias, the share "
    "of decisive verdicts that chose the longer answer, the Spearman correlation of "
    "per-baseline win rates with the humans' (3+ baselines), and price and time per 1,000 "
    "judgments from the judge's call records. Each row names its study and instrument.",
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **error_responses()},
)
class JudgeLeaderboard(APIView):
    def get(self, request: Request) -> Response:
        from evalhub.dashboards.selectors.judges import judge_leaderboard  # numpy, on demand

        return Response({"judges": judge_leaderboard()})
