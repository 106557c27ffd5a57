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
# # Reproducing Dabney et al. (2020), Fig. 2, on the 40 public dopamine neurons
#
# Dabney et al. (2020, *Nature* 577:671) recorded optogenetically identified VTA dopamine
# neurons while mice received rewards of seven sizes (0.1 to 20 µl). Their Fig. 2 makes
# three claims:
#
# 1. each neuron has its own **reversal point** (the reward size where its response turns
#    from a dip to a burst), and these points are consistent across two independent halves
#    of the trials;
# 2. neurons scale positive and negative prediction errors differently: the **asymmetry**
#    τ = α⁺ / (α⁺ + α⁻) differs between neurons;
# 3. τ measured on one half of the trials predicts the reversal point measured on the
#    other half, as distributional TD learning predicts (optimistic neurons, τ > 0.5, have
#    high reversal points).
#
# This notebook redoes that analysis with dopafit on the 40 neurons that were made public
# with the paper: convert the lab's MAT files to NWB, load the responses the way the paper
# computed them, fit reversal points and asymmetries over many random split halves, plot
# the response curves and τ against reversal point, decode the reward distribution, and
# finally ask what a comparison calibrated by simulation adds to the nominal p-values.
#
# It is a jupytext script: open it in Jupyter (with jupytext installed) or run it with
# `python notebooks/dabney2020.py`.

# %%
# %matplotlib inline
import os
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

import dopafit
from dopafit.report import figures
from dopafit.report.data import decode_fit

# The test suite sets DOPAFIT_NOTEBOOK_QUICK=1 to run every notebook with small settings;
# the documentation is built with the full ones.
QUICK = os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"
N_SPLITS = 200 if QUICK else 1000  # random split halves of the trials
N_SIM = 20 if QUICK else 200  # simulated datasets per account in the comparison
N_STARTS = 200 if QUICK else 2000  # random starts of the decoder
work = Path(tempfile.mkdtemp(prefix="dopafit-dabney2020-"))  # every output goes here

# %% [markdown]
# ## Where the recordings are
#
# The 40 recordings are MATLAB files of the Uchida lab ("CommonFormat", one file per
# neuron). dopafit looks for them in `$DOPAFIT_SHARED_DATA/dabney2020/cells`, or else in
# `../shared/data/dabney2020/cells` seen from the repository (any folder above the current
# one is tried). When they are not there, the next cell says where to download them and
# stops the notebook: the cells after it do nothing.


# %%
def find_shared_data():
    """The folder holding dabney2020/cells/*.mat, and the folders that were searched."""
    env = os.environ.get("DOPAFIT_SHARED_DATA")
    if env:
        candidates = [Path(env)]
    else:  # ../shared/data seen from the repository, wherever the notebook runs below it
        here = Path.cwd().resolve()
        candidates = [folder / "shared" / "data" for folder in (here, *here.parents)]
    for folder in candidates:
        if len(list((folder / "dabney2020" / "cells").glob("*.mat"))) == 40:
            return folder, candidates
    return None, candidates


def stop_notebook(message):
    """Print `message` and stop: later cells of this notebook do nothing, no traceback.

    In Jupyter every later cell is replaced by an empty one (restart the kernel to undo);
    run as a plain script, the script exits with status 0.
    """
    print(message)
    try:
        shell = get_ipython()  # noqa: F821 (defined when running in IPython/Jupyter)
    except NameError:
        raise SystemExit(0) from None
    shell.input_transformers_post.append(lambda lines: [])


shared, searched = find_shared_data()
if shared is None:
    stop_notebook(
        "The 40 Dabney et al. (2020) recordings were not found; searched:\n  "
        + "\n  ".join(str(folder / "dabney2020" / "cells") for folder in searched)
        + "\nThe public copy is in the GitHub repository dongjae-kim/efficient-coding-dist-rl,"
        " folder 'measured_neurons/dabney_matlab/variable-reward/Light-ID dopamine/' (no"
        " licence stated: use for research, cite the paper). Put the 40 .mat files in"
        " <folder>/dabney2020/cells, set DOPAFIT_SHARED_DATA=<folder>, restart the kernel"
        " and run the notebook again."
    )
else:
    cells = sorted((shared / "dabney2020" / "cells").glob("*.mat"))
    print(f"{len(cells)} recordings in {shared / 'dabney2020' / 'cells'}")

