"""The main job on the sample sessions: ``python -m dopafit.demo data_samples`` (``make demo``).

Runs what a lab runs on its own recordings, on the simulated sessions of ``data_samples/``
(three distributional-TD sessions and one classical-TD session, with ground truth):

1. ``dopafit fit``: load every NWB file, fit each session, pool all units into a population
   fit (``demo_output/``);
2. print, per session, how well the fitted reversal points and τ recover the simulated truth,
   and the population's split-half statistics;
3. ``dopafit compare`` on the distributional sessions: the calibrated test of the accounts;
4. ``dopafit report``: the HTML report with its figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dopafit.outputs import COMPARISON_FILE, DEMO_DIR, REPORT_FILE

__all__ = ["main", "recovery_table"]

OUTDIR = Path(DEMO_DIR)
FIT = {"n_splits": 500, "n_boot": 200, "seed": 0}
COMPARE = {"n_sim": 200, "n_splits": 50, "seed": 0}


def recovery_table(responses, fit) -> pd.DataFrame:
    """Per-session recovery of the simulated truth: correlations of estimates with truth.

    Parameters
    ----------
    responses : xarray.Dataset
        Responses holding ``true_reversal_point`` and ``true_tau``.
    fit : xarray.Dataset
        Their fit (:func:`dopafit.fit_expectiles`).

    Returns
    -------
    pandas.DataFrame
        One row per session: units, true τ range, r(estimated, true) of reversal points and
        of τ (NaN where the truth does not vary, as in a classical session).
    """
    rows = []
    for session in pd.unique(responses["session"].values):
        sel = responses["session"].values == session
        true_z = responses["true_reversal_point"].values[sel]
        true_t = responses["true_tau"].values[sel]
        est_z = fit["reversal_point"].values[sel]
        est_t = fit["tau"].values[sel]
        rows.append(
            {
                "session": session,
                "units": int(sel.sum()),
                "true tau": f"{true_t.min():.2f}-{true_t.max():.2f}",
                "r(reversal, truth)": _corr(est_z, true_z),
                "r(tau, truth)": _corr(est_t, true_t),
                "median tau": float(np.nanmedian(est_t)),
            }
        )
    return pd.DataFrame(rows)


def _corr(a, b) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    from dopafit import schema
    from dopafit.batch import BatchSettings, combine, run_batch
    from dopafit.errors import DopafitError

    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("data_samples")
    outdir = Path(args[1]) if len(args) > 1 else OUTDIR
    start = time.perf_counter()
    try:
        settings = BatchSettings(fit=dict(FIT))
        results = run_batch([folder], outdir, settings)
        failed = [r for r in results if r.status == "failed"]
        for r in failed:
            print(f"failed: {r.reason}")
        population = combine(outdir, settings)
        responses = schema.open_responses(population, group="responses")
        fit = schema.open_responses(population, group="fit", validate=False)
    except DopafitError as exc:
        print(f"dopafit demo: error: {exc}", file=sys.stderr)
        return 1
    first = np.unique(responses["session"].values, return_index=True)[1]
    n_trials = int(np.isfinite(responses["reward"].values[first]).sum())
    print(
        f"Fitted {len(results) - len(failed)} sessions, {responses.sizes['unit']} units, "
        f"{n_trials} reward trials from {folder}/ ({time.perf_counter() - start:.1f} s)"
    )
    with pd.option_context("display.width", 120, "display.precision", 2):
        print("\nRecovery of the simulated truth (per session, all trials):")
        print(recovery_table(responses, fit).to_string(index=False))
    print(
        "\nPopulation, over {n} random split halves: r(tau_B, reversal_A) median {r:.2f}; "
        "reliability r(reversal_A, reversal_B) median {rel:.2f}".format(
            n=fit.sizes["split"],
            r=float(fit["r_tau_reversal"].median()),
            rel=float(fit["r_reliability"].median()),
        )
    )

    from dopafit.stats.compare import compare

    keep = ~pd.Series(responses["session"].values).str.contains("classical").to_numpy()
    distributional = responses.isel(unit=np.flatnonzero(keep))
    result = compare(distributional, **COMPARE)
    result.dopafit.to_netcdf(outdir / COMPARISON_FILE)
    print(f"\nCalibrated comparison on the {distributional.sizes['unit']} distributional units:")
    print(result.dopafit.summary())

    from dopafit.report.html import write_report

    report = write_report(outdir, outdir / REPORT_FILE)
    print(f"\nReport: {report.resolve()}")
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
