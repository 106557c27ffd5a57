"""A recording session as spike trains and a trials table (what an NWB file holds).

:class:`Session` is what the simulator's spike-train mode returns, what
:func:`dopafit.write_nwb` writes, and what the MAT converter builds before writing.
Times are in seconds on the session clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

__all__ = ["Session", "TRIAL_COLUMNS"]

#: Trials-table columns, in the order written to NWB, with their meaning.
TRIAL_COLUMNS = {
    "start_time": "trial start (s); baseline is measured before the trial's first event",
    "stop_time": "trial end (s)",
    "reward": "reward magnitude (task units, e.g. ul); 0 = reward omitted (due at reward_time); NaN = not a reward trial",
    "reward_time": "reward delivery time (s); NaN when no reward was delivered",
    "cued": "True when a cue predicted the reward",
    "cue_time": "cue (odour) onset (s); NaN on uncued trials",
    "cue_id": "cue identity (0 = none; task-specific integers otherwise)",
    "trial_type": "task-specific trial type code",
}


@dataclass
class Session:
    """Spike trains of simultaneously recorded units with their trials table.

    Parameters
    ----------
    spike_times : list of ndarray
        One sorted float64 array of spike times (s) per unit.
    trials : pandas.DataFrame
        One row per trial with at least the columns of :data:`TRIAL_COLUMNS`.
    units : pandas.DataFrame
        One row per unit, same order as ``spike_times``; column ``unit_id`` (str) and any
        per-unit extras (e.g. simulated ground truth ``true_tau``, ``true_reversal_point``).
    session_id, subject_id : str
        Identifiers recorded in the file.
    description : str
        Free text written to the NWB ``session_description``.
    start_time : datetime
        Session start (timezone-aware).
    attrs : dict
        Provenance (simulator settings, converter source files, ...); stored in the NWB file's
        ``notes`` as JSON by the writer.
    """

    spike_times: list[np.ndarray]
    trials: pd.DataFrame
    units: pd.DataFrame
    session_id: str = "session"
    subject_id: str = "subject"
    description: str = "dopafit session"
    start_time: datetime = field(default_factory=lambda: datetime(2020, 1, 1, tzinfo=timezone.utc))
    attrs: dict = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.spike_times)

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return len(self.trials)
