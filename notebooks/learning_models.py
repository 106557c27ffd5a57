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
# # Learning models: asymmetric learning or asymmetric scaling, and can the task tell?
#
# The static analysis of Dabney et al. (2020) reads a neuron's asymmetry τ off its response
# curve: how steeply it answers rewards above and below its reversal point. Distributional
# TD makes a different claim: that a neuron *learns* with different rates after positive and
# negative prediction errors (η⁺ ≠ η⁻). The two are separate hypotheses with separate
# signatures in the trial-by-trial dynamics (Muller et al. 2024):
#
# - **asymmetric scaling**: the response to an error of a given size differs with its sign
#   (α⁺ ≠ α⁻), but the value moves symmetrically;
# - **asymmetric learning**: the value moves more after errors of one sign, so it settles at
#   an expectile of the reward distribution, and every later error depends on it.
#
# {func}`dopafit.fit_learning` fits four models to each unit's sequence of responses:
#
# | model | code | learning rates | response slopes |
# |---|---|---|---|
# | `classical` | SL-SS | one η | one α |
# | `asymmetric_learning` | AL-SS | η⁺ ≠ η⁻ | one α |
# | `asymmetric_scaling` | SL-AS | one η | α⁺ ≠ α⁻ |
# | `asymmetric_both` | AL-AS | η⁺ ≠ η⁻ | α⁺ ≠ α⁻ |
#
# and {func}`dopafit.learning_recovery` asks whether a task can tell them apart at all. This
# notebook does both on simulated units whose truth is known. The models, the fitting and
# the identifiability rule are described in [learning models](../explanation/learning.md).
#
# It is a jupytext script: open it in Jupyter (with jupytext installed) or run it with
# `python notebooks/learning_models.py`.

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dopafit
from dopafit.simulate import get_schedule

# The test suite sets DOPAFIT_NOTEBOOK_QUICK=1 to run every notebook with small settings;
# the documentation is built with the full ones.
QUICK = os.environ.get("DOPAFIT_NOTEBOOK_QUICK") == "1"
N_UNITS = 10 if QUICK else 30  # simulated units
N_TRIALS = 600 if QUICK else 1000  # trials per unit on the changing task
N_STARTS = 3 if QUICK else 10  # optimiser starts per fit (the default is 10)
FIT = {"n_starts": N_STARTS, "seed": 0}
MODELS = ["classical", "asymmetric_learning", "asymmetric_scaling", "asymmetric_both"]
CODES = {
    "classical": "SL-SS",
    "asymmetric_learning": "AL-SS",
    "asymmetric_scaling": "SL-AS",
    "asymmetric_both": "AL-AS",
}
work = Path(tempfile.mkdtemp(prefix="dopafit-learning-"))  # every output goes here
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
pd.set_option("display.max_colwidth", None)
print("outputs in", work)

# %% [markdown]
# ## 1. A task whose reward distribution changes
#
# Learning rates can only be measured while values move. In a stationary task, after
# training, values sit at their asymptotes and the trial-to-trial fluctuations say little
# about how fast they would move. The `"flip"` schedule alternates a *rich* block (large
# rewards likely) and a *lean* block (small rewards likely) every 100 trials, with the seven
# reward sizes of the Dabney task:

# %%
for task in get_schedule("flip"):
    print(f"{task.name:>4}: mean {task.mean:5.2f} ul, probabilities {list(task.probabilities)}")

# %% [markdown]
# {func}`dopafit.simulate_learning` simulates units that learn on this schedule. With the
# `"distributional"` population each unit has its own τ, which sets both its learning
# rates (η⁺ = 2ητ, η⁻ = 2η(1 − τ)) and its response slopes (α⁺ = 2gτ, α⁻ = 2g(1 − τ)): the
# generating model is `asymmetric_both`, with the same τ for learning and for scaling.
# Responses are the scaled prediction error plus Gaussian noise (the simulator's default
# noise, an SD of 2.5–6 Hz drawn per unit: column `noise` below).

# %%
responses = dopafit.simulate_learning("flip", "distributional", N_UNITS, N_TRIALS, seed=0)
print(responses.sizes)
truth = pd.DataFrame(
    {
        name: responses[f"true_{name}"].values
        for name in ("tau_learning", "eta_pos", "eta_neg", "alpha_pos", "alpha_neg", "noise")
    },
    index=responses["unit_id"].values,
)
truth.round(3).head()

# %% [markdown]
# The values of an optimistic and a pessimistic unit follow the blocks but settle at
# different levels: each converges to its own τ-expectile of the block's distribution (the
# grey steps are the block means).

