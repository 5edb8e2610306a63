"""The simulation table: flags' precision and recall and each aggregator's accuracy
against the truth, over seeded simulated studies per setting (evalhub.stats.crowd_simulation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalhub.stats.crowd_aggregate import caution, reliability_weighted
from evalhub.stats.crowd_flags import crowd_flags
from evalhub.stats.crowd_simulation import SimulatedStudy, simulate_study
from evalhub.stats.one_coin import one_coin_dawid_skene

TIE = 1


def majority_labels(
    item: NDArray, label: NDArray, n_items: int, *, scale: str, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Each item's majority class: a split top is a tie on the pairwise scale (as the app
    and LIMA count it), else one of the top classes at random (a fair baseline)."""
    counts = np.zeros((n_items, 3))
    np.add.at(counts, (item, label), 1.0)
    top = counts == counts.max(axis=1, keepdims=True)
    split = top.sum(axis=1) > 1
    out = counts.argmax(axis=1)
    if scale == "pairwise":
        out[split] = TIE
    else:
        noise = rng.random(counts.shape) * top
        out[split] = noise.argmax(axis=1)[split]
    return out.astype(np.int64)


def weighted_labels(
    study: SimulatedStudy,
    keep: NDArray[np.bool_] | None = None,
    prior: tuple[float, float] | None = (6.0, 2.0),
) -> NDArray[np.int64]:
    """The one-coin fit's labels per item (judgments by `keep` raters only, when given;
    an item left without judgments falls back to the fit on all)."""
    full = one_coin_dawid_skene(
        study.item, study.rater, study.label, n_classes=3, skill_prior=prior
    )
    out = np.full(study.n_items, -1)
    out[full.items] = full.label
    if keep is not None and keep.any():
        mine = keep[study.rater]
        part = one_coin_dawid_skene(
            study.item[mine], study.rater[mine], study.label[mine], n_classes=3, skill_prior=prior
        )
        out[part.items] = part.label
    return out


def dawid_skene_labels(study: SimulatedStudy) -> NDArray[np.int64]:
    from evalhub.stats.dawid_skene import dawid_skene

    fit = dawid_skene(study.item, study.rater, study.label, n_classes=3)
    out = np.full(study.n_items, -1)
    out[fit.items] = fit.label
    return out


@dataclass
class StudyScore:
    honest: int
    honest_flagged: int
    spammers: int
    spammers_flagged: int
    accuracy: dict[str, float] = field(default_factory=dict)
    caught_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)


def score_study(
    study: SimulatedStudy,
    k: int,
    *,
    rules: dict[str, Any] | None = None,
    with_dawid_skene: bool = False,
    confidence: float | None = None,
) -> StudyScore:
    """Flags and aggregators of one simulated study against its truth."""
    rng = np.random.default_rng(int(study.item.size))
    fit = one_coin_dawid_skene(study.item, study.rater, study.label, n_classes=3)
    flags = crowd_flags(
        n_raters=study.n_raters,
        rater=study.rater,
        item=study.item,
        label=study.label,
        sided=study.sided,
        chose_left=study.chose_left,
        time_ms=study.time_ms,
        fit=fit,
        rules=rules,
    )
    flagged = flags.flagged
    spam = study.spammer
    majority = majority_labels(study.item, study.label, study.n_items, scale=study.scale, rng=rng)
    tie = TIE if study.scale == "pairwise" else None
    labels: dict[str, Callable[[], NDArray]] = {
        "majority": lambda: majority,
        "weighted": lambda: weighted_labels(study),
        "weighted_unflagged": lambda: weighted_labels(study, ~flagged),
        "one_coin_no_prior": lambda: weighted_labels(study, prior=None),
        "reliability_weighted": lambda: (
            reliability_weighted(
                study.item,
                study.rater,
                study.label,
                n_items=study.n_items,
                flagged_rater=np.flatnonzero(flagged),
                tie_class=tie,
                fallback=majority,
                confidence=confidence or caution(k)[0],
                min_margin=caution(k)[1],
            ).label
        ),
    }
    if with_dawid_skene:
        labels["dawid_skene"] = lambda: dawid_skene_labels(study)
    accuracy = {name: float((make() == study.truth).mean()) for name, make in labels.items()}
    by_kind = {
        kind: (int((flagged & (study.kind == kind)).sum()), int((study.kind == kind).sum()))
        for kind in np.unique(study.kind[spam]).tolist()
    }
    return StudyScore(
        honest=int((~spam).sum()),
        honest_flagged=int((flagged & ~spam).sum()),
        spammers=int(spam.sum()),
        spammers_flagged=int((flagged & spam).sum()),
        accuracy=accuracy,
        caught_by_kind=by_kind,
    )


@dataclass(frozen=True)
class Setting:
    scale: str
    k: int
    quota_band: tuple[int, int]
    spammer_share: float

    @property
    def name(self) -> str:
        lo, hi = self.quota_band
        return f"{self.scale} k={self.k} {lo}-{hi}/rater spam={self.spammer_share:.0%}"


SETTINGS = tuple(
    Setting(scale, k, band, share)
    for scale, k, band, share in product(
        ("pairwise", "label"), (3, 5), ((5, 9), (10, 20)), (0.10, 0.25)
    )
)


def setting_row(
    setting: Setting,
    seeds: Iterable[int],
    *,
    rules: dict[str, Any] | None = None,
    with_dawid_skene: bool = False,
    default: str = "reliability_weighted",
    confidence: float | None = None,
) -> dict[str, Any]:
    """One table row: mean honest share falsely flagged, spammer recall, flag precision,
    each aggregator's mean accuracy, and the shares of studies where `default` is at least
    as accurate as the majority, and more accurate."""
    scores = [
        score_study(
            simulate_study(
                seed,
                scale=setting.scale,
                k=setting.k,
                quota_band=setting.quota_band,
                spammer_share=setting.spammer_share,
            ),
            setting.k,
            rules=rules,
            with_dawid_skene=with_dawid_skene,
            confidence=confidence,
        )
        for seed in seeds
    ]
    flagged = sum(s.honest_flagged + s.spammers_flagged for s in scores)
    names = list(scores[0].accuracy)
    acc = {n: float(np.mean([s.accuracy[n] for s in scores])) for n in names}
    kinds: dict[str, list[int]] = {}
    for s in scores:
        for kind, (hit, total) in s.caught_by_kind.items():
            kinds.setdefault(kind, [0, 0])
            kinds[kind][0] += hit
            kinds[kind][1] += total
    return {
        "setting": setting.name,
        "studies": len(scores),
        "honest_false_flag": float(np.mean([s.honest_flagged / s.honest for s in scores])),
        "spammer_recall": sum(s.spammers_flagged for s in scores)
        / max(sum(s.spammers for s in scores), 1),
        "flag_precision": sum(s.spammers_flagged for s in scores) / flagged if flagged else 1.0,
        "accuracy": acc,
        "default_at_least_majority": float(
            np.mean([s.accuracy[default] >= s.accuracy["majority"] for s in scores])
        ),
        "default_above_majority": float(
            np.mean([s.accuracy[default] > s.accuracy["majority"] for s in scores])
        ),
        "recall_by_kind": {k: hit / total for k, (hit, total) in sorted(kinds.items())},
    }
