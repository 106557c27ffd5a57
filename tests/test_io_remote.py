"""Remote NWB: load_nwb, describe_nwb, `dopafit inspect` and `dopafit fit` over HTTP range
requests (remfile under h5py) from a real server on 127.0.0.1, and DANDI identifiers through
a fake DANDI API on 127.0.0.1. No test touches the internet."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _dandi import DANDI_FILES, DANDI_OPTIONS
from _http import serve

import dopafit
from dopafit.errors import RemoteError
from dopafit.io.remote import RemoteOptions, RemotePath, fingerprint

pytest.importorskip("remfile")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
SAMPLE = "sub-sim01_ses-dist1.nwb"
FAST = {"timeout": 1.0, "retries": 1}  # failure tests end in seconds


@pytest.fixture(scope="module")
def server():
    with serve(SAMPLES) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _reset(request):
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()


def _same(remote: xr.Dataset, local: xr.Dataset, urls) -> None:
    """Bit for bit equal, attrs included, except where the source is recorded."""
    assert remote.attrs["source"] == ", ".join(urls)
    assert remote.attrs["files"] == list(urls)
    xr.testing.assert_identical(
        remote.assign_attrs(source=local.attrs["source"], files=local.attrs["files"]), local
    )
    for name in remote.variables:
        assert remote[name].dtype == local[name].dtype
        if remote[name].dtype.kind == "f":
            assert np.array_equal(
                remote[name].values.view(np.uint64), local[name].values.view(np.uint64)
            )


def test_remote_load_equals_local_load(server):
    url = server.url(SAMPLE)
    _same(dopafit.load_nwb(url), dopafit.load_nwb(SAMPLES / SAMPLE), [url])
    assert all(r[2] for r in server.requests), "every request is a range request"


def test_several_urls_stack_like_local_files(server):
    names = ["sub-sim02_ses-dist2.nwb", "sub-sim04_ses-classical1.nwb"]
    urls = [server.url(n) for n in names]
    local = dopafit.load_nwb([SAMPLES / n for n in names], unit_ids=None, window=(0.1, 0.5))
    _same(dopafit.load_nwb(urls, window=(0.1, 0.5)), local, urls)


def test_selected_units_and_describe_equal_local(server):
    url = server.url(SAMPLE)
    ids = ["u03", "u17"]
    _same(
        dopafit.load_nwb(url, unit_ids=ids), dopafit.load_nwb(SAMPLES / SAMPLE, unit_ids=ids), [url]
    )
    remote = dopafit.describe_nwb(url)
    local = dopafit.describe_nwb(SAMPLES / SAMPLE)
    assert remote.pop("file") == url
    local.pop("file")
    assert remote == local


def test_source_records_url_without_credentials_or_query():
    p = RemotePath("https://user:secret@example.org/a/b%20c.nwb?X-Amz-Signature=abc")
    assert str(p) == "https://example.org/a/b%20c.nwb"
    assert p.url.endswith("?X-Amz-Signature=abc")
    assert (p.name, p.stem) == ("b c.nwb", "b c")


def _large_session(folder: Path, n_units: int = 200) -> Path:
    """A 200-unit session written by pynwb with spike times in gzip chunks of 16384 values."""
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb import NWBHDF5IO

    from dopafit.io.nwb_write import _build

    session = dopafit.simulate_session(
        n_units=n_units, n_trials=300, seed=3, session_id="big", subject_id="sim"
    )
    nwb = _build(session, "big")
    nwb.units.spike_times.transform(
        lambda d: H5DataIO(
            np.asarray(d.data, dtype=np.float64), chunks=(16384,), compression="gzip", shuffle=True
        )
    )
    path = folder / "sub-sim_ses-big.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwb)
    return path


def test_few_units_of_a_large_file_fetch_a_small_fraction(tmp_path):
    path = _large_session(tmp_path)
    size = path.stat().st_size
    ids = ["u000", "u100", "u199"]
    with serve(tmp_path) as srv:
        url = srv.url(path.name)
        remote = dopafit.load_nwb(url, unit_ids=ids)
        fetched = srv.bytes_sent
    _same(remote, dopafit.load_nwb(path, unit_ids=ids), [url])
    assert size > 10e6
    assert fetched / size < 0.15, f"{fetched} of {size} bytes"


def test_cache_dir_serves_a_second_load_from_disk(server, tmp_path):
    url = server.url(SAMPLE)
    first = dopafit.load_nwb(url, remote={"cache_dir": tmp_path / "cache"})
    sent = server.bytes_sent
    assert any((tmp_path / "cache").rglob("*"))
    server.reset()
    again = dopafit.load_nwb(url, remote=RemoteOptions(cache_dir=tmp_path / "cache"))
    assert server.bytes_sent <= 1 < sent  # only the 1-byte probe (size and ETag)
    xr.testing.assert_identical(first, again)


def _fails_fast(url, mode, server, match):
    server.reset(mode)
    start = time.perf_counter()
    with pytest.raises(RemoteError, match=match) as info:
        dopafit.load_nwb(url, remote=FAST)
    seconds = time.perf_counter() - start
    assert seconds < 15, seconds
    text = str(info.value)
    assert "\n" not in text and url in text and "Fix:" in text
    return text


def test_server_that_drops_the_connection_midway(server):
    text = _fails_fast(server.url(SAMPLE), "drop", server, "dropped connection")
    assert "2 attempt(s)" in text


def test_server_that_stalls(server):
    _fails_fast(server.url(SAMPLE), "stall", server, r"sent nothing for 1 s \(timeout\)")


def test_server_without_range_support(server):
    _fails_fast(server.url(SAMPLE), "norange", server, "range requests")


def test_transient_server_errors_are_retried_then_named(server):
    url = server.url(SAMPLE)
    server.fail_next = 2
    again = dopafit.load_nwb(url, remote={"retries": 2, "timeout": 5})
    _same(again, dopafit.load_nwb(SAMPLES / SAMPLE), [url])
    server.reset()
    server.fail_next = 100
    with pytest.raises(RemoteError, match=r"HTTP 503 Service Unavailable after 2 attempt\(s\)"):
        dopafit.load_nwb(url, remote=FAST)
    assert len(server.requests) == 2


def test_a_drop_late_in_the_load_is_named_and_the_process_exits_cleanly(tmp_path):
    """HDF5 cannot recover a read error inside its calls; the process must still exit cleanly."""
    import subprocess
    import sys

    path = _large_session(tmp_path, n_units=20)
    code = (
        "import dopafit, sys\n"
        "try:\n"
        "    dopafit.load_nwb(sys.argv[1], remote={'timeout': 1, 'retries': 0})\n"
        "except dopafit.DopafitError as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    with serve(tmp_path) as srv:
        srv.reset("drop-late")
        srv.late = 100_000
        res = subprocess.run(
            [sys.executable, "-c", code, srv.url(path.name)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("RemoteError") and "dropped connection" in res.stdout


def test_404_is_named_and_not_retried(server):
    _fails_fast(server.url("missing.nwb"), "ok", server, "HTTP 404")
    assert len(server.requests) == 1


def test_not_an_nwb_file(server, tmp_path):
    (tmp_path / "notes.nwb").write_bytes(b"not hdf5 at all" * 100)
    with serve(tmp_path) as srv, pytest.raises(dopafit.DopafitError, match="cannot open as HDF5"):
        dopafit.load_nwb(srv.url("notes.nwb"))


def test_remote_options_are_checked():
    with pytest.raises(dopafit.DopafitError, match="did you mean 'timeout'"):
        RemoteOptions.make({"timout": 3})
    with pytest.raises(dopafit.DopafitError, match="retries"):
        RemoteOptions(retries=-1)


# ----------------------------------------------------------------------------- DANDI
def _fake_dandi(server, dandiset: str, version: str, asset_path: str, served_name: str):
    """The DANDI API endpoints the dandi client calls to resolve an asset to its content URL."""
    base = server.base
    size = (SAMPLES / served_name).stat().st_size

    def answer(obj, status=200, headers=None):
        body = json.dumps(obj).encode()
        return lambda handler: (status, {"Content-Type": "application/json"}, body)

    asset = {
        "asset_id": "0f0e",
        "blob": "b1",
        "path": asset_path,
        "size": size,
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
    }
    listing = f"/api/dandisets/{dandiset}/versions/{version}/assets/"
    server.routes.update(
        {
            "/server-info": answer(
                {
                    "version": "1",
                    "services": {"api": {"url": f"{base}/api"}},
                    "cli-minimal-version": "0.0.0",
                    "cli-bad-versions": [],
                }
            ),
            listing: answer({"count": 1, "next": None, "previous": None, "results": [asset]}),
            f"{listing}0f0e/": answer(
                {"contentUrl": [f"{base}/api/assets/0f0e/download/", f"{base}/{served_name}"]}
            ),
            "/api/assets/0f0e/download/": lambda h: (
                302,
                {"Location": f"{base}/{served_name}"},
                b"",
            ),
        }
    )
    return f"{base}/api"


def test_dandi_identifier_resolves_through_the_api(server, monkeypatch):
    pytest.importorskip("dandi")
    api = _fake_dandi(server, "000999", "draft", "sub-sim01/sub-sim01_ses-dist1.nwb", SAMPLE)
    monkeypatch.setenv("DOPAFIT_DANDI_API", api)
    ident = "dandi://000999/draft/sub-sim01/sub-sim01_ses-dist1.nwb"
    remote = dopafit.load_nwb(ident)
    _same(remote, dopafit.load_nwb(SAMPLES / SAMPLE), [ident])
    missing = "dandi://000999/draft/sub-sim01/nothing.nwb"
    server.routes["/api/dandisets/000999/versions/draft/assets/"] = lambda h: (
        200,
        {},
        json.dumps({"count": 0, "next": None, "previous": None, "results": []}).encode(),
    )
    with pytest.raises(RemoteError, match="DANDI asset 'sub-sim01/nothing.nwb'"):
        dopafit.load_nwb(missing)


def test_malformed_dandi_identifier():
    with pytest.raises(dopafit.DopafitError, match="DANDISET/VERSION/path.nwb"):
        dopafit.load_nwb("dandi://000006/draft")


# ----------------------------------------------------------------------------- CLI, batch
def _cli(*args, env=None):
    """The real command line in a subprocess (the server runs in this process)."""
    import os
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "dopafit", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    res.output = res.stdout + res.stderr
    res.exit_code = res.returncode
    return res


def test_inspect_url_and_404(server):
    out = _cli("inspect", server.url(SAMPLE))
    assert out.exit_code == 0, out.output
    assert "units: units" in out.output and server.url(SAMPLE) in out.output
    bad = _cli("inspect", server.url("gone.nwb"))
    assert bad.exit_code != 0
    assert bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
    assert "HTTP 404" in bad.stderr and "Traceback" not in bad.stderr


def test_fit_urls_as_paths_then_up_to_date(server, tmp_path):
    names = ["sub-sim01_ses-dist1.nwb", "sub-sim04_ses-classical1.nwb"]
    urls = [server.url(n) for n in names]
    out = _cli("fit", *urls, "-o", tmp_path / "fits", "--n-splits", 20, "--no-population", "-q")
    assert out.exit_code == 0, out.output
    assert "2 fitted" in out.output
    local = _cli(
        "fit", *[SAMPLES / n for n in names], "-o", tmp_path / "local", "--n-splits", 20,
        "--no-population", "-q",
    )  # fmt: skip
    assert local.exit_code == 0, local.output
    for n in names:
        stem = n[: -len(".nwb")]
        r = xr.open_dataset(tmp_path / "fits" / "sessions" / f"{stem}.nc", group="fit")
        loc = xr.open_dataset(tmp_path / "local" / "sessions" / f"{stem}.nc", group="fit")
        for var in ("reversal_point", "alpha_pos", "alpha_neg"):
            xr.testing.assert_identical(r[var], loc[var])
        assert r.attrs["input_file"] == server.url(n)
        assert r.attrs["input_sha256"] == fingerprint(server.url(n))
    again = _cli("fit", *urls, "-o", tmp_path / "fits", "--n-splits", 20, "--no-population")
    assert "2 up to date" in again.output
    server.reset("drop")
    shutil.rmtree(tmp_path / "fits")
    failed = _cli(
        "fit", urls[0], "-o", tmp_path / "fits", "--no-population",
        env={"DOPAFIT_HTTP_TIMEOUT": "1", "DOPAFIT_HTTP_RETRIES": "0"},
    )  # fmt: skip
    assert failed.exit_code == 1 and "dropped connection" in failed.output
    assert not list((tmp_path / "fits" / "sessions").glob("*.nc"))


def test_batch_settings_check_remote_options(tmp_path):
    from dopafit.batch import BatchSettings

    config = tmp_path / "lab.toml"
    config.write_text("[load]\nremote = { timout = 2 }\n")
    with pytest.raises(dopafit.DopafitError, match="did you mean 'timeout'") as info:
        BatchSettings.from_toml(config)
    assert "lab.toml" in str(info.value)
    config.write_text('[load]\nremote = { cache_dir = "cache", retries = 1 }\n')
    assert BatchSettings.from_toml(config).load["remote"] == {"cache_dir": "cache", "retries": 1}


# ----------------------------------------------------------------------------- real files


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::dopafit.errors.DopafitWarning")
def test_files_written_by_other_software_load_alike_remotely(shared_data):
    """DANDI:000006 (NWB 2.0.2) and a NeuroConv photometry file, served over HTTP."""
    import pandas as pd

    folder = shared_data / "nwb"
    with serve(folder) as srv:
        urls = [srv.url(n) for n in DANDI_FILES]
        local = dopafit.load_nwb([folder / n for n in DANDI_FILES], **DANDI_OPTIONS)
        _same(dopafit.load_nwb(urls, **DANDI_OPTIONS), local, urls)
        name = "neuroconv_doric_fiber_photometry.nwb"
        trials = pd.DataFrame({"start_time": [0.5], "reward": [1.0], "reward_time": [1.0]})
        opts = dict(trials=trials, window=(0.0, 0.5), baseline=(-0.5, 0.0))
        url = srv.url(name)
        _same(dopafit.load_nwb(url, **opts), dopafit.load_nwb(folder / name, **opts), [url])
        remote = dopafit.describe_nwb(url)
        assert remote.pop("file") == url
        local_info = dopafit.describe_nwb(folder / name)
        local_info.pop("file")
        assert remote == local_info


def test_fit_cache_dir_flag_goes_to_the_load_settings(tmp_path):
    from dopafit.cli.fit import _settings

    config = tmp_path / "lab.toml"
    config.write_text("[load]\nremote = { retries = 1 }\n")
    settings = _settings(str(config), {"cache_dir": "cache"})
    assert settings.load["remote"] == {"retries": 1, "cache_dir": "cache"}


def test_missing_extras_say_what_to_install(server, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "remfile", None)
    with pytest.raises(dopafit.DopafitError, match=r'pip install "dopafit\[remote\]"'):
        dopafit.load_nwb(server.url(SAMPLE))
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "dandi.dandiapi", None)
    with pytest.raises(dopafit.DopafitError, match=r'pip install "dopafit\[dandi\]"'):
        dopafit.load_nwb("dandi://000999/draft/sub-x/sub-x_ses-y.nwb")
