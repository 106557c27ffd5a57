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
# # The variable-probability task, and decoding the reward distribution
#
# Distributional TD learning says that each dopamine neuron learns its own statistic of the
# reward distribution: an *optimistic* neuron (asymmetry τ > 0.5) learns a high expectile,
# a *pessimistic* one (τ < 0.5) a low one. Dabney et al. (2020) tested this in two ways that
# this notebook walks through on simulated data, where the truth is known:
#
# 1. **The variable-probability task.** Three odour cues predict the same reward with
#    probability 10%, 50% and 90%. A neuron that codes the mean responds to the 50% cue
#    halfway between its 10% and 90% responses; an optimistic neuron responds to the 50%
#    cue almost as to the 90% cue, a pessimistic one almost as to the 10% cue.
# 2. **Decoding.** If each neuron's reversal point is the τ-expectile of the reward
#    distribution, the (τ, reversal point) pairs of a population determine the distribution,
#    and it can be decoded back from them.
#
# Both are statistics on a population; the notebook also shows what each one does (and does
# not) say when the population is *classical* (every neuron codes the mean).
#
# It is a jupytext script: open it in Jupyter (with jupytext installed) or run it with
# `python notebooks/probability_task.py`. The physiology and the algorithms are described in
# [Decoding and the variable-probability task](../explanation/decoding.md).

# %%
# %matplotlib inline
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sps

import dopafit
from dopafit.errors import DopafitWarning
from dopafit.stats.decode import classical_control
from dopafit.stats.probability import optimism_from_tau

# The test suite sets DOPAFIT_NOTEBOOK_QUICK=1 to run every notebook with small settings;
# the documentation is built with the full ones.
QUICK = os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"
N_UNITS = 40  # neurons per simulated session
N_TRIALS = 300 if QUICK else 600  # trials per session
N_SPLITS = 5 if QUICK else 20  # random split halves of the expectile fit
DECODE = (  # decoder settings: random candidates, polished candidates, epochs
    {"n_starts": 300, "n_polish": 2, "n_epochs": 2}
    if QUICK
    else {"n_starts": 2000, "n_polish": 5, "n_epochs": 3}
)
work = Path(tempfile.mkdtemp(prefix="dopafit-probability-"))  # every output goes here
pd.set_option("display.width", 120)
print("outputs in", work)

# %% [markdown]
# ## 1. A variable-probability session
#
# `dopafit.get_task("variable_probability")` describes the task: cues 1, 2 and 3 predict a
# 5 µl reward with probability 0.1, 0.5 and 0.9 (0 µl, an omission, otherwise); uncued
# trials deliver the reward for sure.

# %%
task_vp = dopafit.get_task("variable_probability")
for cue in task_vp.cue_ids:
    values, probabilities = task_vp.distribution(cue)
    print(
        f"cue {cue}: rewards {values.tolist()} ul, probabilities {probabilities.round(3).tolist()}"
    )

# %% [markdown]
# We simulate two sessions of spike trains, as a recording would give them: one with a
# *distributional* population (τ spread over 0.05–0.95; each neuron's value for a cue is the
# τ-expectile of that cue's reward distribution) and one with a *classical* population
# (every neuron's value is the mean, τ = 0.5). On cued trials each neuron fires in the
# 0.2–0.6 s after the cue in proportion to the cue's value (`cue_scale`), with Poisson
# spiking as the only noise. Most trials are cued (`cued_fraction=0.9`), as in the task.
#
# Each session is written to an NWB file and loaded back with the **cue** as the alignment
# event, keeping only the cued trials: that is how you would load your own recording of
# the task (see [loading](../howto/load-nwb.md)).

# %%
cue_responses = {}
for kind in ("distributional", "classical"):
    session = dopafit.simulate_session(
        task_vp, kind, n_units=N_UNITS, n_trials=N_TRIALS, cued_fraction=0.9, cue_scale=1.0, seed=0
    )
    path = dopafit.write_nwb(session, work / f"probability-{kind}.nwb")
    cue_responses[kind] = dopafit.load_nwb(path, align="cue_time", select="cued")
ds = cue_responses["distributional"]
print(ds.sizes, "| aligned on", ds.attrs["align"], "| response in", ds.attrs["response_units"])
cue_ids = ds["cue_id"].values[0]  # one row per unit; NaN pads units with fewer trials
print(
    "trials per cue:",
    pd.Series(cue_ids[np.isfinite(cue_ids)].astype(int)).value_counts().sort_index().to_dict(),
)

