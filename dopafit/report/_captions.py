"""Captions of the report's figures: what each figure shows and how to read it."""

from __future__ import annotations

__all__ = ["COMPARISON_CAPTION", "figure_captions"]

_SPLIT_CAPTION = (
    "Distribution over random split halves of <b>a</b>, the correlation between τ (half B) "
    "and the reversal point (half A); <b>b</b>, the correlation of the reversal points of "
    "the two halves (reliability); <b>c</b>, the one-way ANOVA F of fold-wise τ across units "
    "(dashed: critical F at 0.05). Black line: median; shaded: 5–95%. One split is one "
    "random draw; only the distribution over many splits is a result."
)
_DECODE_CAPTION = (
    "Reward distribution decoded by expectile imputation from the units' all-trial "
    "(τ, reversal point) pairs (reversal points mapped to reward, see Methods), against the "
    "task's distribution. <b>a</b>, both smoothed with the same Gaussian kernel (ticks: "
    "decoded samples; stems: task probabilities). <b>b</b>, cumulative distributions with "
    "means, SDs and Wasserstein-1 distances."
)
COMPARISON_CAPTION = (
    "Each panel is one statistic computed by the identical pipeline on the recording "
    "and on every simulated dataset. Rows: accounts fitted to the recording (box: 5–95% "
    "of the simulated values, bar: median, line: range). Diamond: observed value (for "
    "the combined statistics the Fisher statistic depends on the account's direction). "
    "Right: calibrated p-value, bold below alpha."
)
_TAU_COMPARISON = (
    " <b>c, d</b>, the median over splits of r(τ, reversal) and of the reliability "
    "in datasets simulated under each account (box 5–95%, bar median, line range) "
    "and in the recording (grey: its distribution over splits; dashed: median)."
)


def figure_captions(axis_label: str, *, sem: bool, comparison: bool) -> dict[str, str]:
    """Figure name -> caption (HTML) of the figures of a fit and of its comparison.

    Parameters
    ----------
    axis_label : str
        The fit's axis label, already escaped for HTML.
    sem : bool
        The responses are at hand, so the figures show SEM bars.
    comparison : bool
        A comparison of accounts is shown (panels c, d of the tau-reversal figure).
    """
    pm = "± SEM " if sem else ""
    return {
        "response_curves": (
            f"Mean response {pm}of every fitted unit at each reward magnitude, on the fit's "
            f"axis ({axis_label}; reward magnitudes on top), coloured by the unit's asymmetry "
            "τ = α⁺/(α⁺+α⁻) (all trials). Ticks on the zero line mark each unit's reversal "
            "point. Under distributional TD, units with higher τ reverse at larger rewards."
        ),
        "response_grid": (
            "One panel per unit, sorted by reversal point: mean response "
            f"{pm}(markers), the fitted slopes α⁻ below and α⁺ above the reversal point (lines; "
            "least squares through the reversal point on single trials), and the reversal point "
            "(dashed). 'edge': the counting maximum was beyond all magnitudes and the estimate "
            "is capped."
        ),
        "tau_reversal": (
            "<b>a</b>, τ from one half of the trials against the reversal point from the other, "
            "for the split whose r is the median over splits (the test: estimates from "
            "independent trials), with the least-squares line. <b>b</b>, the same quantities "
            "from all trials with bootstrap intervals; estimated on the same trials they "
            "correlate even without any real relation, so this panel describes and does not "
            "test. Green curve: the distributional-TD prediction (each reversal point is the "
            "τ-expectile of the reward distribution on this axis); blue square: classical TD "
            "(τ = 0.5 at the mean)." + (_TAU_COMPARISON if comparison else "")
        ),
        "split_distributions": _SPLIT_CAPTION,
        "decoded_distribution": _DECODE_CAPTION,
        "comparison": COMPARISON_CAPTION,
    }
