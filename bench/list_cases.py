"""The workspace's data lists, timed inside bench/dashboard_latency.py on its study
(100,000 judgments at the defaults) and a prompt set of --list-prompts prompts (10,000).
Each case is one page request through the test client (middleware, auth, template); the
goal is < 300 ms each. Filters and search run in PostgreSQL (evalhub.workspace.data_selectors,
item_selectors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build_prompt_set(n_prompts: int) -> str:
    """A prompt set of n_prompts (slug "bench-list"), bulk-created; returns its slug."""
    from bench.bench_team import bench_team
    from evalhub.prompts.models import Prompt, PromptSet

    prompt_set, created = PromptSet.objects.get_or_create(
        team=bench_team(), slug="bench-list", defaults={"name": "l"}
    )
    if created:
        Prompt.objects.bulk_create(
            [Prompt(prompt_set=prompt_set, external_id=f"p{i}", text=f"Prompt number {i}: why?",
                    category=("advice", "writing", "coding", "chat")[i % 4], position=i)
             for i in range(n_prompts)], batch_size=5000)  # fmt: skip
    return prompt_set.slug


def list_cases(
    study: Any, prompt_set: str, baseline: str, pages: int, llm_group: str | None = None,
    item_id: int = 0,
) -> list[tuple[str, str]]:  # fmt: skip
    """(label, path) of every list page timed; an LLM group's count links (items, its two
    orders combined per item in the database) and its judge's page when the study has one."""
    s = f"/studies/{study.slug}"
    judge = (llm_group or "").removeprefix("llm:")
    llm = [
        ("items, LLM count link",
         f"{s}/items/?baseline={baseline}&judge_group={llm_group}&verdict=baseline&counted=yes"),
        ("items, LLM row total",
         f"{s}/items/?baseline={baseline}&judge_group={llm_group}&verdict=any&counted=yes"),
        ("judge page", f"/judges/{judge}/"),
        ("judgments, a judge's failed", f"{s}/judgments/?judge={judge}&parse=failed"),
    ]  # fmt: skip
    return [
        ("prompts, page 1", f"/prompt-sets/{prompt_set}/"),
        ("prompts, last page", f"/prompt-sets/{prompt_set}/?page={pages}"),
        ("prompts, search", f"/prompt-sets/{prompt_set}/?q=number 9999"),
        ("prompts, category", f"/prompt-sets/{prompt_set}/?category=coding&page=20"),
        ("model outputs, page 1", "/models/lima-65b/outputs/"),
        ("model outputs, search", "/models/lima-65b/outputs/?q=q1999"),
        ("items, page 1", f"{s}/items/"),
        ("items, losses to a baseline", f"{s}/items/?baseline={baseline}&verdict=baseline"),
        ("items, a progress bar", f"{s}/items/?counted=yes&human_judgments=2"),
        ("items, at quota", f"{s}/items/?counted=yes&human_judgments={study.raters_per_item}%2B"),
        ("judgments, an item's", f"{s}/judgments/?item={item_id}&source=rater&counted=yes"),
        ("history", "/history/"),
        ("judgments, page 1", f"{s}/judgments/"),
        ("judgments, last page", f"{s}/judgments/?page=2000"),
        ("judgments, count link",
         f"{s}/judgments/?baseline={baseline}&judge_group=crowd&verdict=baseline&counted=yes"),
        *(llm if llm_group else []),
    ]  # fmt: skip


def run(
    *, client: Any, study: Any, n_prompts: int, repeat: int,
    timed: Callable[..., list[float]], summary: Callable[..., None],
) -> None:  # fmt: skip
    from evalhub.studies.models import Item, Judgment
    from evalhub.workspace.data_selectors import PAGE_SIZE

    slug = build_prompt_set(n_prompts)
    baseline = study.baselines.order_by("slug").first().slug
    pages = -(-n_prompts // PAGE_SIZE)
    llm_group = (
        Judgment.objects.filter(item__study=study, judge_group__startswith="llm:")
        .values_list("judge_group", flat=True)
        .first()
    )

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    middle = Item.objects.filter(study=study).order_by("id").values_list("id", flat=True)
    item_id = middle[middle.count() // 2]
    print(f"workspace lists ({n_prompts:,} prompts in one set; the study above):")
    for label, path in list_cases(study, slug, baseline, pages, llm_group, item_id):
        get(path)
        summary(f"  {label}", timed(lambda path=path: get(path), repeat), 0.3)