# %%
tau = responses["true_tau_learning"].values
examples = [int(np.argmax(tau)), int(np.argmin(tau))]
trials = responses["trial"].values
block = responses["block"].values[0]
block_mean = np.array([get_schedule("flip")[b % 2].mean for b in block])
fig, ax = plt.subplots(figsize=(9, 3.2))
ax.step(trials, block_mean, where="post", color="0.6", label="block mean reward")
for unit, color in zip(examples, ["tab:red", "tab:blue"]):
    ax.plot(trials, responses["true_value"].values[unit], color=color, lw=1,
            label=f"value of unit {unit} (τ = {tau[unit]:.2f})")  # fmt: skip
ax.set(xlabel="trial", ylabel="value (ul)", xlim=(0, min(N_TRIALS, 600)))
ax.legend(frameon=False, fontsize=8, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Fit the four models
#
# `fit_learning(responses, "all")` fits every model to every unit by maximum likelihood
# (several optimiser starts, profile-likelihood intervals for the learning rates, and a
# blocked leave-future-out cross-validation). `learning_summary` gives one row per model:
# units fitted, converged, with identifiable learning rates, and chosen as best by BIC.

# %%
fit = dopafit.fit_learning(responses, "all", **FIT)
saved = fit.dopafit.to_netcdf(work / "learning.nc")  # every choice is recorded in its attrs
print(dopafit.learning_summary(fit))

# %% [markdown]
# ## 3. Which units' learning rates are identifiable?
#
# A unit's learning rates are *identifiable* when the fit converged, the Hessian is positive
# definite and the profile interval of every learning rate is bounded on both sides by the
# data and not too wide. Otherwise dopafit reports no learning asymmetry for that unit
# (`tau_learning` is NaN) and `fit_status` says why:

# %%
both = fit.sel(model="asymmetric_both")
status = pd.DataFrame(
    {
        "true tau": tau,
        "identifiable": both["identifiable"].values,
        "tau_learning": both["tau_learning"].values,
        "fit_status": both["fit_status"].values,
    },
    index=responses["unit_id"].values,
)
print("identifiable under asymmetric_both:", int(status["identifiable"].sum()), "of", len(status))
status[~status["identifiable"]].round(3)

# %% [markdown]
# ## 4. The best model per unit
#
# The generating model is `asymmetric_both` for every unit, yet BIC does not always choose
# it. The table counts the chosen model against how far the unit's τ is from 0.5: a unit
# with τ near 0.5 hardly has an asymmetry to detect, and BIC prefers the simpler model
# unless the data demand the extra parameters.

# %%
bins, names = [0, 0.1, 0.2, 0.3, 0.5], ["0-0.1", "0.1-0.2", "0.2-0.3", "0.3-0.5"]
asymmetry = pd.cut(np.abs(tau - 0.5), bins, labels=names, include_lowest=True)
pd.crosstab(
    pd.Series(fit["best_model"].values, name="best model (BIC)"),
    pd.Series(asymmetry, name="|true τ − 0.5|"),
)

# %% [markdown]
# ## 5. Parameter recovery against the known truth
#
# The `asymmetric_both` estimates against the simulated truth, with the 95% intervals
# (profile likelihood for the learning rates and `tau_learning`, Wald for the slopes).
# Filled points are units with identifiable learning rates. `tau_learning` is drawn only
# where it is identifiable; `tau_scaling` = α⁺/(α⁺ + α⁻) is the quantity the static fit
# calls τ.

# %%
params = ["eta_pos", "eta_neg", "tau_learning", "alpha_pos", "alpha_neg", "tau_scaling"]
ident = both["identifiable"].values
fig, axes = plt.subplots(2, 3, figsize=(10, 6.4))
for ax, name in zip(axes.ravel(), params):
    true = responses[f"true_{name}"].values
    est = both[name].values
    lo, hi = both[f"{name}_lo"].values, both[f"{name}_hi"].values
    err = np.array([est - lo, hi - est])
    for mask, face in ((ident, "tab:purple"), (~ident, "none")):
        ax.errorbar(true[mask], est[mask], yerr=err[:, mask], fmt="o", ms=4, mfc=face,
                    color="tab:purple", ecolor="0.75", lw=1)  # fmt: skip
    top = np.nanmax(np.concatenate([true, est])) * 1.05
    ax.plot([0, top], [0, top], "k--", lw=1)
    ok = np.isfinite(est)
    r = np.corrcoef(true[ok], est[ok])[0, 1]
    ax.set(title=f"{name} (r = {r:.2f})", xlabel="truth", ylabel="estimate")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Model recovery: could this task tell the models apart?
#
# Whether a unit's best model means anything depends on the task: with a given reward
# sequence and noise, would the right model be chosen if it had generated the data?
# `learning_recovery(responses, fit)` answers on the recording's own trials: it simulates
# each model with each unit's fitted parameters under that model, refits all four models,
# and counts which one is chosen. Rows are the generating model, columns the chosen one;
# a perfect task gives the identity matrix.

# %%
recovery = dopafit.learning_recovery(responses, fit, **FIT)
saved = recovery.dopafit.to_netcdf(work / "learning_recovery.nc")


def plot_confusion(ax, confusion, title):
    """Heat map of a confusion matrix (rows: simulated model, columns: chosen model)."""
    matrix = confusion.sel(true_model=MODELS, model=MODELS).values
    ax.imshow(matrix, vmin=0, vmax=1, cmap="Blues")
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                    color="white" if value > 0.6 else "black")  # fmt: skip
    ticks = range(len(MODELS))
    labels = [CODES[m] for m in MODELS]
    ax.set(xticks=ticks, yticks=ticks, xticklabels=labels, yticklabels=labels, title=title)
    ax.set(xlabel="chosen model", ylabel="simulated model")


