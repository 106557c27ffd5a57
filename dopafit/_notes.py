"""Notes of expected conditions in a batch: what a session's fit ran into that needs no action
(fewer than 3 fittable units, edge reversal points, trials dropped for NaN event times,
flagged units), counted once at the end of ``dopafit fit`` instead of printed per session.

A note comes from a :class:`~dopafit.errors.DopafitNote` raised while a session is loaded and
fitted, or from the fit itself (edge reversal points). :func:`dopafit.batch.fit_session`
stores them in :attr:`SessionResult.notes <dopafit.batch.SessionResult>` as
``"kind: text"`` strings and in the session output's ``fit`` attrs ``notes``;
:func:`notes_line` makes the one summary line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["NOTE_KINDS", "count_notes", "notes_line", "note_kind", "session_notes"]

#: what each kind of note counts, as the end-of-batch summary says it
NOTE_KINDS = {
    "few_units": "fewer than 3 fittable units (their own split-half correlations are NaN; "
    "population.nc pools all units)",
    "edge_reversal": "edge reversal points (flagged in edge_reversal)",
    "dropped_trials": "trials dropped for NaN event times",
    "flagged_units": "units flagged in unit_flags",
}


def count_notes(results: Sequence) -> dict[str, list[str]]:
    """The sessions concerned by each kind of note (file names, in input order).

    Examples
    --------
    >>> from dopafit.batch import SessionResult
    >>> r = SessionResult("a/s1.nwb", None, "done", notes=["few_units: only 1 fittable unit"])
    >>> count_notes([r, SessionResult("a/s2.nwb", None, "done")])
    {'few_units': ['s1.nwb']}
    """
    out: dict[str, list[str]] = {}
    for r in results:
        for kind in dict.fromkeys(n.split(":", 1)[0] for n in r.notes):
            out.setdefault(kind, []).append(Path(r.path).name)
    return out


def notes_line(results: Sequence) -> str:
    """One line counting the expected conditions of a batch ("" when there are none).

    Examples
    --------
    >>> from dopafit.batch import SessionResult
    >>> r = SessionResult("s1.nwb", None, "done", notes=["few_units: only 1 fittable unit"])
    >>> print(notes_line([r]))
    notes (expected, nothing to do): 1 session(s) with fewer than 3 fittable units (their own split-half correlations are NaN; population.nc pools all units): s1.nwb
    """
    parts = []
    for kind, sessions in count_notes(results).items():
        names = ", ".join(sessions[:3]) + (
            f" and {len(sessions) - 3} more" if len(sessions) > 3 else ""
        )
        parts.append(f"{len(sessions)} session(s) with {NOTE_KINDS.get(kind, kind)}: {names}")
    return "notes (expected, nothing to do): " + "; ".join(parts) if parts else ""


def note_kind(message) -> str:
    """The kind of a :class:`~dopafit.errors.DopafitNote` ("" for any other warning)."""
    from dopafit.errors import DopafitNote

    return message.kind if isinstance(message, DopafitNote) else ""


def session_notes(caught, fit) -> list[str]:
    """The expected conditions of one session as ``"kind: text"``: its notes, and its units
    with an edge reversal point."""
    import numpy as np

    notes = []
    for w in caught:
        kind = note_kind(w.message)
        text = f"{kind}: {' '.join(str(w.message).split())}" if kind else ""
        if text and text not in notes:
            notes.append(text)
    if "edge_reversal" in fit:
        n_edge = int(np.count_nonzero(fit["edge_reversal"].values))
        if n_edge:
            notes.append(
                f"edge_reversal: {n_edge} of {fit.sizes['unit']} unit(s) with an edge reversal "
                "point (the counting rule's cap; flagged in edge_reversal)"
            )
    return notes
