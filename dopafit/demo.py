"""Demo on the sample sessions: ``python -m dopafit.demo data_samples`` (``make demo``).

Reads every NWB file of the folder and prints, per unit, the ground truth stored by the
simulator (reversal point, tau) beside the measured mean response to each reward magnitude:
the spike rate 0.2-0.6 s after reward minus the rate in the 1 s before the trial's first
event (cue or reward). Under distributional TD the sign of the responses changes at each
unit's own reversal point; under classical TD at the mean reward (5.21 ul) for every unit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dopafit.errors import DopafitError, FileNotFoundError_, NoDataError

__all__ = ["window_responses", "read_session_table", "main"]

WINDOW = (0.2, 0.6)
BASELINE = 1.0


def window_responses(spike_times: np.ndarray, trials: pd.DataFrame) -> np.ndarray:
    """Per-trial response (Hz): window rate after reward minus baseline rate.

    Parameters
    ----------
    spike_times : ndarray, shape (n_spikes,)
        Sorted spike times (s).
    trials : DataFrame
        Columns ``reward_time``, ``cued``, ``cue_time``.

    Returns
    -------
    ndarray, shape (n_trials,)
        ``count[r + 0.2, r + 0.6) / 0.4 - count[e - 1, e) / 1`` with ``r`` the reward time
        and ``e`` the trial's first event (the cue on cued trials, else the reward).
    """
    reward = trials["reward_time"].to_numpy(np.float64)
    first = np.where(trials["cued"].to_numpy(bool), trials["cue_time"].to_numpy(np.float64), reward)
    st = np.asarray(spike_times, dtype=np.float64)
    w0, w1 = WINDOW
    n_win = np.searchsorted(st, reward + w1) - np.searchsorted(st, reward + w0)
    n_base = np.searchsorted(st, first) - np.searchsorted(st, first - BASELINE)
    return n_win / (w1 - w0) - n_base / BASELINE


def read_session_table(path: str | Path) -> pd.DataFrame:
    """One row per unit of an NWB file: truth columns and mean response per magnitude."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        if nwb.units is None or nwb.trials is None:
            raise NoDataError("an NWB file with units and trials tables", file=path)
        trials = nwb.trials.to_dataframe()
        units = nwb.units
        cols = set(units.colnames)
        rows = []
        for i in range(len(units)):
            resp = window_responses(units["spike_times"][i], trials)
            row = {
                "session": nwb.session_id or path.stem,
                "unit_id": units["unit_id"][i] if "unit_id" in cols else str(units.id[i]),
                "true_reversal_point": units["true_reversal_point"][i]
                if "true_reversal_point" in cols
                else np.nan,
                "true_tau": units["true_tau"][i] if "true_tau" in cols else np.nan,
            }
            means = pd.Series(resp).groupby(trials["reward"].to_numpy()).mean()
            row.update({f"{m:g}": v for m, v in means.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the per-unit table for every NWB file of a folder; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "data_samples")
    try:
        if not folder.is_dir():
            raise FileNotFoundError_(
                "a folder of NWB files",
                found="no such folder",
                file=folder,
                remedy="run `make samples` or pass the folder holding the .nwb files",
            )
        files = sorted(folder.glob("*.nwb"))
        if not files:
            raise NoDataError("at least one .nwb file", found="none", file=folder)
        table = pd.concat([read_session_table(f) for f in files], ignore_index=True)
    except DopafitError as exc:
        print(f"dopafit.demo: error: {exc}", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(
            f"{len(table)} units from {len(files)} sessions in {folder}. Mean response (Hz) "
            f"per reward magnitude (ul): rate {WINDOW[0]}-{WINDOW[1]} s after reward minus "
            f"the {BASELINE:g} s before the trial's first event."
        )
        print(table.to_string(index=False, float_format=lambda v: f"{v:7.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
