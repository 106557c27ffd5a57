"""The two DANDI:000006 files of the shared data (Economo et al. 2018) and the load_nwb
mapping that reads them: reward 1 on correct and 0 on incorrect trials, aligned on the go cue
(event times stored relative to the trial start), the trials the authors marked good, spike
times sorted. One definition for every test that loads them."""

from __future__ import annotations

DANDI_FILES = ("sub-anm369963_ses-20170228.nwb", "sub-anm372793_ses-20170508.nwb")
DANDI_OPTIONS = dict(
    reward="response",
    reward_map={"correct": 1.0, "incorrect": 0.0},
    reward_units="a.u.",
    align="cue_start_time",
    times_relative_to="start_time",
    select="is_good == 1",
    sort_spikes=True,
)
