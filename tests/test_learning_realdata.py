"""Learning models on the 40 public dopamine neurons (Dabney et al. 2020).

The variable-magnitude task is stationary: the reward distribution never changes and the
animals were trained, so the values hardly move and the learning rates are not identifiable
from the trial sequence (analysis spec §7). The fitter must run on every neuron, say so for
most of them, and report no learning asymmetry where it cannot be estimated.
"""

from __future__ import annotations

import numpy as np
import pytest

import dopafit

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def dabney_learning(dabney_nwb):
    # every trial, in order: the value recursion must see every reward (no per-type cap)
    responses = dopafit.load_nwb(dabney_nwb, max_trials_per_type=None)
    return responses, dopafit.fit_learning(responses, "all", n_starts=5)


def test_runs_on_every_neuron_and_flags_the_stationary_task(dabney_learning):
    responses, fit = dabney_learning
    assert responses.sizes["unit"] == 40
    assert np.isfinite(fit.loglik).all() and fit.converged.all()
    asym = fit.sel(model=["asymmetric_learning", "asymmetric_both"])
    ident = asym.identifiable.values
    # learning asymmetry is not identifiable for (nearly) every neuron of a stationary task
    assert ident.mean() <= 0.2, ident.sum(axis=1)
    assert np.isnan(asym.tau_learning.values[~ident]).all()
    assert np.isfinite(asym.tau_learning.values[ident]).all()
    assert all("not identifiable" in s for s in asym.fit_status.values[~ident])
    summary = dopafit.learning_summary(fit)
    assert summary.loc["asymmetric_learning", "n_identifiable"] == ident[0].sum()
    # the response slopes remain estimable: tau_scaling of the static analysis
    ts = fit.sel(model="asymmetric_scaling").tau_scaling.values
    assert np.isfinite(ts).all() and np.all((ts > 0) & (ts < 1))
