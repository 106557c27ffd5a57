"""Reading a comparison of :func:`dopafit.compare`: its tables and its text summary.

The ``dopafit`` accessor of :mod:`dopafit.results` calls these; they are re-exported by
:mod:`dopafit.stats.compare`.

Examples
--------
>>> import dopafit
>>> from dopafit.stats.compare_tables import comparison_table
>>> ds = dopafit.simulate_responses(population="distributional", n_units=20, seed=0)
>>> cmp = dopafit.compare(ds, accounts=("classical",), n_sim=19, n_splits=5, n_boot=0,
...                       mixed=False)
>>> comparison_table(cmp)[["account", "statistic"]].iloc[0].tolist()
['classical', 'reliability']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from dopafit import schema
from dopafit.stats.verdict import fmt_p

__all__ = [
    "account_names",
    "accounts_table",
    "comparison_summary",
    "comparison_table",
    "mixed_table",
    "mixed_tests",
    "verdict",
]


def verdict(ds: xr.Dataset) -> str:
    """Plain-language verdict of a comparison (see :func:`compare`)."""
    return str(ds.attrs.get("verdict", ""))


def account_names(ds: xr.Dataset) -> list[str]:
    """The accounts of a comparison, in their order in the Dataset."""
    return [str(a) for a in ds["account"].values]


def comparison_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per account × statistic of a comparison.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        Columns ``account``, ``statistic``, ``observed``, ``p_nominal``,
        ``p_calibrated`` first, then ``alternative``, ``quantile``, ``sim_median``,
        ``sim_lo``, ``sim_hi``, ``p_greater``, ``p_less``, ``boot_lo``, ``boot_hi``,
        ``computable``, ``reason``.
    """
    n_acc, n_stat = ds.sizes["account"], ds.sizes["statistic"]

    def per_pair(name, dtype=float):
        return np.asarray(ds[name].transpose("account", "statistic").values, dtype).ravel()

    def per_stat(name, dtype=float):
        return np.tile(np.asarray(ds[name].values, dtype), n_acc)

    return pd.DataFrame(
        {
            "account": np.repeat(ds["account"].values.astype(str), n_stat),
            "statistic": np.tile(ds["statistic"].values.astype(str), n_acc),
            "observed": per_pair("observed"),
            "p_nominal": per_stat("p_nominal"),
            "p_calibrated": per_pair("p_calibrated"),
            "alternative": per_pair("alternative", str),
            "quantile": per_pair("quantile"),
            "sim_median": per_pair("sim_median"),
            "sim_lo": per_pair("sim_lo"),
            "sim_hi": per_pair("sim_hi"),
            "p_greater": per_pair("p_greater"),
            "p_less": per_pair("p_less"),
            "boot_lo": per_stat("boot_lo"),
            "boot_hi": per_stat("boot_hi"),
            "computable": per_stat("computable", bool),
            "reason": per_stat("reason", str),
        }
    )


def accounts_table(ds: xr.Dataset) -> pd.DataFrame:
    """Per-unit fitted parameters of every account of a comparison (long format)."""
    names = [
        v
        for v in ds.data_vars
        if v.startswith("account_") and ds[v].dims == ("account", schema.UNIT)
    ]
    sub = ds[names].rename({v: v[len("account_") :] for v in names})
    df = sub.to_dataframe().reset_index()
    keep = ["account", schema.UNIT, *(c for c in (schema.UNIT_ID, schema.SUBJECT) if c in df)]
    return df[keep + [v[len("account_") :] for v in names]]


def mixed_table(ds: xr.Dataset) -> pd.DataFrame | None:
    """Mixed-model fits of a comparison (one row per model), or None if not fitted."""
    if "model" not in ds.coords:
        return None
    cols = {
        c: ds[f"mixed_{c}"].values
        for c in ("formula", "llf", "aic", "bic", "n_params", "converged", "warnings")
    }
    return pd.DataFrame({"model": ds["model"].values.astype(str), **cols})