# %% [markdown]
# ## 2. The task statistics
#
# {func}`dopafit.probability_task_stats` takes the cue responses and each trial's reward
# probability; here the trials carry a cue id, translated with `mapping`. Per neuron it
# gives
#
# - the **optimism index** (R₅₀ − R₁₀)/(R₉₀ − R₁₀) of the mean cue responses: 0.5 for a
#   neuron coding the mean, towards 0.9 for an optimistic and towards 0.1 for a pessimistic
#   one (for a τ-expectile coder the index is `optimism_from_tau(τ)`, and `tau_implied`
#   inverts it);
# - a **t-statistic** of the 50% responses against the neuron's own midpoint
#   ½(R₁₀ + R₉₀), which is t-distributed when the neuron codes the mean;
# - a **label**, from two one-sided Mann-Whitney tests: *optimistic* when the 50% responses
#   are above the 10% ones but not distinguishable from the 90% ones, *pessimistic* the
#   other way round, *neutral* otherwise.
#
# And for the population, the **dispersion test**: under "every neuron codes the mean" the
# t-statistics spread like draws from their t distributions; distributional TD predicts a
# wider spread, with optimistic and pessimistic neurons side by side.

# %%
MAPPING = {1: 0.1, 2: 0.5, 3: 0.9}
task_stats = {
    kind: dopafit.probability_task_stats(responses, "cue_id", mapping=MAPPING)
    for kind, responses in cue_responses.items()
}
for kind, result in task_stats.items():
    print(f"{kind} population")
    print(result.dopafit.summary(), end="\n\n")
saved = task_stats["distributional"].dopafit.to_netcdf(work / "probability-distributional.nc")

# %% [markdown]
# One row per neuron (the first ten neurons of the distributional session):

# %%
columns = ["optimism", "tau_implied", "t", "df", "p_above_low", "p_below_high", "label"]
task_stats["distributional"].dopafit.to_dataframe()[columns].head(10).round(3)

# %% [markdown]
# **Response curves.** Each line is one neuron's mean cue response, rescaled so that its 10%
# response is 0 and its 90% response is 1; the value at 50% is then the optimism index. The
# dashed diagonal is a neuron that codes the mean. In the distributional session the lines
# fan out above and below the diagonal; in the classical one they scatter around it only
# as far as the noise takes them.

# %%
colors = {"optimistic": "tab:red", "pessimistic": "tab:blue", "neutral": "0.6"}
levels = task_stats["distributional"]["level"].values
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
for ax, (kind, result) in zip(axes, task_stats.items()):
    means = result["mean_response"].values
    scaled = (means - means[:, :1]) / (means[:, 2:] - means[:, :1])
    for row, label in zip(scaled, result["label"].values):
        ax.plot(levels, row, "-o", ms=3, lw=1, color=colors[str(label)], alpha=0.8)
    ax.plot([0.1, 0.9], [0, 1], "k--", lw=1)
    ax.set(title=f"{kind} population", xlabel="cue reward probability", xticks=levels)
    ax.set_ylim(-1, 2)
axes[0].set_ylabel("cue response (10% → 0, 90% → 1)")
handles = [plt.Line2D([], [], color=c, label=name) for name, c in colors.items()]
axes[1].legend(handles=handles, loc="upper left", frameon=False)
fig.tight_layout()
plt.show()

# %% [markdown]
# **The dispersion test.** Each neuron's t is mapped through its own t distribution to a
# z-score (so that neurons with different numbers of trials are comparable); under the null
# the z-scores are standard normal. The test asks whether their spread exceeds 1
# (`dispersion_p_spread`); the Kolmogorov-Smirnov test (`dispersion_p_ks`) asks whether
# their distribution differs from the null in any way.

# %%
grid = np.linspace(-5, 5, 201)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, (kind, result) in zip(axes, task_stats.items()):
    t, df = result["t"].values, result["df"].values
    ok = np.isfinite(t)
    z = np.clip(sps.norm.ppf(sps.t.cdf(t[ok], df[ok])), -5, 5)
    ax.hist(z, bins=np.arange(-5, 5.5, 0.5), density=True, color="0.7", label="neurons")
    ax.plot(grid, sps.norm.pdf(grid), "k", label="null N(0, 1)")
    p_spread = float(result["dispersion_p_spread"])
    ax.set(title=f"{kind}: p_spread {p_spread:.2g}", xlabel="z of the midpoint t")
axes[0].set_ylabel("density")
axes[0].legend(frameon=False)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What the index measures.** Here the truth is known, so the index can be put against
# each neuron's τ. The curve is the expectile model's prediction `optimism_from_tau(τ)`.
# The index is a ratio of response differences: in this simulation a pessimistic neuron
# has a small positive slope α⁺ and so a small cue response, and its index is mostly noise
# (points far from the curve on the left; values outside the plot are drawn on its edge).
# `tau_implied` is defined only for indices in (0.1, 0.9), the range the expectile model
# can produce.

