"""Convert Uchida-lab "CommonFormat" per-neuron MAT files to NWB sessions.

Each MAT file holds one neuron (``events`` and ``responses`` structs, times in ms). Neurons
recorded simultaneously share identical event arrays: they are grouped into one session and
written as one NWB file (via :func:`dopafit.io.nwb_write.write_nwb`), after which they load
like any other recording with :func:`dopafit.load_nwb`.

Conversion rules
----------------
- Trial types (``events.trialType``, trusted over ``odorID``): 1-7 uncued reward of
  magnitude index 1-7 delivered at ``odorOn``; 8-14 cued reward, odour at ``odorOn`` and
  reward 1.5 s later; 15 odour 2, no reward; NaN unknown. Magnitudes for index 1-7:
  0.1, 0.3, 1.2, 2.5, 5, 10, 20 µl (``magnitudes=`` to change).
- Every trial is kept, in file order. Trials table columns (times in s, ms / 1000):
  ``reward`` (µl; NaN on types 15 and NaN, which :func:`dopafit.load_nwb` drops and
  counts), ``reward_time`` (``odorOn`` uncued, ``odorOn + 1.5`` cued, NaN without reward),
  ``cue_time`` (``odorOn`` when an odour was presented: types 8-15, or unknown type with
  ``odorID > 0``), ``cued`` (types 8-14), ``cue_id`` (0 none, 1 reward odour, 2 odour 2;
  ``odorID`` on unknown-type trials), ``trial_type`` (as recorded, NaN kept),
  ``start_time = odorOn - 1 s``, ``stop_time = odorOn + 3 s`` (the original analysis range).
- Session: files with identical ``odorOn`` and ``trialType`` arrays form one session; its
  id is the file-name part before ``_TT`` (e.g. ``D_05-07_15-42-29``, ``03_05``), suffixed
  ``-2``, ``-3`` if that name is taken by another session. Unit id: the ``TT<tetrode>_<cell>``
  part (e.g. ``TT6_1``); the ``source_file`` unit column keeps the file name.
- Subject: a file name starting with one capital letter and ``_`` (``D_``, ``L_``, ``O_``)
  names the animal (``D``, ``L``, ``O``); other files (named by date only) get subject
  ``"unknown"`` (``subjects=`` maps file names to subjects to override). Analyses grouping
  by animal must treat ``"unknown"`` as unknown, not as one animal.
- The session start time (absent from the files) is a placeholder, 2020-01-01 UTC.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from dopafit.errors import (
    ConfigError,
    FileNotFoundError_,
    MissingColumnError,
    NotNWBError,
    missing_path,
)

__all__ = ["convert_uchida_mat", "read_uchida_mat", "uchida_sessions", "MAGNITUDES"]

#: Reward magnitudes (µl) of magnitude index 1-7 in the variable-magnitude task.
MAGNITUDES = (0.1, 0.3, 1.2, 2.5, 5.0, 10.0, 20.0)
CUE_DELAY = 1.5
_SUBJECT = re.compile(r"^([A-Z])_")
_UNIT = re.compile(r"_(TT\d+_\d+)")


def read_uchida_mat(path: str | PathLike) -> dict:
    """Read one CommonFormat MAT file.

    Returns
    -------
    dict
        ``odor_on`` (ms), ``odor_id``, ``trial_type`` (float, NaN kept), ``spikes`` (ms,
        sorted) as arrays, and ``file`` (the path).

    Raises
    ------
    FileNotFoundError_, NotNWBError, MissingColumnError
    """
    from scipy.io import loadmat

    path = Path(path)
    if not path.exists():
        raise missing_path(path, "an existing CommonFormat .mat file")
    try:
        mat = loadmat(path, squeeze_me=True, struct_as_record=False)
    except Exception as exc:  # scipy raises ValueError/TypeError/OSError for bad files
        raise NotNWBError(
            "a MATLAB v5 (.mat) file",
            found=f"a file scipy cannot read ({type(exc).__name__}: {exc})",
            remedy="check that this is a CommonFormat .mat file (MATLAB v7.3 files are HDF5)",
            file=path,
        ) from None
    for name, fields in (("events", ("odorOn", "odorID", "trialType")), ("responses", ("spike",))):
        obj = mat.get(name)
        have = getattr(obj, "_fieldnames", None)
        if have is None or any(f not in have for f in fields):
            raise MissingColumnError(
                f"a struct {name!r} with fields {', '.join(fields)}",
                found=f"fields {', '.join(have)}"
                if have
                else f"variables {', '.join(k for k in mat if not k.startswith('__'))}",
                remedy="this is not an Uchida-lab CommonFormat file",
                file=path,
            )
    ev, resp = mat["events"], mat["responses"]
    odor_on = np.atleast_1d(np.asarray(ev.odorOn, dtype=np.float64))
    spikes = np.atleast_1d(np.asarray(resp.spike, dtype=np.float64))
    spikes = np.sort(spikes[np.isfinite(spikes)])
    return {
        "file": path,
        "odor_on": odor_on,
        "odor_id": np.atleast_1d(np.asarray(ev.odorID, dtype=np.float64)),
        "trial_type": np.atleast_1d(np.asarray(ev.trialType, dtype=np.float64)),
        "spikes": spikes,
    }


def _trials(cell: dict, magnitudes: Sequence[float]) -> pd.DataFrame:
    on = cell["odor_on"] / 1000.0
    tt = cell["trial_type"]
    odor = cell["odor_id"]
    known = np.isfinite(tt)
    t = np.where(known, tt, 0).astype(np.int64)
    uncued = known & (t >= 1) & (t <= 7)
    cued = known & (t >= 8) & (t <= 14)
    rewarded = uncued | cued
    mag = np.asarray(magnitudes, dtype=np.float64)
    reward = np.full(on.size, np.nan)
    reward[rewarded] = mag[(t[rewarded] - 1) % 7]
    reward_time = np.where(uncued, on, np.where(cued, on + CUE_DELAY, np.nan))
    odour = cued | (known & (t == 15)) | (~known & (odor > 0))
    cue_id = np.where(cued, 1, np.where(known & (t == 15), 2, 0))
    cue_id = np.where(known, cue_id, np.nan_to_num(odor)).astype(np.int64)
    return pd.DataFrame(
        {
            "start_time": on - 1.0,
            "stop_time": on + 3.0,
            "reward": reward,
            "reward_time": reward_time,
            "cued": cued,
            "cue_time": np.where(odour, on, np.nan),
            "cue_id": cue_id,
            "trial_type": tt,
        }
    )


def _events_key(cell: dict) -> str:
    h = hashlib.sha256()
    h.update(cell["odor_on"].tobytes())
    h.update(b"|")
    h.update(cell["trial_type"].tobytes())
    return h.hexdigest()


def uchida_sessions(
    files: Sequence[str | PathLike],
    *,
    magnitudes: Sequence[float] = MAGNITUDES,
    subjects: Mapping[str, str] | None = None,
):
    """Group CommonFormat files into sessions (see the module rules).

    Parameters
    ----------
    files : sequence of path
        Per-neuron MAT files.
    magnitudes : sequence of 7 floats
        Reward (µl) of magnitude index 1-7.
    subjects : dict file name -> subject, optional
        Overrides the file-name rule.

    Returns
    -------
    list of dopafit.session.Session
        One per group of simultaneously recorded neurons, ordered by first file name.
    """
    from dopafit.session import Session

    if len(magnitudes) != 7:
        raise ConfigError("7 reward magnitudes", found=f"{len(magnitudes)}")
    cells = [read_uchida_mat(f) for f in sorted(Path(f) for f in files)]
    groups: dict[str, list[dict]] = {}
    for cell in cells:
        groups.setdefault(_events_key(cell), []).append(cell)
    sessions = []
    taken: dict[str, int] = {}
    for group in groups.values():
        names = [c["file"].name for c in group]
        base = names[0].split("_TT")[0] if "_TT" in names[0] else Path(names[0]).stem
        taken[base] = taken.get(base, 0) + 1
        session_id = base if taken[base] == 1 else f"{base}-{taken[base]}"
        unit_ids = []
        for c in group:
            m = _UNIT.search(c["file"].name)
            unit_ids.append(m.group(1) if m else c["file"].stem)
        if len(set(unit_ids)) != len(unit_ids):
            unit_ids = [c["file"].stem for c in group]
        subject = _subject(names[0], subjects)
        others = {_subject(n, subjects) for n in names}
        if len(others) > 1:
            raise ConfigError(
                "one subject per session",
                found=f"subjects {sorted(others)} for files {', '.join(names)}",
                remedy="fix subjects=",
            )
        sessions.append(
            Session(
                spike_times=[c["spikes"] / 1000.0 for c in group],
                trials=_trials(group[0], magnitudes),
                units=pd.DataFrame({"unit_id": unit_ids, "source_file": names}),
                session_id=session_id,
                subject_id=subject,
                description=(
                    "Variable-magnitude reward task (Dabney et al. 2020): optogenetically "
                    "identified VTA dopamine neurons; converted from Uchida-lab CommonFormat"
                ),
                attrs={
                    "source_files": names,
                    "converter": "dopafit.io.uchida.convert_uchida_mat",
                    "reward_units": "ul",
                    "magnitudes": [float(m) for m in magnitudes],
                    "cue_delay_s": CUE_DELAY,
                    "related_publications": ["doi:10.1038/s41586-019-1924-6"],
                    "subject": {"species": "Mus musculus"},
                    "start_time_note": "placeholder: the source files hold no date",
                },
            )
        )
    return sessions


def _subject(name: str, subjects: Mapping[str, str] | None) -> str:
    if subjects and name in subjects:
        return str(subjects[name])
    m = _SUBJECT.match(name)
    return m.group(1) if m else "unknown"


def convert_uchida_mat(
    files: Sequence[str | PathLike] | str | PathLike,
    outdir: str | PathLike,
    *,
    magnitudes: Sequence[float] = MAGNITUDES,
    subjects: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Convert per-neuron CommonFormat MAT files to one NWB file per session.

    Parameters
    ----------
    files : path, directory or sequence of paths
        MAT files (a directory stands for its ``*.mat`` files).
    outdir : path
        Output folder (created); files are named ``<session_id>.nwb``.
    magnitudes : sequence of 7 floats, default :data:`MAGNITUDES`
        Reward (µl) of magnitude index 1-7.
    subjects : dict file name -> subject, optional
        Override the subject rule (see the module docstring).
    overwrite : bool, default False
        Replace existing NWB files that differ from the new ones (else
        :class:`~dopafit.errors.OutputExistsError`). An existing file identical to the new
        one is left alone either way, so a conversion can be rerun into the same folder.

    Returns
    -------
    list of pathlib.Path
        The NWB files written, one per session.

    Examples
    --------
    One made-up neuron in the CommonFormat layout (times in ms; trial types 1-7 uncued, 8-14
    cued), converted and loaded:

    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> import dopafit
    >>> trial_type = np.tile([1.0, 9.0, 4.0, 12.0, 7.0, 14.0, 5.0], 2)
    >>> events = {"odorOn": 10000.0 + 8000.0 * np.arange(14), "trialType": trial_type,
    ...           "odorID": (trial_type > 7).astype(np.uint8)}
    >>> spikes = np.sort(np.random.default_rng(0).uniform(0, 130000, 800))
    >>> savemat("D_05-07_15-42-29_TT1_1_Common.mat",
    ...         {"events": events, "responses": {"spike": spikes}})
    >>> paths = dopafit.convert_uchida_mat(["D_05-07_15-42-29_TT1_1_Common.mat"], "nwb")
    >>> [p.as_posix() for p in paths]
    ['nwb/D_05-07_15-42-29.nwb']
    >>> ds = dopafit.load_nwb(paths)
    >>> ds["subject"].values.tolist(), ds["unit_id"].values.tolist(), ds.sizes["trial"]
    (['D'], ['TT1_1'], 14)
    """
    written = convert_with_status(
        files, outdir, magnitudes=magnitudes, subjects=subjects, overwrite=overwrite
    )
    return [path for path, _ in written]


