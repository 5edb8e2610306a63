"""The dataset card of a release: README.md with the YAML front matter that the Hugging Face
Hub reads (license, task_categories, size_categories, one `configs` entry per parquet file),
then the protocol, counts, headline results with intervals, agreement, exclusions with
reasons, what changed since the previous version, and how to cite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evalhub.releases.tables import TABLES

# The Hub's size buckets (https://huggingface.co/docs/hub/datasets-cards), by judgments.
_SIZES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
          (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]  # fmt: skip


def size_category(n: int) -> str:
    return next((name for limit, name in _SIZES if n < limit), "10M<n<100M")


@dataclass(frozen=True)
class CardFacts:
    slug: str
    name: str
    kind: str
    version: int
    license: str
    published_at: datetime
    counts: dict[str, Any]
    protocol: dict[str, Any]
    results: dict[str, Any]
    exclusions: list[dict[str, Any]]
    changes: list[str]
    previous_version: int | None
    include_comments: bool
    withhold_model_names: bool
    model_names: dict[str, str]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _interval(iv: dict[str, Any] | None) -> str:
    if not iv or iv.get("low") is None:
        return ""
    return f" [{_pct(iv['low'])}, {_pct(iv['high'])}]"


def front_matter(facts: CardFacts) -> str:
    configs = "".join(
        f"- config_name: {name}\n  data_files:\n  - split: train\n    path: data/{name}.parquet\n"
        for name in TABLES
    )
    return (
        "---\n"
        f"license: {facts.license}\n"
        "task_categories:\n- text-generation\n- text-classification\n"
        "language:\n- en\n"
        f"size_categories:\n- {size_category(facts.counts.get('judgments', 0))}\n"
        "tags:\n- human-preference\n- llm-evaluation\n- lima\n- evalhub\n"
        f"pretty_name: {_yaml_str(facts.name)}\n"
        f"configs:\n{configs}"
        "---\n"
    )


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _results_lines(facts: CardFacts) -> list[str]:
    body = facts.results
    name = lambda slug: facts.model_names.get(slug, slug)  # noqa: E731 - withheld or not
    lines: list[str] = []
    if body.get("pairwise"):
        lines += [
            "Win / tie / loss of the target against each baseline, as shares of counted "
            "judgments, with 95% prompt-clustered bootstrap intervals "
            f"({body['pairwise'][0].get('rounds', '')} rounds) and an exact sign test. "
            "LLM verdicts in both orders are combined per item under the study's policy "
            f"(`{body.get('llm_pair_policy', 'tie')}`).",
            "",
            "| baseline | judge group | n | win | tie | loss | sign test p |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in body["pairwise"]:
            lines.append(
                f"| {name(row['baseline'])} | {row['judge_group']} | {row['n_judgments']} "
                f"| {_pct(row['win_share'])}{_interval(row.get('win_interval'))} "
                f"| {_pct(row['tie_share'])}{_interval(row.get('tie_interval'))} "
                f"| {_pct(row['loss_share'])}{_interval(row.get('loss_interval'))} "
                f"| {row['sign_test_p_value']:.3g} |"
            )
    for row in body.get("likert") or []:
        lines.append(
            f"- {name(row['model'])} ({row['judge_group']}): mean {row['mean']:.2f} "
            f"[{row['low']:.2f}, {row['high']:.2f}] over {row['n_scores']} scores"
        )
    if body.get("labels"):
        lines += ["Fail / Pass / Excellent shares with 95% Wilson intervals.", "",
                  "| model | judge group | n | shares |", "|---|---|---|---|"]  # fmt: skip
        for row in body["labels"]:
            shares = ", ".join(
                f"{s['label']} {_pct(s['share'])}{_interval(s.get('wilson'))}"
                for s in row["shares"]
            )
            lines.append(
                f"| {name(row['model'])} | {row['judge_group']} | {row['n_ratings']} | {shares} |"
            )
    elif body.get("choices") and not body.get("pairwise"):
        lines += ["| model | judge group | n | shares (Wilson 95%) |", "|---|---|---|---|"]
        for row in body["choices"]:
            shares = ", ".join(
                f"{s['value']} {_pct(s['share'])}{_interval(s.get('wilson'))}"
                for s in row.get("shares", [])
            )
            slice_name = name(row.get("model") or row.get("baseline") or "")
            lines.append(f"| {slice_name} | {row['judge_group']} | {row.get('n', '')} | {shares} |")
    return lines or ["No counted judgments."]


def _agreement_lines(agreement: dict[str, Any] | None) -> list[str]:
    if not agreement or not agreement.get("groups"):
        return ["Not enough overlapping judgments to measure agreement."]
    groups = agreement["groups"]
    lines = ["| group | group | items | agreement | Cohen's kappa | Krippendorff's alpha |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for i, a in enumerate(groups):
        for j in range(i, len(groups)):
            n = agreement["n_items"][i][j]
            if not n:
                continue
            pa, kappa = agreement["percent_agreement"][i][j], agreement["cohen_kappa"][i][j]
            alpha = agreement["krippendorff_alpha"][i][j]
            fmt = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
            lines.append(f"| {a} | {groups[j]} | {n} | {_pct(pa)} | {fmt(kappa)} | {fmt(alpha)} |")
    return lines


def dataset_card(facts: CardFacts, file_sizes: dict[str, int]) -> str:
    c, p = facts.counts, facts.protocol
    lines = [
        front_matter(facts),
        f"# {facts.name} (v{facts.version})",
        "",
        f"Human and LLM judgments from the EvalHub study `{facts.slug}` ({facts.kind}), "
        f"published {facts.published_at:%Y-%m-%d} as version {facts.version}. Raters are "
        "identified only by a keyed hash that is stable within this study; no participant "
        "id appears in any file."
        + ("" if facts.include_comments else " Rater comments (free text) are not included.")
        + (
            " Model names are withheld: models appear by role (`target`, `baseline-N`)."
            if facts.withhold_model_names
            else ""
        ),
        "",
        "## Protocol",
        "",
        f"- Instrument: `{p['instrument_slug']}` v{p['instrument_version']} "
        f"(sha256 `{p['instrument_hash'][:12]}…`): {p['question']}",
        f"- Choices: {', '.join(p['choices'])}",
        f"- Raters per item: {p['raters_per_item']}; attention-check rate "
        f"{p['attention_check_rate']}; each rater sees a random left/right order "
        "(`target_side`, `left_output_id`, `right_output_id`).",
        f"- Target: {p['target']}; baselines: {', '.join(p['baselines']) or 'none'}.",
        f"- LLM judges: {', '.join(p['judges']) or 'none'}; each LLM judge judges both orders.",
        f"- Frozen configuration sha256: `{p['config_hash']}` (`data/config.parquet`).",
        "",
        "## Counts",
        "",
        "| what | n |",
        "|---|---|",
        *[f"| {k.replace('_', ' ')} | {v} |" for k, v in c.items()],
        "",
        "A judgment counts in results unless it is on a gold item, an attention check, a "
        "failed parse, or by an excluded rater (`counted` column).",
        "",
        "## Results",
        "",
        *_results_lines(facts),
        "",
        "## Agreement",
        "",
        *_agreement_lines(facts.results.get("agreement")),
        "",
        "## Exclusions",
        "",
    ]
    if facts.exclusions:
        lines += ["| rater (hashed) | judgments | reason |", "|---|---|---|"]
        lines += [f"| {e['rater']} | {e['judgments']} | {e['reason'].replace('|', '/')} |"
                  for e in facts.exclusions]  # fmt: skip
        lines.append("")
        lines.append("Excluded judgments stay in `judgments` with `excluded = true` and the "
                     "reason in `exclusion_reason`.")  # fmt: skip
    else:
        lines.append("No rater was excluded.")
    lines += ["", "## Changes", ""]
    if facts.previous_version is None:
        lines.append("First version.")
    else:
        lines.append(f"Since v{facts.previous_version}:")
        lines += [f"- {change}" for change in facts.changes] or ["- No change in the data."]
    lines += ["", "## Files", "", "| file | bytes | holds |", "|---|---|---|"]
    lines += [f"| data/{name}.parquet | {file_sizes.get(name, 0)} | {what} |"
              for name, what in TABLES.items()]  # fmt: skip
    lines += [
        "",
        "`checksums` lists the sha256 of every file (`sha256sum -c checksums`).",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        'judgments = load_dataset("parquet", data_files="data/judgments.parquet")["train"]',
        "```",
        "",
        "## How to cite",
        "",
        "```bibtex",
        f"@misc{{{facts.slug.replace('-', '_')}_v{facts.version},",
        f"  title = {{{{{facts.name}}}: human preference judgments, version {facts.version}}},",
        f"  year = {{{facts.published_at:%Y}}},",
        "  note = {Published with EvalHub}",
        "}",
        "```",
        "",
        'The protocol follows LIMA: Zhou et al., "LIMA: Less Is More for Alignment", NeurIPS 2023.',
        "",
    ]
    return "\n".join(lines)
