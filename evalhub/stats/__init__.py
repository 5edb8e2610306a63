"""Pure statistics for LIMA-style evaluations: numpy arrays in, frozen dataclasses out.

No Django or ORM here: selectors turn rows into arrays and call these functions.
Codes used throughout: pairwise verdicts 1 = target (model_a) wins, 0 = tie, -1 = loss;
labels 0 = Fail, 1 = Pass, 2 = Excellent; Likert scores 1..6.
"""

from evalhub.stats.agreement import (
    Agreement,
    AgreementMatrix,
    agreement_matrix,
    cohen_kappa,
    judge_agreement,
    krippendorff_alpha,
    krippendorff_alpha_from_counts,
    tie_discounted_agreement,
)
from evalhub.stats.alpaca_lc import LengthControlledFit, length_controlled_fit
from evalhub.stats.bias import PositionBias, SwapConsistency, position_bias, swap_consistency
from evalhub.stats.bootstrap import Interval
from evalhub.stats.bradley_terry import (
    BradleyTerryLeaderboard,
    battle_cell_counts,
    bradley_terry_leaderboard,
    rank_by_intervals,
    win_probability,
)
from evalhub.stats.chain import ChainScores, chain_best, chain_scores
from evalhub.stats.choices import (
    ChoiceShare,
    ChoiceShares,
    WeightedWinRate,
    choice_shares,
    weighted_win_rate,
)
from evalhub.stats.length_bias import LengthBinnedWinRate, win_rate_by_length
from evalhub.stats.likert import LikertMean, likert_mean
from evalhub.stats.outcomes import (
    WinTieLoss,
    sign_test_p_value,
    win_tie_loss,
    win_tie_loss_by_slice,
)
from evalhub.stats.power import SamplePlan, exact_power, normal_power, prompts_needed
from evalhub.stats.ratings import (
    LabelDistribution,
    LabelShare,
    label_distribution,
    label_distributions_by,
    wilson_interval,
)

__all__ = [
    "Agreement",
    "AgreementMatrix",
    "BradleyTerryLeaderboard",
    "ChainScores",
    "ChoiceShare",
    "ChoiceShares",
    "Interval",
    "LabelDistribution",
    "LabelShare",
    "LengthBinnedWinRate",
    "LengthControlledFit",
    "LikertMean",
    "PositionBias",
    "SamplePlan",
    "SwapConsistency",
    "WeightedWinRate",
    "WinTieLoss",
    "agreement_matrix",
    "battle_cell_counts",
    "bradley_terry_leaderboard",
    "chain_best",
    "chain_scores",
    "choice_shares",
    "cohen_kappa",
    "exact_power",
    "judge_agreement",
    "krippendorff_alpha",
    "krippendorff_alpha_from_counts",
    "label_distribution",
    "label_distributions_by",
    "length_controlled_fit",
    "likert_mean",
    "normal_power",
    "position_bias",
    "prompts_needed",
    "rank_by_intervals",
    "sign_test_p_value",
    "swap_consistency",
    "tie_discounted_agreement",
    "weighted_win_rate",
    "wilson_interval",
    "win_probability",
    "win_rate_by_length",
    "win_tie_loss",
    "win_tie_loss_by_slice",
]