# %% [markdown]
# ## Convert the MAT files to NWB
#
# {func}`dopafit.convert_uchida_mat` writes one NWB file per recording session, with the
# spike times of every neuron and a trials table (reward size, reward time, cue time). Neurons
# recorded at the same time share one session, so 40 neurons give fewer files. From here on,
# the analysis is the one you would run on your own NWB files.

# %%
nwb_files = dopafit.convert_uchida_mat(cells, work / "nwb")
print(f"{len(nwb_files)} NWB sessions written to {work / 'nwb'}")

# %% [markdown]
# ## Responses as in the paper
#
# `faithful=True` computes each trial's response as the paper did: spikes smoothed into a
# firing rate, mean rate 200–600 ms after the reward minus the mean rate in the second
# before the trial's first event (the odour on cued trials). The result is one
# `unit × trial` table (an xarray Dataset) with the reward of every trial beside it.

# %%
responses = dopafit.load_nwb(work / "nwb", faithful=True)
print(dict(responses.sizes), "| response in", responses.attrs["response_units"])
reward = responses["reward"].values
counts = pd.Series(reward[np.isfinite(reward)]).value_counts().sort_index()
counts.rename_axis("reward (µl)").rename("trials").to_frame().T

# %% [markdown]
# ## Reversal points, asymmetry and split halves
#
# {func}`dopafit.fit_expectiles` follows the paper: cued and uncued trials are pooled after
# one offset, responses are placed on the **empirical utility axis** (each reward size is
# replaced by the population's mean response to it, in spikes/s), each neuron's reversal
# point comes from the counting rule, and the slopes α⁻ below and α⁺ above it give τ.
#
# The key control is the split half: in every split, half A of each neuron's trials gives
# the reversal point and the other half B gives τ, so the two estimates share no noise. One
# split is one random draw, so dopafit repeats it many times and reports the distribution.

# %%
fit = dopafit.fit_expectiles(responses, axis="utility", n_splits=N_SPLITS, seed=0)
print(f"uncued offset added to every uncued response: {fit.attrs['uncued_offset']:.3f} Hz")
print("utility axis (Hz):", np.round(fit["axis_value"].values, 3).tolist())
dopafit.split_summary(fit)

# %% [markdown]
# ## Response curves (Fig. 2a)
#
# Every neuron's mean response (± SEM) to each reward size, on the utility axis, coloured by
# its τ. The curves cross zero (each neuron's reversal point) at different places: a neuron
# with a low reversal point bursts for most reward sizes, one with a high reversal point
# dips for most of them. Distributional TD predicts that the first kind is pessimistic
# (low τ, dark) and the second optimistic (high τ, yellow).

# %%
figures.plot_response_curves(fit, responses)

# %% [markdown]
# ## τ against reversal point (Fig. 2b–c)
#
# Panel a plots, for one representative split, τ from half B against the reversal point
# from half A: independent trials, so a correlation here is evidence. Panel b uses all the
# trials for both estimates; it looks tidier but is not a test, because the same noise
# moves both estimates (even perfectly symmetric neurons give a strong correlation that
# way). Under classical TD every neuron would sit near τ = 0.5 at one common reversal
# point (the square); under distributional TD the points follow the green curve, each
# reversal point being the τ-expectile of the reward distribution.

# %%
figures.plot_tau_reversal(fit)

# %% [markdown]
# One split can be lucky. The distributions over all the splits of the three statistics of
# the paper: r(τ_B, reversal_A), the reliability r(reversal_A, reversal_B), and the one-way
# ANOVA of τ over 7 disjoint folds of the trials (is τ more diverse across neurons than
# within a neuron?).

# %%
figures.plot_split_distributions(fit)

# %% [markdown]
# ## The numbers, beside the published ones
#
# The paper reports one partition per statistic. The middle column is an earlier
# re-analysis of the same 40 neurons over 200 random splits (median, 5–95% range in
# brackets), made while dopafit was specified; the last column is this run (median over its
# splits, 5–95% range in brackets). `tests/test_notebooks.py` checks that this run stays
# inside those ranges.


# %%
def over_splits(values, digits=2):
    """Median [5%, 95%] of a statistic over the splits, as text."""
    q05, median, q95 = np.nanquantile(values, [0.05, 0.5, 0.95])
    return f"{median:.{digits}f} [{q05:.{digits}f}, {q95:.{digits}f}]"