# %%
result = task_stats["distributional"]
true_tau = ds["true_tau"].values
tau_grid = np.linspace(0.01, 0.99, 99)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
label_colors = [colors[str(label)] for label in result["label"].values]
axes[0].scatter(true_tau, np.clip(result["optimism"].values, -0.5, 1.5), c=label_colors, s=18)
axes[0].plot(tau_grid, optimism_from_tau(tau_grid), "k", lw=1, label="expectile model")
axes[0].set(xlabel="true τ", ylabel="optimism index", ylim=(-0.55, 1.55))
axes[0].legend(frameon=False, loc="upper left")
axes[1].scatter(true_tau, result["tau_implied"].values, c=label_colors, s=18)
axes[1].plot([0, 1], [0, 1], "k--", lw=1)
axes[1].set(xlabel="true τ", ylabel="tau_implied", xlim=(0, 1), ylim=(0, 1))
fig.tight_layout()
plt.show()
implied = np.isfinite(result["tau_implied"].values)
rho = sps.spearmanr(true_tau, result["optimism"].values).statistic
print(f"Spearman correlation of the index with the true τ: {rho:.2f}")
print(f"tau_implied defined for {implied.sum()} of {implied.size} neurons")

# %% [markdown]
# What a neuroscientist can take from this:
#
# - the **dispersion test** is the population-level evidence: it compares the spread of
#   the neurons' midpoint t-statistics with what noise alone gives;
# - the **labels** say which neurons are confidently on one side. They label by similarity
#   under noise, so most neurons stay *neutral*, and more trials give *fewer* labels (a
#   neuron whose 50% response lies strictly between the others becomes significantly
#   different from both). Use `optimism` and `tau_implied` for graded statements;
# - a classical population gives a few labels too: at α = 0.05 per test, chance alone
#   labels some neurons. Labels are never evidence on their own.

# %% [markdown]
# ## 3. Decoding the reward distribution
#
# Now the variable-magnitude task of Dabney et al. (2020): seven reward sizes from 0.1 to
# 20 µl. Under distributional TD a neuron's reversal point is the τ-expectile of this
# distribution, so the pairs (τᵢ, reversal pointᵢ) of a population pin down the
# distribution. {func}`dopafit.decode_distribution` looks for 100 equally weighted reward
# samples whose expectiles at the neurons' τ are their reversal points.
#
# We simulate a session of each population on this task, as above, and compute the reward
# responses (0.2–0.6 s after the reward, minus the baseline before the trial's first event).
#
# First with exact pairs: the true (τ, reversal point) of the simulated distributional
# population. The classical control decodes pairs of a classical population (τ = 0.5 plus a
# little noise, reversal points at the mean): there is nothing to decode but the mean, and
# the decoded distribution collapses around it.

# %%
task = dopafit.get_task("dabney")
truth = {"true_values": task.magnitudes, "true_probabilities": task.probabilities}
BOUNDS = (min(task.magnitudes), max(task.magnitudes))
print(f"true distribution: mean {task.mean:.3f} ul, SD {task.sd:.3f} ul")

sessions = {}
reward_responses = {}
for kind in ("distributional", "classical"):
    sessions[kind] = dopafit.simulate_session(
        task, kind, n_units=N_UNITS, n_trials=N_TRIALS, seed=1
    )
    # the extraction behind load_nwb, straight from the spike trains (no file this time);
    # the responses are aligned on the reward, the default
    reward_responses[kind] = dopafit.responses_from_spikes(
        sessions[kind].spike_times, sessions[kind].trials
    )

population = sessions["distributional"].units
decoded = {
    "distributional, exact pairs": dopafit.decode_distribution(
        population["true_tau"], population["true_reversal_point"], BOUNDS, seed=0, **DECODE, **truth
    ),
    "classical, exact pairs (control)": classical_control(
        task.mean, BOUNDS, n_neurons=N_UNITS, seed=0, **DECODE, **truth
    ),
}
for name, result in decoded.items():
    print(f"{name}: {result.dopafit.summary()}")

# %% [markdown]
# On a recording the pairs are not known: they are fitted. {func}`dopafit.fit_expectiles`
# fits each neuron's reversal point and slopes on the reward axis (µl, the axis of the
# bounds). We decode two kinds of fitted pairs:
#
# - **same trials**: τ and the reversal point fitted on all trials;
# - **split halves**: the reversal point from one random half of the trials, τ from the other
#   half (the first split of the fit).
#
# A pair whose fitted τ falls outside [0, 1] (a slope of the wrong sign) cannot be an
# expectile level: the decoder drops it and says so in a warning.
#
# The estimation noise of τ and of the reversal point is coupled when both come from the
# same trials (see [same-trial correlations](../explanation/same-trial-correlations.md));
# split halves remove that coupling.

