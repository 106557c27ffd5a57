"""Mixed-effects model comparison of single-trial responses (statsmodels ``MixedLM``).

A nominal, likelihood-based companion to the simulation-calibrated comparison: one shared
reversal point versus one per unit, and symmetric versus asymmetric slopes, as linear mixed
models of single trials with units as groups.

Models (``x`` the axis value of the trial, ``z`` one shared reversal point: the counting
rule on the pooled trials of all units; responses divided by each unit's residual SD so that
one residual variance fits all units)

``shared``
    ``y = (beta + b_u) (x - z) + e``: random slope per unit, no intercept -- every unit
    crosses zero at ``z``.
``diverse``
    ``y = (beta0 + a_u) + (beta + b_u) (x - z) + e``: a random intercept moves each unit's
    zero crossing to ``z - (beta0 + a_u) / (beta + b_u)`` (one reversal point per unit).
``asymmetric``
    ``y = (beta0 + a_u) + (beta_neg + b_u) min(x - z, 0) + (beta_pos + c_u) max(x - z, 0) + e``:
    slopes below and above ``z`` free per unit.

Likelihood-ratio tests compare nested models fitted by maximum likelihood (not REML: the
fixed effects differ). Caveats, reported with the table: variance parameters under the null
lie on the boundary of the parameter space, so the naive chi-square reference is
conservative; the mixture p-value (equal mixture of chi-square with ``df - 1`` and ``df``
degrees of freedom, Self & Liang 1987) is an approximation. ``z`` is estimated from the same
data and the kink models assume a shared kink location; the tests are nominal, not
calibrated -- the calibrated answer is :func:`dopafit.compare`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["MODELS", "TESTS", "fit_mixed_models"]

MODELS = ("shared", "diverse", "asymmetric")
TESTS = (("diverse", "shared"), ("asymmetric", "diverse"))


def _design(layout) -> pd.DataFrame:
    from dopafit.kernels.expectile import count_reversal
    from dopafit.stats.accounts import fit_noise

    prep = layout.prep
    n_mag = prep.cnt.shape[1]
    vals = prep.vals
    n = prep.cnt.sum(axis=0).astype(np.int64)
    pos = np.bincount(layout.mag_of, weights=(vals > 0).astype(float), minlength=n_mag)
    neg = np.bincount(layout.mag_of, weights=(vals < 0).astype(float), minlength=n_mag)
    z, _, _ = count_reversal(
        n, pos.astype(np.int64), neg.astype(np.int64), prep.axis, layout.cap_lo, layout.cap_hi
    )
    noise = fit_noise(layout)
    resid_sd = np.sqrt(np.nanmean(noise.sd**2, axis=1))
    keep = layout.unit_ok[layout.unit_of]
    x = prep.axis[layout.mag_of] - z
    with np.errstate(divide="ignore", invalid="ignore"):
        y = vals / resid_sd[layout.unit_of]
    # a unit without residual spread (constant responses) cannot be standardised: left out
    keep = keep & np.isfinite(y)
    df = pd.DataFrame(
        {
            "y": y[keep],
            "xc": x[keep],
            "xneg": np.minimum(x, 0.0)[keep],
            "xpos": np.maximum(x, 0.0)[keep],
            "unit": layout.unit_of[keep],
        }
    )
    df.attrs["shared_reversal_point"] = float(z)
    return df


_METHODS = ("lbfgs", "powell", "nm")


def _fit(formula: str, re_formula: str, data: pd.DataFrame):
    """Fit by ML; on failure or non-convergence try the next optimiser; keep the best fit.

    Returns the result (None if every optimiser failed) and the warnings of the kept fit.
    """
    import statsmodels.formula.api as smf

    best, best_msgs, errors = None, [], []
    for method in _METHODS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = smf.mixedlm(formula, data, groups=data["unit"], re_formula=re_formula)
                res = model.fit(reml=False, method=[method])
            except (ValueError, np.linalg.LinAlgError) as exc:
                errors.append(f"{method}: {exc.__class__.__name__}: {exc}")
                continue
        llf = float(res.llf)
        if not np.isfinite(llf):
            errors.append(f"{method}: non-finite log-likelihood")
            continue
        converged = bool(getattr(res, "converged", True))
        if best is None or llf > float(best.llf) + 1e-9:
            msgs = []
            for w in caught:
                text = str(w.message).split("\n")[0]
                if text not in msgs:
                    msgs.append(text)
            if not converged:
                msgs.insert(0, f"{method} did not converge")
            best, best_msgs = res, [f"optimiser {method}", *msgs]
        if converged:
            break  # the next optimisers are fallbacks
    if best is None:
        return None, errors
    return best, best_msgs


def fit_mixed_models(layout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit the mixed models and the likelihood-ratio tests.

    Parameters
    ----------
    layout : dopafit.stats.statistics.Layout

    Returns
    -------
    models : pandas.DataFrame
        One row per model: ``model``, ``formula``, ``re_formula``, ``llf``, ``aic``, ``bic``,
        ``n_params``, ``converged``, ``warnings`` (``; ``-joined), ``n_obs``, ``n_groups``.
    tests : pandas.DataFrame
        One row per nested comparison: ``model``, ``null``, ``lr``, ``df``, ``p_naive``
        (chi-square with ``df``), ``p_mixture`` (½ chi2(df-1) + ½ chi2(df)), ``note``.
    """
    data = _design(layout)
    specs = {
        "shared": ("y ~ 0 + xc", "0 + xc"),
        "diverse": ("y ~ 1 + xc", "1 + xc"),
        "asymmetric": ("y ~ 1 + xneg + xpos", "1 + xneg + xpos"),
    }
    rows = []
    n_groups = int(data["unit"].nunique()) if len(data) else 0
    for name, (formula, re_formula) in specs.items():
        res, messages = (
            (None, ["fewer than 2 units"]) if n_groups < 2 else _fit(formula, re_formula, data)
        )
        row = dict(model=name, formula=formula, re_formula=re_formula)
        row.update(_fit_summary(res, len(data)))
        row.update(warnings="; ".join(messages), n_obs=len(data), n_groups=n_groups)
        rows.append(row)
    models = pd.DataFrame(rows)
    models.attrs["shared_reversal_point"] = data.attrs.get("shared_reversal_point", np.nan)
    return models, _lr_tests(models)


