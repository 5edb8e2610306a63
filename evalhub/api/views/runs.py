"""Judge runs and generation runs start jobs; jobs report status, progress and errors."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.errors import Conflict, field_conflict
from evalhub.api.serializers.runs import (
    GenerationRunCreateSerializer,
    JobSerializer,
    JudgeRunCreateSerializer,
)
from evalhub.api.views.common import BIGINT_MAX, check_query, error_responses, get_or_404
from evalhub.jobs.models import Job
from evalhub.jobs.selectors import team_jobs
from evalhub.jobs.services import job_cancel


def _job_response(job: Job) -> Response:
    return Response(
        JobSerializer(job).data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/jobs/{job.pk}/"},
    )


@extend_schema(
    summary="Ask an LLM judge to judge a study",
    description="Estimates the run, then queues a judge job on a launched study; poll it at "
    "`/api/v1/jobs/{id}/`. 409 when the judge or study does not exist, the estimate is over "
    "`budget_usd`, the judge does not fit the study, or the same judge already runs on it. "
    "Its verdicts appear as judge group `llm:<judge slug>`.",
    request=JudgeRunCreateSerializer,
    responses={202: JobSerializer, **error_responses(400, 409, 413, 415)},
)
class JudgeRunCreate(APIView):
    def post(self, request: Request) -> Response:
        body = JudgeRunCreateSerializer(data=request.data, context={"team": request.team})
        body.is_valid(raise_exception=True)
        judge, study = body.validated_data["judge"], body.validated_data["study"]
        budget = body.validated_data.get("budget_usd")
        budget = None if budget is None else Decimal(str(budget))
        # Imported here: the judge stack (openai client) is only needed when a run starts.
        from generation.judging.config import JudgeConfigError
        from generation.judging.services import (
            JudgeBudgetExceeded,
            JudgeRunConflict,
            judge_run_create,
        )

        try:
            job = judge_run_create(
                judge=judge, study=study, requested_by=request.user, budget_usd=budget
            )
        except JudgeRunConflict as exc:
            raise Conflict(str(exc)) from None
        except (JudgeBudgetExceeded, JudgeConfigError) as exc:
            raise field_conflict(exc) from None
        return _job_response(job)


@extend_schema(
    summary="Ask a model to generate outputs for a prompt set",
    description="Starts a generation job for a `local` or `api` model; poll it at "
    "`/api/v1/jobs/{id}/`. 409 when the model or prompt set does not exist or the model "
    "cannot generate (an `external` one).",
    request=GenerationRunCreateSerializer,
    responses={202: JobSerializer, **error_responses(400, 409, 413, 415)},
)
class GenerationRunCreate(APIView):
    def post(self, request: Request) -> Response:
        body = GenerationRunCreateSerializer(data=request.data, context={"team": request.team})
        body.is_valid(raise_exception=True)
        model, prompt_set = body.validated_data["model"], body.validated_data["prompt_set"]
        samples = body.validated_data.get("samples", 1)
        from generation.services import generation_run_create  # the generation app, on demand

        try:
            job = generation_run_create(
                model=model,
                prompt_set=prompt_set,
                samples=samples,
                requested_by=request.user,
                team=request.team,
            )
        except ValueError as exc:
            # Its messages start with what is wrong: "model ...", "samples ...".
            first = str(exc).split(" ", 1)[0]
            field = first if first in ("model", "samples", "prompt_set") else "model"
            raise serializers.ValidationError({field: [str(exc)]}, code="conflict") from None
        return _job_response(job)


class JobQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=Job.Kind.choices, required=False)


@extend_schema(
    summary="List jobs, newest first",
    parameters=[JobQuery],
    responses={200: JobSerializer(many=True), **error_responses(400)},
)
class JobList(generics.ListAPIView):
    serializer_class = JobSerializer

    def get_queryset(self):
        query = check_query(JobQuery, self.request)
        return team_jobs(team=self.request.team).filter(**query).order_by("-created_at", "-id")


def _job(request: Request, job_id: int) -> Job:
    if job_id > BIGINT_MAX:
        return get_or_404(Job.objects.none(), "job", pk=job_id)
    return get_or_404(team_jobs(team=request.team), "job", pk=job_id)


@extend_schema(
    summary="A job: status, progress, error",
    responses={200: JobSerializer, **error_responses()},
)
class JobDetail(generics.RetrieveAPIView):
    serializer_class = JobSerializer

    def get_object(self) -> Job:
        return _job(self.request, self.kwargs["job_id"])


@extend_schema(
    summary="Cancel a job",
    description="A queued job stops now; a running one at its next progress report.",
    request=None,
    responses={202: JobSerializer, **error_responses()},
)
class JobCancel(APIView):
    def post(self, request: Request, job_id: int) -> Response:
        job = _job(request, job_id)
        job_cancel(job_id=job.pk)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