def mixed_tests(ds: xr.Dataset) -> pd.DataFrame | None:
    """Likelihood-ratio tests of the mixed models of a comparison, or None."""
    if "mixed_test" not in ds.coords:
        return None
    return pd.DataFrame(
        {
            "test": ds["mixed_test"].values.astype(str),
            **{c: ds[f"mixed_{c}"].values for c in ("lr", "df", "p_naive", "p_mixture")},
        }
    )


def comparison_summary(ds: xr.Dataset) -> str:
    """Text report of a comparison: every statistic against every account, then the verdict."""
    lines = [
        f"Calibrated comparison of accounts ({ds.sizes[schema.UNIT]} units, axis "
        f"{ds.attrs.get('axis')}, {ds.attrs.get('n_sim')} simulations x "
        f"{ds.attrs.get('n_splits')} splits per account, noise {ds.attrs.get('noise')})",
        "",
        *_statistic_lines(ds),
        "",
        "Alternatives: classical and bias one-sided towards the distributional signature; "
        "distributional and sigmoid two-sided; tau_baseline_r two-sided and loao_range "
        "one-sided ('greater') for every account. p_nominal: the textbook test (n/a: none).",
        *_bootstrap_lines(ds),
        *_mixed_lines(ds),
        "",
        "Verdict: " + verdict(ds),
    ]
    return "\n".join(lines)


def _statistic_lines(ds: xr.Dataset) -> list[str]:
    """The table of the summary: one line per statistic, one column per account."""
    df = comparison_table(ds)
    width = 20
    head = f"{'statistic':<21}{'observed':>10}{'p_nominal':>10}" + "".join(
        f"{a:>{width}}" for a in account_names(ds)
    )
    lines = ["Calibrated p-value per account [median of the simulated statistic]", head]
    lines.append("-" * len(head))
    for s in ds["statistic"].values:
        rows = df[df["statistic"] == s]
        first = rows.iloc[0]
        if not first["computable"]:
            lines.append(f"{s:<21}  not computable: {first['reason']}")
            continue
        combined = s.startswith("combined")
        cells = "".join(
            f"{fmt_p(r.p_calibrated):>{width}}"
            if combined
            else f"{fmt_p(r.p_calibrated) + ' [' + format(r.sim_median, '.3g') + ']':>{width}}"
            for r in rows.itertuples()
        )
        obs_txt = f"{'(Fisher)':>10}" if combined else f"{first['observed']:10.3g}"
        lines.append(f"{s:<21}{obs_txt}{fmt_p(first['p_nominal']):>10}{cells}")
    return lines


def _bootstrap_lines(ds: xr.Dataset) -> list[str]:
    """The neuron-bootstrap intervals of the summary (none when not drawn)."""
    if not np.isfinite(ds["boot_lo"].values).any():
        return []
    lines = ["Neuron bootstrap intervals of the observed statistics:"]
    for s in ds["statistic"].values:
        lo = float(ds["boot_lo"].sel(statistic=s))
        hi = float(ds["boot_hi"].sel(statistic=s))
        if np.isfinite(lo):
            lines.append(f"  {s:<20} [{lo:.3g}, {hi:.3g}]")
    return lines


def _mixed_lines(ds: xr.Dataset) -> list[str]:
    """The mixed-model tests and warnings of the summary (none when not fitted)."""
    tests = mixed_tests(ds)
    if tests is None:
        return []
    lines = ["Mixed models (nominal; ML fits; boundary caveat): "]
    for r in tests.itertuples():
        lines.append(
            f"  {r.test:<24} LR = {r.lr:.3g}, df = {r.df:g}, p = {fmt_p(r.p_naive)} "
            f"(mixture {fmt_p(r.p_mixture)})"
        )
    models = mixed_table(ds)
    bad = models[~models["converged"].astype(bool)]
    for r in bad.itertuples():
        lines.append(f"  warning, model {r.model}: {r.warnings}")
    return lines
