# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fibre photometry: a dF/F recording from NWB to the report
#
# Fibre photometry does not record single neurons: each optical fibre collects the
# fluorescence of a calcium (or dopamine) sensor from many cells near its tip, sampled a few
# tens of times per second. dopafit treats each fibre (each column of the signal) as one
# `unit`, and a trial's response as the mean of the signal in a window after the reward
# minus its mean in a baseline window, so the same fit, comparison and report apply.
#
# This tutorial simulates such a session, writes it as an NWB file the way an acquisition
# pipeline would, and then works only from the file: load it with {func}`dopafit.load_nwb`,
# choose the window and the baseline from the average traces, fit, decide between raw dF/F
# and z-scored responses, and write the report.

# %%
# %matplotlib inline
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dopafit
from dopafit.report import figures

# The test suite sets DOPAFIT_NOTEBOOK_QUICK=1 to run every notebook with small settings;
# the documentation is built with the full ones.
QUICK = os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"
N_TRIALS = 150 if QUICK else 300  # trials of the session
N_SPLITS = 200 if QUICK else 1000  # random split halves in the fit
REPORT = {"max_grid_units": 4, "decode_kwargs": {"n_starts": 200}} if QUICK else {}
work = Path(tempfile.mkdtemp(prefix="dopafit-photometry-"))  # every output goes here

# %% [markdown]
# ## 1. Simulate a photometry session
#
# Eight fibres in the variable-magnitude task of Dabney et al. (2020) (seven reward sizes,
# about half of the rewards announced by an odour 1.5 s earlier). Under each fibre, 30
# dopamine neurons share one distributional-TD tuning: a reversal point and an asymmetry τ
# drawn per fibre by {func}`dopafit.make_population`. {func}`dopafit.simulate_session` makes
# their spike trains; the fluorescence of a fibre is their summed firing, filtered by the
# sensor's rise and decay, scaled by the fibre's expression level, on a slowly bleaching
# baseline, plus measurement noise, sampled at 20 Hz.

# %%
N_FIBRES, PER_FIBRE, RATE = 8, 30, 20.0  # fibres, neurons per fibre, samples per s
rng = np.random.default_rng(3)

fibres = dopafit.make_population("distributional", N_FIBRES, seed=1)  # one tuning per fibre
neurons = fibres.loc[fibres.index.repeat(PER_FIBRE)].reset_index(drop=True)
neurons["unit_id"] = [f"{u}-{k}" for u in fibres["unit_id"] for k in range(PER_FIBRE)]
session = dopafit.simulate_session("dabney", neurons, n_trials=N_TRIALS, seed=2, trial_noise=True)

# mean firing rate of each fibre's neurons in 50-ms samples (Hz)
edges = np.arange(0.0, session.trials["stop_time"].max() + 5.0, 1 / RATE)
counts = np.array([np.histogram(st, edges)[0] for st in session.spike_times], dtype=float)
rate = counts.reshape(N_FIBRES, PER_FIBRE, -1).mean(axis=1) * RATE

# sensor kernel (rise 0.1 s, decay 0.5 s), expression level, bleaching and noise -> % dF/F
lag = np.arange(0.0, 3.0, 1 / RATE)
kernel = np.exp(-lag / 0.5) - np.exp(-lag / 0.1)
kernel /= kernel.sum()
sensor = np.array([np.convolve(r - r.mean(), kernel)[: r.size] for r in rate])
time = edges[:-1]
expression = rng.uniform(1.0, 3.0, N_FIBRES)  # % dF/F per Hz: differs between fibres
bleaching = 2.0 * np.exp(-time / 600.0)
dff = expression[:, None] * sensor + bleaching + rng.normal(0.0, 0.3, sensor.shape)
print(f"{N_FIBRES} fibres, {time.size} samples ({time[-1] / 60:.0f} min at {RATE:.0f} Hz), "
      f"{len(session.trials)} trials")

# %% [markdown]
# Written to NWB: the trials table (reward size, reward time, cue time, ...) and the dF/F as
# a `TimeSeries` named `dff` in the `ophys` processing module, one column per fibre. Files
# written by NeuroConv with the ndx-fiber-photometry extension hold a
# `FiberPhotometryResponseSeries` instead; `load_nwb` finds those by itself.

# %%
from pynwb import NWBHDF5IO, NWBFile, TimeSeries

nwb = NWBFile(
    session_description="simulated fibre photometry, variable-magnitude task",
    identifier="photometry-sim",
    session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc),
    session_id="phot1",
)
trials = session.trials
for column in ("reward", "reward_time", "cued", "cue_time", "cue_id", "trial_type"):
    nwb.add_trial_column(name=column, description=column.replace("_", " "))
for row in trials.itertuples(index=False):
    nwb.add_trial(**row._asdict())
ophys = nwb.create_processing_module("ophys", "fibre photometry")
ophys.add(TimeSeries(name="dff", data=dff.T, unit="% dF/F", rate=RATE, starting_time=0.0,
                     description="dF/F of each fibre (columns)"))
path = work / "sub-phot01_ses-1.nwb"
with NWBHDF5IO(str(path), "w") as io:
    io.write(nwb)

