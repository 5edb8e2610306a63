"""A closed pairwise study with crowd raters who came in with raw Prolific ids, an author,
an LLM judge in both orders, rater comments and one excluded rater."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import timezone

from evalhub.crowd.services import raters_exclude
from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.rating.models import RaterSession
from evalhub.rating.services import participant_hash
from evalhub.releases.models import Release
from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study
from evalhub.studies.services import study_close
from tests.evalhub.dashboards.conftest import add_llm, build_pairwise_study

BASELINES = ["alpaca-65b", "davinci003"]
N_PROMPTS = 12
# What the study's raters came in with: none of it may appear in a release.
RAW_IDS = {
    "pids": ["5f9c1e0a7d3b2a0012ab34cd", "60a1b2c3d4e5f60718293a4b", "6123456789abcdef01234567"],
    "prolific_study": "65aa77bb88cc99dd00ee11ff",
    "prolific_sessions": ["SESSION-9a8b7c6d5e4f", "SESSION-1f2e3d4c5b6a", "SESSION-0a0b0c0d0e0f"],
}
COMMENT = "B rambles about my cousin Ingrid Fjellström"
EXCLUSION_REASON = "failed two attention checks"
PATTERN = ("target", "tie", "baseline", "target")


@dataclass
class PublishedStudy:
    study: Study
    items: dict[tuple[str, int], Item]
    raters: list[Rater]
    raw_ids: list[str] = field(default_factory=list)


def _human(items, rater: Rater, shift: int, group: str = "crowd") -> None:
    now = timezone.now()
    for n, ((_, i), item) in enumerate(sorted(items.items(), key=lambda kv: kv[1].pk)):
        side = "A" if (n + shift) % 2 == 0 else "B"
        assignment = Assignment.objects.create(
            item=item, rater=rater, target_side=side, status=Assignment.Status.SUBMITTED,
            reserved_at=now, expires_at=now + dt.timedelta(minutes=15), submitted_at=now,
        )  # fmt: skip
        Judgment.objects.create(
            item=item, rater=rater, assignment=assignment, judge_group=group,
            verdict=PATTERN[(i + shift) % len(PATTERN)], raw_choice="A",
            order="target_first" if side == "A" else "baseline_first",
            comment=COMMENT if n == 0 else "", time_on_task_ms=20_000 + n,
        )  # fmt: skip


def build_published_study(slug: str, alice) -> PublishedStudy:
    study, items = build_pairwise_study(
        slug=slug, baselines=BASELINES, n_prompts=N_PROMPTS, raters_per_item=3
    )
    study.config = {"schema": 1, "study": slug, "raters_per_item": 3,
                    "completion_code": "DONE123", "screenout_code": "SCREEN456",
                    "target": "lima-65b", "baselines": BASELINES}  # fmt: skip
    study.config_hash = "c" * 64
    study.save()
    raters = []
    for n, pid in enumerate(RAW_IDS["pids"]):
        rater = Rater.objects.create(
            group=Rater.Group.CROWD, external_id_hash=participant_hash(pid)
        )
        RaterSession.objects.create(
            study=study, rater=rater, token=f"token-{slug}-{n}", quota=40,
            prolific_study_id=RAW_IDS["prolific_study"],
            prolific_session_id=RAW_IDS["prolific_sessions"][n],
        )  # fmt: skip
        _human(items, rater, shift=n)
        raters.append(rater)
    author = Rater.objects.create(group=Rater.Group.AUTHOR, user=alice)
    _human(items, author, shift=1, group="author")
    target_first = {b: [PATTERN[i % 4] for i in range(N_PROMPTS)] for b in BASELINES}
    # Shown the other way round, the judge changes its mind on the first two prompts.
    baseline_first = {b: ["baseline", "target", *v[2:]] for b, v in target_first.items()}
    add_llm(items, target_first, baseline_first)
    raters_exclude(study=study, rater_ids=[raters[2].pk], reason=EXCLUSION_REASON)
    study_stats_invalidate(study.pk)
    study_close(study=study)
    study.refresh_from_db()
    raw = [*RAW_IDS["pids"], RAW_IDS["prolific_study"], *RAW_IDS["prolific_sessions"],
           *(r.external_id_hash for r in raters), alice.username, "alice-password-1",
           f"token-{slug}-0", "DONE123", "SCREEN456"]  # fmt: skip
    return PublishedStudy(study, items, raters, raw)


@pytest.fixture
def published(db, alice) -> PublishedStudy:
    return build_published_study("pub-study", alice)


@pytest.fixture
def releases_dir(settings, tmp_path) -> Path:
    settings.RELEASES_DIR = tmp_path / "releases"
    return settings.RELEASES_DIR


@pytest.fixture
def ready_releases():
    """Removes what the worker wrote under settings.RELEASES_DIR (shared with it)."""
    yield
    for release in Release.objects.exclude(folder=""):
        shutil.rmtree(release.path, ignore_errors=True)
        release.archive_path.unlink(missing_ok=True)


def archive_with_bad_row(release: Release, tmp_path: Path) -> Path:
    """A re-signed copy of `release`'s archive whose third item names an unknown prompt, as
    someone editing a release by hand would make it."""
    import zipfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from evalhub.releases import files

    folder = tmp_path / "edited" / release.archive_name.removesuffix(".zip")
    shutil.copytree(release.path, folder)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    items = folder / "data" / "items.parquet"
    table = pq.read_table(items)
    prompts = table["prompt_id"].to_pylist()
    prompts[2] = "no-such-prompt"
    pq.write_table(table.set_column(1, "prompt_id", pa.array(prompts, pa.string())), items)
    files.checksums_write(folder)
    archive = tmp_path / "edited.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return archive