def convert_with_status(
    files, outdir, *, magnitudes=MAGNITUDES, subjects=None, overwrite=False
) -> list[tuple[Path, str]]:
    """:func:`convert_uchida_mat`, with what happened to each file: ``"written"``,
    ``"unchanged"`` (an identical file was already there) or ``"replaced"``."""
    from dopafit.io.nwb_write import write_nwb_status

    expanded = _mat_files(files)
    outdir = Path(outdir)
    sessions = uchida_sessions(expanded, magnitudes=magnitudes, subjects=subjects)
    outdir.mkdir(parents=True, exist_ok=True)
    out = []
    for s in sessions:
        path = outdir / f"{s.session_id}.nwb"
        out.append((path, write_nwb_status(s, path, overwrite=overwrite)))
    return out


def _mat_files(files) -> list[Path]:
    """The MAT files named by ``files`` (folders stand for their ``*.mat`` files).

    A path that does not exist, or a folder without ``*.mat`` files, is an error that names
    the absolute path searched (relative paths resolve from the working folder) and what was
    there.
    """
    if isinstance(files, (str, PathLike)):
        files = [files]
    expanded: list[Path] = []
    for f in files:
        f = Path(f)
        if f.is_dir():
            found = sorted(f.glob("*.mat"))
            if not found:
                entries = sorted(p.name for p in f.iterdir())
                listed = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
                raise FileNotFoundError_(
                    "a folder holding CommonFormat *.mat files",
                    found=f"no *.mat file in {f.resolve()}"
                    + (f" ({len(entries)} other entries: {listed})" if entries else " (empty)"),
                    file=f,
                    remedy="pass the folder that holds the per-neuron .mat files, or the "
                    ".mat files themselves",
                )
            expanded.extend(found)
        elif not f.exists():
            raise missing_path(f, "a CommonFormat .mat file or a folder of them")
        else:
            expanded.append(f)
    if not expanded:
        raise FileNotFoundError_("at least one .mat file", found="an empty list of files")
    return expanded
