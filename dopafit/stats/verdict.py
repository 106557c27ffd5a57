"""The plain-language verdict of a comparison, from its Dataset alone.

The verdict first says whether the data reject the nulls (classical TD, on
``combined_diversity`` else ``r_tau_reversal`` else ``reliability``; diverse symmetric biases,
on ``combined_asymmetry`` else ``r_tau_reversal``), then whether each fitted account that
produces the signature (distributional TD, the efficient-coding sigmoid population) is
consistent with the data (two-sided, Bonferroni over the combined statistics), then what the
evidence favours. It reads only the Dataset, so a comparison read back from netCDF gets the
same text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["fmt_p", "verdict_text"]


def fmt_p(p: float) -> str:
    """A p-value as printed: 3 significant digits, scientific below 0.001, n/a if NaN."""
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.3g}" if p >= 0.001 else f"{p:.1e}"


def _strength(p: float, alpha: float) -> str:
    if p < min(alpha, 0.001) or p <= 0.001:
        return "strongly"
    if p < min(alpha, 0.01):
        return "clearly"
    return ""


def _pick(ds, account: str, stats: Sequence[str]) -> tuple[float, str, float, float]:
    """The first computable statistic among ``stats`` for an account.

    Returns (p_calibrated, name, p_greater, p_less); NaN and "" when none.
    """
    if account not in ds["account"].values:
        return np.nan, "", np.nan, np.nan
    for s in stats:
        if bool(ds["computable"].sel(statistic=s)):
            sel = dict(account=account, statistic=s)
            p = float(ds["p_calibrated"].sel(**sel))
            if np.isfinite(p):
                return p, s, float(ds["p_greater"].sel(**sel)), float(ds["p_less"].sel(**sel))
    return np.nan, "", np.nan, np.nan


def _alt_account(ds, account: str, alpha: float, label: str) -> tuple[str, bool | None]:
    """Sentence about an account that produces the signature (two-sided, Bonferroni over the
    combined statistics) and whether it is consistent with the data (None: not run)."""
    combined = [str(s) for s in ds["statistic"].values if str(s).startswith("combined")]
    found = [_pick(ds, account, (s,)) for s in combined]
    found = [f for f in found if np.isfinite(f[0])]
    if not found:
        found = [f for f in [_pick(ds, account, ("r_tau_reversal",))] if np.isfinite(f[0])]
        if not found:
            return "", None
    m = len(found)
    p, name, pg, pl = min(found, key=lambda f: f[0])
    p_adj = min(1.0, m * p)
    what = f"two-sided p = {fmt_p(p_adj)}, {name}" + (f", Bonferroni x{m}" if m > 1 else "")
    if p_adj < alpha:
        side = "more" if pg < pl else "less"
        return (
            f"{label} is contradicted: the data show {side} of the distributional signature "
            f"than it predicts ({what})",
            False,
        )
    return f"{label} is consistent with the data ({what})", True


def verdict_text(ds) -> str:
    """Plain-language verdict: the nulls, then the accounts that produce the signature."""
    alpha = float(ds.attrs.get("alpha", 0.05))
    n_sim = int(ds.sizes["sim"])
    p_cl, s_cl, _, _ = _pick(
        ds, "classical", ("combined_diversity", "r_tau_reversal", "reliability")
    )
    p_bi, s_bi, _, _ = _pick(ds, "bias", ("combined_asymmetry", "r_tau_reversal"))
    rej_cl = bool(np.isfinite(p_cl) and p_cl < alpha)
    rej_bi = bool(np.isfinite(p_bi) and p_bi < alpha)
    sentences = [_null_sentence(p_cl, s_cl, p_bi, s_bi, alpha)]
    di_text, di_ok = _alt_account(ds, "distributional", alpha, "Distributional TD (as fitted)")
    si_text, si_ok = _alt_account(
        ds, "sigmoid", alpha, "An efficient-coding sigmoid population (as fitted)"
    )
    sentences += [di_text, si_text]
    if rej_cl and rej_bi and di_ok is not None:
        sentences.append(_conclusion(di_ok, si_ok))
    if not any(sentences):
        sentences = [_not_computable(ds)]
    out = ". ".join(" ".join(t.split()) for t in sentences if t)
    out = (out + ". ") if out else ""
    out += (
        f"(alpha = {alpha:g}; {n_sim} simulations per account, {_attainable(ds, n_sim)}; "
        "the combined statistics are pre-specified, single statistics in the table are not "
        "corrected for multiplicity.)"
    )
    return out


def _attainable(ds, n_sim: int) -> str:
    """The smallest p-value each kind of test in the verdict can reach with ``n_sim``."""
    text = f"smallest attainable p = {fmt_p(1.0 / (n_sim + 1))}"
    accounts = {str(a) for a in ds["account"].values}
    if accounts & {"distributional", "sigmoid"}:
        m = max(1, sum(str(s).startswith("combined") for s in ds["statistic"].values))
        two_sided = min(1.0, 2.0 * m / (n_sim + 1))
        text += (
            f" one-sided (the nulls) and {fmt_p(two_sided)} for the two-sided checks of the "
            "accounts that produce the signature" + (f" (Bonferroni x{m})" if m > 1 else "")
        )
    return text


def _not_computable(ds) -> str:
    """The sentence when no statistic of the verdict could be computed."""
    reasons = []
    if "reason" in ds and "statistic" in ds["reason"].dims:
        reasons = [str(r) for r in ds["reason"].values if str(r)]
    why = f" ({reasons[0]})" if reasons else ""
    return f"No statistic of the verdict could be computed on these data{why}"


def _null_sentence(p_cl: float, s_cl: str, p_bi: float, s_bi: str, alpha: float) -> str:
    """What the data say about classical TD and diverse symmetric biases ("" if not run)."""
    cl = f"calibrated p = {fmt_p(p_cl)}, {s_cl}"
    bi = f"p = {fmt_p(p_bi)}, {s_bi}"
    rej_cl = bool(np.isfinite(p_cl) and p_cl < alpha)
    rej_bi = bool(np.isfinite(p_bi) and p_bi < alpha)
    if np.isfinite(p_cl) and np.isfinite(p_bi):
        if rej_cl and rej_bi:
            return (
                f"The data {_strength(p_cl, alpha)} reject classical TD ({cl}) and "
                f"{_strength(p_bi, alpha)} reject diverse symmetric biases ({bi})"
            )
        if rej_cl:
            return (
                f"The data {_strength(p_cl, alpha)} reject classical TD ({cl}) but do not "
                f"distinguish distributional TD from diverse symmetric biases ({bi})"
            )
        if rej_bi:
            return (
                f"The data do not reject classical TD ({cl}) but reject diverse symmetric "
                f"biases ({bi})"
            )
        return (
            f"The data reject neither classical TD ({cl}) nor diverse symmetric biases "
            f"({bi}): no evidence beyond what noise and the pipeline produce"
        )
    if np.isfinite(p_cl):
        verb = f"{_strength(p_cl, alpha)} reject" if rej_cl else "do not reject"
        return f"The data {verb} classical TD ({cl})"
    if np.isfinite(p_bi):
        verb = f"{_strength(p_bi, alpha)} reject" if rej_bi else "do not reject"
        return f"The data {verb} diverse symmetric biases ({bi})"
    return ""


def _conclusion(di_ok: bool, si_ok: bool | None) -> str:
    """The closing sentence when both nulls are rejected and distributional TD was run."""
    if di_ok and si_ok:
        return (
            "The evidence favours distributional TD over classical TD and symmetric "
            "biases, but does not distinguish it from an efficient-coding sigmoid population"
        )
    if di_ok:
        return "The evidence favours distributional TD over the other accounts tested"
    if si_ok:
        return (
            "Of the accounts tested, only the efficient-coding sigmoid population is "
            "consistent with every combined statistic"
        )
    return "None of the accounts tested reproduces every combined statistic"
