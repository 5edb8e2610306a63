"""Tie-discounted accuracy, Cohen's kappa, Krippendorff's alpha and the group matrix."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evalhub.stats.agreement import (
    agreement_matrix,
    cohen_kappa,
    judge_agreement,
    krippendorff_alpha,
    krippendorff_alpha_from_counts,
    tie_discounted_agreement,
)

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example with 4 observers,
# 12 units and missing values. Published: nominal .743, ordinal .815, interval .849.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)
# The example on Wikipedia's "Krippendorff's alpha" page: nominal .691, interval .811.
WIKIPEDIA = np.array(
    [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
)


def test_tie_discounted_accuracy_by_hand():
    # same: 1; one said tie: 0.5; one said tie: 0.5; win vs loss: 0
    assert tie_discounted_agreement([1, 1, 0, -1], [1, 0, -1, 1]) == pytest.approx(0.5)
    assert tie_discounted_agreement([0, 0], [0, 0]) == 1.0


def test_cohen_kappa_on_the_textbook_example():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o 0.7, p_e 0.5, kappa 0.4
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b, scale="label") == pytest.approx(0.4)


def test_kappa_and_alpha_by_hand():
    # items (a,a) (a,b) (b,b) (b,b): p_o 3/4, p_e 1/2 -> kappa 1/2.
    # coincidences o_aa 2, o_ab = o_ba 1, o_bb 4; n_a 3, n_b 5, n 8:
    # alpha = 1 - (n - 1) * 2 / (2 * 3 * 5) = 16/30
    result = judge_agreement([0, 0, 2, 2], [0, 2, 2, 2], scale="label")
    assert result.cohen_kappa == pytest.approx(0.5)
    assert result.krippendorff_alpha == pytest.approx(16 / 30)
    assert result.percent_agreement == 0.75
    assert result.tie_discounted_accuracy is None


@pytest.mark.parametrize(
    ("data", "level", "published", "reference"),
    [
        # reference: the `krippendorff` PyPI package on the same data, to 1e-12
        (KRIPPENDORFF_2011, "nominal", 0.743, 0.743421052631579),
        (KRIPPENDORFF_2011, "ordinal", 0.815, 0.8153875037548814),
        (KRIPPENDORFF_2011, "interval", 0.849, 0.8491071428571428),
        (WIKIPEDIA, "nominal", 0.691, 0.691358024691358),
        (WIKIPEDIA, "interval", 0.811, 0.8108448928121059),
    ],
)
def test_krippendorff_alpha_matches_published_examples(data, level, published, reference):
    alpha = krippendorff_alpha(data, level=level)
    assert round(alpha, 3) == published
    assert alpha == pytest.approx(reference, abs=1e-12)


def test_alpha_from_counts_equals_alpha_from_reliability_data():
    values = np.array([1, 2, 3, 4, 5])
    counts = np.zeros((12, 5))
    for unit in range(12):
        for v in KRIPPENDORFF_2011[:, unit]:
            if not np.isnan(v):
                counts[unit, int(v) - 1] += 1
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha_from_counts(counts, level=level, values=values) == (
            pytest.approx(krippendorff_alpha(KRIPPENDORFF_2011, level=level))
        )


def test_alpha_is_undefined_without_variation():
    assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]]))
    assert np.isnan(krippendorff_alpha([[1, NAN], [NAN, 2]]))  # nothing pairable


def test_likert_agreement_uses_ordinal_alpha():
    a, b = [1, 2, 5, 6, 3], [2, 2, 6, 5, 3]
    result = judge_agreement(a, b, scale="likert")
    assert result.alpha_level == "ordinal"
    assert result.krippendorff_alpha == pytest.approx(
        krippendorff_alpha([a, b], level="ordinal", values=range(1, 7))
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), min_size=2, max_size=40))
def test_a_group_agrees_with_itself(verdicts):
    result = judge_agreement(verdicts, verdicts, scale="pairwise")
    assert result.tie_discounted_accuracy == 1.0
    assert result.percent_agreement == 1.0
    assume(len(set(verdicts)) > 1)  # kappa and alpha need variation to be defined
    assert result.cohen_kappa == pytest.approx(1.0)
    assert result.krippendorff_alpha == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-1, 0, 1]), st.sampled_from([-1, 0, 1])), min_size=1))
def test_agreement_is_symmetric(pairs):
    a, b = zip(*pairs, strict=True)
    ab, ba = judge_agreement(a, b, scale="pairwise"), judge_agreement(b, a, scale="pairwise")
    assert ab.tie_discounted_accuracy == pytest.approx(ba.tie_discounted_accuracy)
    np.testing.assert_allclose(
        [ab.cohen_kappa, ab.krippendorff_alpha], [ba.cohen_kappa, ba.krippendorff_alpha]
    )


def test_the_matrix_by_hand():
    # item 1: crowd 1, 1; gpt 1.  item 2: crowd 0, 1; gpt -1.  item 3: crowd -1, 0; gpt -1, -1
    items = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    groups = ["crowd", "crowd", "gpt", "crowd", "crowd", "gpt", "crowd", "gpt", "crowd", "gpt"]
    values = [1, 1, 1, 0, 1, -1, -1, -1, 0, -1]
    matrix = agreement_matrix(items, groups, values, scale="pairwise")
    assert matrix.groups == ("crowd", "gpt")
    np.testing.assert_array_equal(matrix.n_items, [[3, 3], [3, 1]])
    # crowd-crowd: item 1 agrees, items 2 and 3 have one tie each
    assert matrix.percent_agreement[0, 0] == pytest.approx(1 / 3)
    assert matrix.tie_discounted_accuracy[0, 0] == pytest.approx(2 / 3)
    # crowd-gpt, per item averaged over cross pairs: 1, (0.5 + 0) / 2, (1 + 0.5) / 2
    assert matrix.tie_discounted_accuracy[0, 1] == pytest.approx((1 + 0.25 + 0.75) / 3)
    assert matrix.percent_agreement[0, 1] == pytest.approx((1 + 0 + 0.5) / 3)
    np.testing.assert_array_equal(matrix.cohen_kappa, matrix.cohen_kappa.T)
    # alpha pools both groups' judgments per item
    assert matrix.krippendorff_alpha[0, 1] == pytest.approx(
        krippendorff_alpha([[1, 0, -1], [1, 1, 0], [1, -1, -1], [NAN, NAN, -1]], values=[-1, 0, 1])
    )


def test_the_matrix_matches_two_array_agreement_with_one_judgment_each():
    rng = np.random.default_rng(4)
    a, b = rng.choice([0, 1, 2], 50), rng.choice([0, 1, 2], 50)
    items = np.concatenate([np.arange(50), np.arange(50)])
    groups = np.repeat(["author", "crowd"], 50)
    matrix = agreement_matrix(items, groups, np.concatenate([a, b]), scale="label")
    assert matrix.pair("author", "crowd") == judge_agreement(a, b, scale="label")
    assert matrix.tie_discounted_accuracy is None


def test_it_rejects_misaligned_input():
    with pytest.raises(ValueError):
        judge_agreement([1, 0], [1], scale="pairwise")
    with pytest.raises(ValueError):
        judge_agreement([7], [1], scale="pairwise")