fig, ax = plt.subplots(figsize=(8, 3))
shown = time < 60
for i, unit in enumerate([int(fibres["tau"].argmin()), int(fibres["tau"].argmax())]):
    ax.plot(time[shown], dff[unit, shown] + 6 * i, lw=0.7,
            label=f"fibre {unit} (τ = {fibres['tau'][unit]:.2f})")
early = trials[trials["reward_time"] < 60]
ax.vlines(early["reward_time"], *ax.get_ylim(), color="k", lw=0.8, label="reward")
ax.vlines(early["cue_time"].dropna(), *ax.get_ylim(), color="0.6", ls="--", lw=0.8, label="odour")
ax.set(xlabel="time (s)", ylabel="% dF/F (offset)", title="The first minute of two fibres")
ax.legend(loc="upper right", fontsize=8)
plt.show()

# %% [markdown]
# ## 2. Load it: which series, which window, which baseline
#
# `dopafit inspect sub-phot01_ses-1.nwb` (or {func}`dopafit.describe_nwb`) lists what the
# file holds. The file has no Units table and its series is a plain `TimeSeries`, so we name
# it: `photometry="dff"`. Each column becomes a unit `dff[0]`, `dff[1]`, ...
#
# The default window (200–600 ms after the reward) was chosen for spikes. A calcium signal
# rises and decays more slowly, so look at the average traces first: `psth=True` also
# returns each trial's trace around the reward (baseline-subtracted).

# %%
first_look = dopafit.load_nwb(path, photometry="dff", psth=True, psth_bin=0.05,
                              psth_range=(-1.0, 3.0))
traces = first_look["psth"]
fig, axes = plt.subplots(1, 2, figsize=(8, 2.8), sharey=True)
for ax, unit in zip(axes, [int(fibres["tau"].argmin()), int(fibres["tau"].argmax())]):
    for size in np.unique(first_look["reward"].values[unit]):
        keep = first_look["reward"].values[unit] == size
        ax.plot(traces["time"], traces.values[unit][keep].mean(axis=0), label=f"{size:g} µl")
    ax.axvspan(0.2, 1.2, color="0.9", zorder=0)
    ax.set(title=f"fibre {unit} (true τ = {fibres['tau'][unit]:.2f})",
           xlabel="time from reward (s)")
axes[0].set_ylabel("% dF/F minus baseline")
axes[1].legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# The signal peaks about half a second after the reward and is still up at one second, so
# we take the response window 0.2–1.2 s (shaded). (At the left edge, on cued trials, the
# response to the odour 1.5 s before the reward is still decaying.) The baseline is the second before each
# trial's first event (`baseline=(-1.0, 0.0)`, measured before the odour on cued trials so
# that the cue response does not leak into it); subtracting it per trial also removes the
# slow bleaching.

# %%
responses = dopafit.load_nwb(path, photometry="dff", window=(0.2, 1.2), baseline=(-1.0, 0.0))
print(dict(responses.sizes), "| response in", responses.attrs["response_units"],
      "| window", responses.attrs["window"], "| baseline", responses.attrs["baseline"])

# %% [markdown]
# ## 3. Fit: raw dF/F or z-scored responses?
#
# On the default **utility** axis each reward size is placed at the population's mean
# response to it. With photometry the fibres differ in expression, so brightly expressing
# fibres weigh more in that mean; the reversal point of each fibre is still where its own
# responses change sign, and τ is a ratio of its slopes, so neither depends on its scale.
#
# `axis="zscore"` (as in Muller et al. 2024) z-scores each fibre's responses first and uses
# the reward sizes (µl) as the axis: every fibre counts equally, but a reversal point is then
# where the response crosses the fibre's *mean* response, not its baseline. Both are fitted
# here and compared with the simulated truth.

# %%
fit = dopafit.fit_expectiles(responses, axis="utility", n_splits=N_SPLITS, seed=0)
fit_z = dopafit.fit_expectiles(responses, axis="zscore", n_splits=N_SPLITS, seed=0)


def spearman(a, b):
    return pd.Series(a).corr(pd.Series(b), method="spearman")


pd.DataFrame(
    {
        axis: {
            "rank corr. of tau with the truth": spearman(f["tau"], fibres["tau"]),
            "rank corr. of reversal point with the truth": spearman(
                f["reversal_point"], fibres["reversal_point"]
            ),
            "median reliability over splits": float(f["r_reliability"].median()),
            "median r(tau_B, reversal_A) over splits": float(f["r_tau_reversal"].median()),
        }
        for axis, f in (("utility", fit), ("zscore", fit_z))
    }
).round(2)

# %% [markdown]
# With eight fibres the population statistics rest on eight points, so their split
# distributions are wide; the per-fibre estimates are what photometry measures well.

# %%
dopafit.split_summary(fit)

# %%
figures.plot_response_curves(fit, responses)

# %% [markdown]
# ## 4. The report
#
# The same report as for spikes: response curves, τ against reversal point, the split
# statistics and the decoded reward distribution, with the signal's units on every axis.

# %%
report = dopafit.write_report({"fit": fit, "responses": responses}, work / "report.html",
                              **REPORT)
print(f"report: {report.name} ({report.stat().st_size / 1e6:.1f} MB) in {report.parent}")
