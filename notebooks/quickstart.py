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
# # Quickstart: from an NWB file to a fitted report
#
# This tutorial takes one recording session through the whole of dopafit: load the
# dopamine responses from an NWB file, fit each neuron's reversal point and asymmetry τ,
# check the split-half statistics, look at the response curves, ask whether the data
# support distributional or classical TD, and write the HTML report.
#
# The session is one of the simulated files in `data_samples/` (25 units of a
# distributional-TD population in the variable-magnitude task of Dabney et al. 2020: seven
# reward sizes from 0.1 to 20 µl, about half of them announced by an odour). Because it is
# simulated, every unit's true τ and reversal point are known, so we can also see how well
# the fit recovers them. To use your own recording, replace the path: the rest is the same.

# %% tags=["hide-input"]
# Where the sample sessions are: the repository's data_samples/ folder (this cell is folded
# on the web page).
import os
from pathlib import Path


def find_samples():
    """The repository's data_samples/ folder: $DOPAFIT_SAMPLES, or found above this folder."""
    if os.environ.get("DOPAFIT_SAMPLES"):
        return Path(os.environ["DOPAFIT_SAMPLES"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "data_samples" / "sub-sim01_ses-dist1.nwb").is_file():
            return folder / "data_samples"
    raise FileNotFoundError(
        f"no data_samples/ folder in {here} or above it: run the notebook from the dopafit "
        "repository, set DOPAFIT_SAMPLES=<folder>, or write the samples with "
        "'dopafit simulate --preset samples -o data_samples'"
    )


# %%
# %matplotlib inline
import os
import tempfile
import textwrap
from pathlib import Path

import numpy as np

import dopafit
from dopafit.report import figures

# The test suite sets DOPAFIT_NOTEBOOK_QUICK=1 to run every notebook with small settings;
# the documentation is built with the full ones.
QUICK = os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"
N_SPLITS = 200 if QUICK else 1000  # random split halves of the trials
N_SIM = 20 if QUICK else 100  # simulated datasets per account in the comparison
REPORT = {"max_grid_units": 4, "decode_kwargs": {"n_starts": 200}} if QUICK else {}
work = Path(tempfile.mkdtemp(prefix="dopafit-quickstart-"))  # every output goes here

session_file = find_samples() / "sub-sim01_ses-dist1.nwb"

# %% [markdown]
# ## 1. Load the responses
#
# {func}`dopafit.load_nwb` reads the spike times of every unit and the trials table, and
# computes one number per unit and trial: the firing rate 200–600 ms after the reward minus
# the rate in the second before the trial's first event (the odour on cued trials, the
# reward otherwise). The window, the baseline and the columns to use are options; the
# defaults are the paper's. The result is an xarray Dataset with dims `unit × trial`: the
# `response`, and beside it the `reward` (µl) and whether the trial was `cued`.

# %%
responses = dopafit.load_nwb(session_file)
print(dict(responses.sizes), "| response in", responses.attrs["response_units"],
      "| window", responses.attrs["window"], "s after", responses.attrs["align"])
columns = ["response", "reward", "cued"]
responses[columns].isel(unit=0).to_dataframe()[columns].head()  # the first unit's first trials

# %% [markdown]
# ## 2. Fit reversal points and asymmetries
#
# {func}`dopafit.fit_expectiles` does, for each unit, what Dabney et al. (2020) did:
#
# - the **reversal point** is the reward (on the utility axis: the population's mean
#   response to each reward size) where the unit's responses turn from negative to positive;
# - the slopes of the response below (α⁻) and above (α⁺) the reversal point give the
#   **asymmetry** τ = α⁺ / (α⁺ + α⁻): above 0.5 the unit is "optimistic", below it
#   "pessimistic".
#
# It also repeats the analysis over many random **split halves** of the trials, so that the
# reversal point (half A) and τ (half B) are measured on different trials.

# %%
fit = dopafit.fit_expectiles(responses, axis="utility", n_splits=N_SPLITS, seed=0)
estimates = ["unit_id", "reversal_point", "tau", "alpha_neg", "alpha_pos"]
fit.dopafit.to_dataframe()[estimates].head()

# %% [markdown]
# The population statistics over the splits: r(τ_B, reversal_A) (does τ from one half
# predict the reversal point from the other?), the reliability r(reversal_A, reversal_B)
# (are the reversal points consistent across halves?) and the fold ANOVA of τ (is τ more
# diverse across units than within a unit?). Each row is a distribution over the splits:
# median, 5% and 95% quantiles, and the fraction of splits with p < 0.05.

# %%
dopafit.split_summary(fit)

# %% [markdown]
# This session is simulated, so we can compare the all-trial estimates with the truth
# stored in the file (`true_tau`, `true_reversal_point`, in the same utility units):

# %%
for name in ("reversal_point", "tau"):
    r = np.corrcoef(fit[name].values, responses[f"true_{name}"].values)[0, 1]
    print(f"{name}: correlation with the simulated truth r = {r:.2f}")

# %% [markdown]
# ## 3. Look at the responses
#
# Each unit's mean response (± SEM) to each reward size, coloured by its fitted τ. Every
# curve crosses zero at its own reversal point; optimistic units (high τ, yellow) cross it
# at large rewards, pessimistic ones (low τ, dark) at small rewards.

# %%
figures.plot_response_curves(fit, responses)

# %% [markdown]
# τ against reversal point. Panel a is the honest test: τ from half B against the reversal
# point from half A in one representative split. Panel b uses all trials for both and is
# shown for orientation only (shared noise correlates the two estimates).

# %%
figures.plot_tau_reversal(fit)

# %% [markdown]
# ## 4. Distributional or classical TD?
#
# A positive r(τ_B, reversal_A) is not enough: populations without any distributional code
# can produce one (the Dabney et al. 2020 tutorial shows it on the real recordings). {func}`dopafit.compare` fits four accounts to
# these units (classical TD, diverse but symmetric biases, distributional TD, and an
# efficient-coding population of sigmoid curves), simulates each with this session's trials
# and noise, runs the same pipeline on every simulated dataset and places the observed
# statistics in each simulated distribution. Here with a small number of simulations, so
# the smallest attainable p-value is 1 / (N_SIM + 1); use 1,000 for a paper.

# %%
result = dopafit.compare(responses, n_sim=N_SIM, n_splits=50, n_boot=200, seed=0)
combined = result.dopafit.to_dataframe().query("statistic.str.startswith('combined')")
combined.pivot(index="account", columns="statistic", values="p_calibrated")

# %%
print(textwrap.fill(result.attrs["verdict"], 100))

# %% [markdown]
# `result.dopafit.summary()` prints every statistic with its nominal and calibrated
# p-values; {doc}`the comparison of accounts </explanation/compare>` explains what each
# statistic means and which direction supports which account.
#
# ## 5. Save the results and write the report
#
# Every result is an xarray Dataset whose attrs record every choice (axis, windows, seeds,
# number of splits), so a saved file is enough to redo the analysis.
# {func}`dopafit.write_report` writes one self-contained HTML page with all the figures and
# their captions.

# %%
fit.dopafit.to_netcdf(work / "fit.nc")
report = dopafit.write_report(
    {"fit": fit, "responses": responses, "comparison": result},
    work / "report.html",
    **REPORT,  # smaller figures and decoding at quick settings
)
print(f"report: {report.name} ({report.stat().st_size / 1e6:.1f} MB) in {report.parent}")

# %% [markdown]
# Next steps: the same from the command line (`dopafit fit data_samples/ -o fits/`, then
# `dopafit compare fits/` and `dopafit report fits/`), loading your own NWB files (column
# names, photometry), and the reproduction of Dabney et al. (2020) on the real recordings
# in the next tutorial.