criteria = recovery["confusion_by_criterion"]["criterion"].values
fig, axes = plt.subplots(1, len(criteria), figsize=(4 * len(criteria), 3.8))
for ax, criterion in zip(np.atleast_1d(axes), criteria):
    matrix = recovery["confusion_by_criterion"].sel(criterion=criterion)
    plot_confusion(ax, matrix, f"selected by {criterion.upper()}")
fig.tight_layout()
plt.show()

# %% [markdown]
# The recovery also scores the parameters of each simulated model (Pearson r between the
# simulated and the refitted values; NaN for a parameter the model fixes), and the fraction
# of units whose learning rates are identifiable:

# %%
scores = recovery["recovery_r"].to_pandas().loc[MODELS]
scores["identifiable"] = recovery["identifiable_fraction"].to_pandas().loc[MODELS]
scores.round(2)

# %% [markdown]
# ## 7. Asymmetric learning or asymmetric scaling?
#
# The question that matters for distributional TD is whether a task separates the two
# asymmetries. Two cells of the matrix say it: how often data simulated with asymmetric
# learning only are attributed to asymmetric scaling, and the reverse. The same question on
# the **stationary** variable-magnitude task of Dabney et al. (values start at their
# asymptotes, about 250 trials per unit, as in the public recordings) shows what a task
# without changes can and cannot say.

# %%
stationary = dopafit.simulate_learning(
    "dabney", "distributional", N_UNITS, 250, v0="expectile", seed=0
)
fit_stationary = dopafit.fit_learning(stationary, "all", **FIT)
recovery_stationary = dopafit.learning_recovery(stationary, fit_stationary, **FIT)

rows = {}
for name, rec in (("flip, changing", recovery), ("dabney, stationary", recovery_stationary)):
    confusion = rec["confusion"]
    rows[name] = {
        "identifiable (AL-AS data)": float(rec["identifiable_fraction"].sel(true_model=MODELS[3])),
        "AL-SS recovered": float(confusion.sel(true_model=MODELS[1], model=MODELS[1])),
        "AL-SS read as SL-AS": float(confusion.sel(true_model=MODELS[1], model=MODELS[2])),
        "SL-AS recovered": float(confusion.sel(true_model=MODELS[2], model=MODELS[2])),
        "SL-AS read as AL-SS": float(confusion.sel(true_model=MODELS[2], model=MODELS[1])),
        "AL-SS read as SL-SS": float(confusion.sel(true_model=MODELS[1], model=MODELS[0])),
    }
pd.DataFrame.from_dict(rows, orient="index").round(2)

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
plot_confusion(axes[0], recovery["confusion"], "flip (changing), BIC")
plot_confusion(axes[1], recovery_stationary["confusion"], "dabney (stationary), BIC")
fig.tight_layout()
plt.show()

# %% [markdown]
# How to read these results:
#
# - the two asymmetries are rarely mistaken *for each other*: when the data carry an
#   asymmetry that BIC detects, it is attributed to the right mechanism. The typical error
#   is to miss an asymmetry and choose a model without it (the first column);
# - asymmetric *learning* is the harder one to detect: its only trace is in how values move,
#   so it needs reward sequences that move them. On the stationary task the learning rates
#   of most units are not identifiable, and data generated with asymmetric learning are
#   mostly read as classical;
# - a unit's best model is therefore evidence only in a task whose recovery matrix is close
#   to the identity. Run `learning_recovery` on your own trials before reading the best
#   models of a recording; `dopafit fit --learning all` does it for you on up to 100 units
#   (see [learning models](../explanation/learning.md)).

# %%
print("files written:", sorted(p.name for p in work.iterdir()))