# %%
fits = {}
for kind, responses in reward_responses.items():
    fits[kind] = dopafit.fit_expectiles(
        responses, axis="reward", n_splits=N_SPLITS, n_folds=0, n_boot=0, seed=0
    )
    saved = fits[kind].dopafit.to_netcdf(work / f"fit-{kind}.nc")
    first = fits[kind].isel(split=0)
    pairs = {
        "same trials": (fits[kind]["tau"], fits[kind]["reversal_point"]),
        "split halves": (first["tau_b"], first["reversal_point_a"]),
    }
    for source, (tau, reversal) in pairs.items():
        ok = np.isfinite(tau.values) & np.isfinite(reversal.values)
        r = np.corrcoef(tau.values[ok], reversal.values[ok])[0, 1]
        print(f"{kind}, {source}: correlation of fitted tau with reversal point {r:.2f}")
        with warnings.catch_warnings(record=True) as caught:  # printed below, not on stderr
            warnings.simplefilter("always", DopafitWarning)
            decoded[f"{kind}, fitted on {source}"] = dopafit.decode_distribution(
                tau.values, reversal.values, BOUNDS, seed=0, **DECODE, **truth
            )
        for warning in caught:
            print(f"{kind}, {source}: {warning.message}")

rows = {}
for name, result in decoded.items():
    distances = result.dopafit.distances()
    references = distances.drop("truth")
    rows[name] = {
        "pairs": result.sizes["pair"],
        "mean": result.attrs["mean"],
        "SD": result.attrs["sd"],
        "loss": result.attrs["loss"],
        "W1 to truth": distances["truth"],
        "nearest reference": references.idxmin(),
        "W1 to it": references.min(),
    }
table = pd.DataFrame.from_dict(rows, orient="index")
print(f"true distribution: mean {task.mean:.3f}, SD {task.sd:.3f}")
table.round(3)

# %% [markdown]
# The cumulative distributions of the decoded samples against the true one (black steps):

# %%
true_x = [0.0, *task.magnitudes, BOUNDS[1] + 1]
true_cdf = [0.0, *np.cumsum(task.probabilities), 1.0]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
groups = {
    "exact pairs": [n for n in decoded if "exact" in n],
    "distributional, fitted": [n for n in decoded if n.startswith("distributional, fitted")],
    "classical, fitted": [n for n in decoded if n.startswith("classical, fitted")],
}
for ax, (title, names) in zip(axes, groups.items()):
    ax.step(true_x, true_cdf, where="post", color="k", lw=2, label="truth")
    for name in names:
        samples = decoded[name].dopafit.samples
        cdf = np.arange(1, samples.size + 1) / samples.size
        ax.step(samples, cdf, where="post", label=name.split(", ", 1)[1])
    ax.set(title=title, xlabel="reward (ul)", xlim=(0, BOUNDS[1] + 0.5))
    ax.legend(frameon=False, fontsize=8, loc="lower right")
axes[0].set_ylabel("cumulative probability")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Against other distributions.** A decoded distribution close to the truth means little
# unless it is farther from the alternatives: `distances()` gives the Wasserstein-1
# distance (in µl) to the truth and to reference distributions built from it (uniform on
# the range; a Gaussian with the same mean and SD; the truth mirrored about its mean,
# shifted by ±SD/2, or scaled 1.5× wider or narrower).

# %%
names = ["distributional, exact pairs", "distributional, fitted on same trials"]
distance_table = pd.DataFrame({name: decoded[name].dopafit.distances() for name in names})
ax = distance_table.plot.barh(figsize=(7, 4), color=["tab:green", "tab:orange"])
ax.set(xlabel="Wasserstein-1 distance (ul)", ylabel="")
ax.invert_yaxis()
ax.legend(frameon=False)
plt.tight_layout()
plt.show()

# %% [markdown]
# What the table and the figures say:
#
# - with **exact** pairs, decoding recovers the distribution (the truth is the nearest of
#   all candidates), and classical pairs collapse around the mean: the method works;
# - with **fitted** pairs from the same trials, compare the classical rows with the
#   distributional ones: estimation noise spreads the fitted τ and reversal points of a
#   classical population too, and couples them the way an expectile code would, so a
#   classical population can decode to a wide distribution as well;
# - **split-half** pairs remove that coupling (the printed correlations of τ with the
#   reversal point drop for the classical population), and the classical decoding shrinks
#   towards the mean again; but with half the trials each the fitted pairs of the
#   distributional population are noisy too, and its decoded distribution is far from the
#   truth (compare the SD and W1 columns).
#
# A decoded distribution that resembles the truth is therefore not, by itself, evidence of a
# distributional code. Which of the accounts explains a recording is a question for the
# comparison calibrated by simulation, {func}`dopafit.compare`, which runs each account
# through the identical pipeline (see [comparing accounts](../explanation/compare.md)).

# %%
print("files written:", sorted(p.name for p in work.iterdir()))