def _fit_summary(res, n_obs: int) -> dict:
    """Log-likelihood, AIC, BIC, parameter count and convergence of one fit (NaN if none)."""
    if res is None:
        return dict(llf=np.nan, aic=np.nan, bic=np.nan, n_params=np.nan, converged=False)
    k_re = res.cov_re.shape[0]
    n_params = len(res.fe_params) + k_re * (k_re + 1) // 2 + 1
    llf = float(res.llf)
    return dict(
        llf=llf,
        aic=-2 * llf + 2 * n_params,
        bic=-2 * llf + np.log(n_obs) * n_params,
        n_params=n_params,
        converged=bool(getattr(res, "converged", True)),
    )


def _lr_tests(models: pd.DataFrame) -> pd.DataFrame:
    """The likelihood-ratio test of every nested pair of :data:`TESTS`."""
    from scipy import stats

    trows = []
    by = models.set_index("model")
    for alt, null in TESTS:
        lr = 2.0 * (by.loc[alt, "llf"] - by.loc[null, "llf"])
        df = by.loc[alt, "n_params"] - by.loc[null, "n_params"]
        if np.isfinite(lr) and np.isfinite(df) and df > 0:
            lr = max(lr, 0.0)
            p_naive = float(stats.chi2.sf(lr, df))
            p_mix = (
                float(0.5 * stats.chi2.sf(lr, df - 1) + 0.5 * stats.chi2.sf(lr, df))
                if df > 1
                else 0.5 * p_naive
            )
        else:
            p_naive = p_mix = np.nan
        trows.append(
            dict(
                model=alt,
                null=null,
                lr=lr,
                df=df,
                p_naive=p_naive,
                p_mixture=p_mix,
                note="ML fits; variance on the boundary under the null (naive p conservative, "
                "mixture p approximate); shared kink estimated from the same data; nominal",
            )
        )
    return pd.DataFrame(trows)