df1, df2 = int(np.median(fit["anova_df1"])), int(np.median(fit["anova_df2"]))
numbers = pd.DataFrame(
    [
        (
            "reliability r(reversal_A, reversal_B)",
            "P = 1.8e-5",
            "0.77 [0.60, 0.87]",
            over_splits(fit["r_reliability"]),
        ),
        (
            "  its p-value, median over splits",
            "1.8e-5",
            "",
            f"{np.median(fit['p_reliability']):.1e}",
        ),
        (
            "r(tau_B, reversal_A)",
            "P = 8.1e-5",
            "0.52 [0.10, 0.66]",
            over_splits(fit["r_tau_reversal"]),
        ),
        (
            "  splits with p < 0.05",
            "",
            "87.5%",
            f"{np.mean(fit['p_tau_reversal'] < 0.05):.1%}",
        ),
        (
            "fold ANOVA of tau, F",
            "F(38, 234) = 2.93",
            "median 3.3",
            f"F({df1}, {df2}) = {over_splits(fit['anova_f'])}",
        ),
        (
            "  its p-value, median over splits",
            "4e-7",
            "",
            f"{np.median(fit['anova_p']):.1e}",
        ),
    ],
    columns=["statistic", "published", "re-analysis (200 splits)", "this run"],
).set_index("statistic")
numbers

# %% [markdown]
# ## Decoding the reward distribution
#
# If each neuron's reversal point is the τ-expectile of the reward distribution, the
# neurons' (τ, reversal point) pairs constrain that distribution (a neuron whose τ lies
# outside [0, 1], from a negative slope, has no expectile and is left out). The decoder looks for 100 reward
# samples whose expectiles at the neurons' τ match their reversal points (mapped back from
# the utility axis to µl) and compares them with the rewards that were delivered.

# %%
decoding = decode_fit(fit, n_starts=N_STARTS, seed=0)
delivered = reward[np.isfinite(reward)]
print(f"decoded from {decoding.attrs['n_units_used']} neurons: mean {decoding.attrs['mean']:.2f} µl,"
      f" SD {decoding.attrs['sd']:.2f} µl; rewards delivered: mean {delivered.mean():.2f} µl,"
      f" SD {delivered.std():.2f} µl")
figures.plot_decoded_distribution(fit, decoding)

# %% [markdown]
# ## What the calibrated comparison adds
#
# The nominal p-values above assume that, without a distributional code, r(τ_B, reversal_A)
# would be centred on 0. It is not: neurons with diverse reversal points but perfectly
# symmetric scaling (a "bias" population) produce a positive correlation through the
# counting rule alone, and neurons that differ in noise inflate the false positives of a
# Pearson test. {func}`dopafit.compare` therefore fits four accounts to these neurons
# (classical TD; diverse symmetric biases; distributional TD; an efficient-coding population
# of sigmoid response curves), simulates each many times with the recording's own trials and
# noise, runs the identical pipeline on every simulated dataset and reports where the
# observed statistics fall.

# %%
result = dopafit.compare(responses, n_sim=N_SIM, n_splits=100, seed=0)
table = result.dopafit.to_dataframe().query(
    "statistic in ['reliability', 'r_tau_reversal', 'combined_diversity', 'combined_asymmetry']"
)
table.pivot(index="statistic", columns="account", values="sim_median").assign(
    observed=table.groupby("statistic")["observed"].first()
)

# %% [markdown]
# Each account's median simulated statistic, beside the observed one. The calibrated p-value
# is (about) the fraction of an account's simulated datasets at least as extreme as the
# data: one-sided for classical TD and the bias null (can they produce this much of the
# distributional signature?), two-sided for distributional TD and the sigmoid population
# (does the data look like what they produce?).

# %%
table.pivot(index="statistic", columns="account", values="p_calibrated")

# %%
print(textwrap.fill(result.attrs["verdict"], 100))
figures.plot_comparison(result)

# %% [markdown]
# Read the verdict with its settings: with `n_sim` simulations per account the smallest
# attainable p-value is 1 / (n_sim + 1). The documentation runs this notebook with 200
# simulations; `dopafit.compare(responses, n_sim=1000)` gives finer p-values. The point of
# the comparison is the reference it provides: whether the observed reliability and
# τ–reversal correlation are larger than what a population *without* a distributional code
# would produce with the same trials and noise, and whether they match what each fitted
# account produces. The statistics and their directions are explained in
# {doc}`the comparison of accounts </explanation/compare>`; the fitting choices in
# {doc}`fitting </explanation/fitting>`.
