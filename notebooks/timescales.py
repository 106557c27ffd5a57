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
# # Distributional in time: per-unit discount factors, their comparison and reward timing
#
# Dopamine neurons differ in optimism about reward *size* (Dabney et al. 2020). They also
# differ in how steeply they discount reward *delay*: a unit's response to a cue falls with
# the cue-to-reward delay ``d`` as ``b + A·γᵢᵈ``, with its own discount factor γᵢ (Masset et
# al. 2025). A population with diverse γᵢ carries the Laplace transform of *when* reward will
# come, so the timing can be decoded, as the τᵢ decode the distribution of magnitudes.
#
# This notebook runs the whole analysis on simulated units whose truth is known:
#
# 1. a delay task and a multi-timescale population;
# 2. {func}`dopafit.fit_discounting`: γᵢ per unit with bootstrap intervals, the hyperbolic
#    alternative, split halves;
# 3. recovery against the truth;
# 4. {func}`dopafit.compare_timescales`: one shared γ against a γ per unit, and exponential
#    against hyperbolic, calibrated by simulating each account with the recording's trials;
# 5. {func}`dopafit.decode_timing`: the distribution of reward times of a cue that predicts
#    reward after 1 s or 6 s;
# 6. the report.
#
# The model, the statistics and their measured calibration are in
# [timescales](../explanation/timescales.md). It is a jupytext script: open it in Jupyter
# (with jupytext installed) or run it with `python notebooks/timescales.py`.

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dopafit
from dopafit.simulate import get_delay_task

# The test suite sets DOPAFIT_NOTEBOOK_QUICK=1 to run every notebook with small settings;
# the documentation is built with the full ones.
QUICK = os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"
N_UNITS = 40  # simulated units
N_TRIALS = 800  # trials per unit (about 160 per cue)
N_SPLITS = 50 if QUICK else 1000  # random split halves
N_BOOT = 100 if QUICK else 1000  # bootstrap resamples per unit
N_SIM = 19 if QUICK else 199  # simulated datasets per account in the comparison
N_INNER = 3 if QUICK else 49  # inner simulations of the exponential-hyperbolic test
work = Path(tempfile.mkdtemp(prefix="dopafit-timescales-"))  # every output goes here
pd.set_option("display.width", 120)
print("outputs in", work)

# %% [markdown]
# ## 1. A delay task and a multi-timescale population
#
# The `"delay-bimodal"` task has four cues that predict reward after 0.5, 1.5, 3 and 6 s and
# a fifth cue that predicts reward after 1 s or 6 s, equally often. The fit uses the four
# plain cues; the fifth is kept for decoding.

# %%
task = get_delay_task("delay-bimodal")
for cue_id, delays, probs in task.cues:
    print(f"cue {cue_id}: reward after {list(delays)} s with probabilities {list(probs)}")

# %% [markdown]
# {func}`dopafit.simulate_discounting` draws a population whose units each discount with
# their own γᵢ (per second, one in each of 40 equal strata of 0.4–0.95), amplitude ``A``
# (2–6 Hz), asymptote ``b`` (−0.5–0.5 Hz, the response to a cue whose reward never comes)
# and Gaussian trial noise (SD 1.5–3 Hz). The responses Dataset carries the cue-to-reward
# delay of every trial as a coordinate, and the truth as variables.

# %%
responses = dopafit.simulate_discounting(task, "multi", N_UNITS, N_TRIALS, seed=0)
print(responses.sizes, "| delays:", np.unique(responses["delay"]).tolist())

# %% [markdown]
# ## 2. Fit every unit
#
# `fit_discounting` fits ``b + A·γᵈ`` and the hyperbolic ``b + A/(1 + k·d)`` to each unit's
# single-trial responses by least squares, with bootstrap intervals of γ (trials resampled
# within delay) and many random split halves (γ from one half against γ from the other). The
# mixture cue is left out automatically, because its trials have more than one delay.

# %%
fit = dopafit.fit_discounting(responses, n_splits=N_SPLITS, n_boot=N_BOOT, seed=0)
print(fit.dopafit.summary())

# %% [markdown]
# The mean response of three units at each delay, with both fitted curves:

# %%
delays = np.asarray(fit.attrs["delays"])
grid = np.linspace(0, delays.max(), 200)
gamma = fit["gamma"].values
examples = [int(np.argmin(gamma)), int(np.argsort(gamma)[N_UNITS // 2]), int(np.argmax(gamma))]
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
for ax, u in zip(axes, examples):
    unit = fit.isel(unit=u)
    b, a, g, k = (unit[name].item() for name in ("asymptote", "amplitude", "gamma", "hyperbolic_k"))
    hb, ha = unit["hyperbolic_asymptote"].item(), unit["hyperbolic_amplitude"].item()
    ax.plot(unit["delay_value"], unit["mean_response"], "o", color="k", label="mean response")
    ax.plot(grid, b + a * g**grid, color="tab:blue", label="exponential")
    ax.plot(grid, hb + ha / (1 + k * grid), color="tab:orange", ls="--", label="hyperbolic")
    lo, hi = unit["gamma_lo"].item(), unit["gamma_hi"].item()
    ax.set(title=f"{unit['unit_id'].item()}: γ = {g:.2f} [{lo:.2f}, {hi:.2f}]", xlabel="delay (s)")
axes[0].set_ylabel("cue response (Hz)")
axes[0].legend(frameon=False, fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Recovery against the truth
#
# With 800 trials per unit (200 per plain cue) at this noise the fitted γ follow the true
# ones; the bars are the 95% bootstrap intervals. The explanation page gives the recovery at
# other trial counts (with 200 trials per unit the correlation is about 0.7).

# %%
true = responses["true_gamma"].values
err = gamma - true
print(f"r(fitted, true) = {np.corrcoef(gamma, true)[0, 1]:.2f}, bias {err.mean():+.3f}, "
      f"RMSE {np.sqrt(np.mean(err**2)):.3f}, intervals covering the truth "
      f"{np.mean((fit['gamma_lo'] <= true) & (true <= fit['gamma_hi'])):.0%}")  # fmt: skip
fig, ax = plt.subplots(figsize=(4, 4))
ax.errorbar(true, gamma, yerr=[gamma - fit["gamma_lo"], fit["gamma_hi"] - gamma], fmt="o",
            ms=3, color="tab:blue", ecolor="0.7")  # fmt: skip
ax.plot([0.3, 1], [0.3, 1], color="0.5", lw=1)
ax.set(xlabel="true γ (per s)", ylabel="fitted γ (per s)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Split halves: do units keep their γ?
#
# If units truly differ in γ, the γ fitted on one half of a unit's trials predicts the γ of
# the other half. In a single-timescale population (one shared γ; units differ only in
# amplitude and noise) the halves are unrelated. The same seed gives the same trials,
# amplitudes and noise to both populations:

# %%
single = dopafit.simulate_discounting(task, "single", N_UNITS, N_TRIALS, seed=0)
fit_single = dopafit.fit_discounting(single, n_splits=N_SPLITS, n_boot=0, seed=0)
fig, ax = plt.subplots(figsize=(6, 3))
bins = np.linspace(-0.6, 1, 41)
ax.hist(fit["gamma_reliability"], bins, color="tab:blue", alpha=0.7, label="multi-timescale")
ax.hist(fit_single["gamma_reliability"], bins, color="tab:gray", alpha=0.7,
        label="single timescale")  # fmt: skip
ax.set(xlabel="split-half r of γ across units", ylabel="splits")
ax.legend(frameon=False)
fig.tight_layout()
plt.show()
print(f"median split-half r: multi {float(fit['gamma_reliability'].median()):.2f}, "
      f"single {float(fit_single['gamma_reliability'].median()):.2f}")  # fmt: skip

# %% [markdown]
# ## 5. The calibrated comparison
#
# A split-half r above 0 is not yet evidence: units with little signal give γ estimates that
# can drift the same way in both halves. `compare_timescales` therefore simulates each
# account with the recording's own trials (each unit's delays) and noise, runs the identical
# pipeline on every simulated dataset, and places the observed statistics in each account's
# distribution: "single" (one γ for every unit), "multi" (γ per unit) and "hyperbolic"
# (k per unit, for the exponential-against-hyperbolic test).

# %%
cmp = dopafit.compare_timescales(responses, n_sim=N_SIM, n_inner=N_INNER, seed=0)
print(cmp.dopafit.summary())

# %% [markdown]
# The same on the single-timescale population, where "multi-timescale" must not be claimed:

# %%
cmp_single = dopafit.compare_timescales(single, n_sim=N_SIM, n_inner=N_INNER, seed=0)
print(cmp_single.attrs["verdict"])

# %% [markdown]
# ## 6. When will reward come? Decoding the mixture cue
#
# Each unit's normalised response to the fifth cue, ``vᵢ = (response − bᵢ)/Aᵢ``, is that
# cue's expected discount ``Σₜ p(t)·γᵢᵗ``. `decode_timing` inverts it: a non-negative
# ``p(t)`` summing to 1, with a smoothness penalty chosen by cross-validation over units.
# By default it decodes on the delays at which the task delivers reward (``time_grid =
# "delays"``); on a continuous grid of times the inverse Laplace transform is too ill-posed
# for values this noisy and returns a smooth bump with the right mean.

# %%
decoded = dopafit.decode_timing(fit, responses, cue_id=5, seed=0)
smooth = dopafit.decode_timing(fit, responses, cue_id=5, time_grid="continuous", seed=0)
fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
for ax, res, title in ((axes[0], decoded, "on the task's delays"),
                       (axes[1], smooth, "on a continuous grid")):  # fmt: skip
    t = res["time"].values
    width = 0.35 if title.startswith("on the") else t[1] - t[0]
    ax.bar(t, res["p_time"], width=width, color="tab:blue", alpha=0.7, label="decoded")
    ax.vlines(res["true_delay"], 0, res["true_probability"], color="k", lw=3, label="truth")
    ax.set(title=title, xlabel="reward time (s)")
axes[0].set_ylabel("probability")
axes[0].legend(frameon=False)
fig.tight_layout()
plt.show()
pd.DataFrame(
    {
        "decoded to truth": [r["wasserstein"].sel(reference="truth").item() for r in (decoded, smooth)],
        "uniform to truth": [r["reference_to_truth"].sel(reference="uniform").item() for r in (decoded, smooth)],
        "Gaussian to truth": [r["reference_to_truth"].sel(reference="gaussian").item() for r in (decoded, smooth)],
    },
    index=["task's delays", "continuous grid"],
).round(2)  # fmt: skip

# %% [markdown]
# ## 7. The report
#
# `write_report` renders the fit, the comparison and the decoding in one HTML page: every
# unit's responses against delay, the γ distribution, the split halves, the decoded timing
# and the verdict. The same section appears for a folder written by
# `dopafit fit --discounting`.

# %%
page = dopafit.write_report(
    {
        "discounting": fit,
        "discount_responses": responses,
        "timescale_comparison": cmp,
        "timing": decoded,
    },
    work / "report.html",
)
print(Path(page).name, f"{Path(page).stat().st_size / 1e6:.1f} MB")
