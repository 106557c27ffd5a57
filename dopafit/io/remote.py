"""Read NWB files over HTTP(S) and from DANDI with range requests, as h5py file objects.

``https://…`` URLs and DANDI asset identifiers ``dandi://DANDISET/VERSION/path.nwb`` are
read with HTTP range requests (:mod:`remfile`, an optional extra: ``pip install
"dopafit[remote]"``) under h5py, so that only the parts of the file that a load touches (the
metadata, the trials table, the spike-time slices of the units asked for) are fetched.
Every request has a timeout (seconds without a byte from the server) and a bounded number of
retries; a failure ends in one :class:`~dopafit.errors.RemoteError` naming the URL, what
happened and what to do, never in a hang.

DANDI identifiers are resolved with the ``dandi`` client (``pip install "dopafit[dandi]"``)
through the DANDI API (``RemoteOptions.dandi_api``, else ``$DOPAFIT_DANDI_API``, else the
client's default instance) to the asset's content URL.

Examples
--------
>>> url = RemotePath("https://example.org/data/sub-01_ses-02.nwb?token=x")
>>> str(url), url.name, url.stem
('https://example.org/data/sub-01_ses-02.nwb', 'sub-01_ses-02.nwb', 'sub-01_ses-02')
>>> is_remote("dandi://000006/0.220126.1855/sub-anm369963/x.nwb"), is_remote("local.nwb")
(True, False)
>>> RemoteOptions.make({"timeout": 5, "retries": 1})
RemoteOptions(cache_dir=None, timeout=5.0, retries=1, dandi_api=None)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from dopafit.errors import ConfigError, RemoteError

__all__ = [
    "RemoteOptions",
    "RemotePath",
    "is_remote",
    "open_remote",
    "resolve_url",
    "fingerprint",
]

SCHEMES = ("http://", "https://", "dandi://")
DANDI_API_ENV = "DOPAFIT_DANDI_API"
TIMEOUT_ENV = "DOPAFIT_HTTP_TIMEOUT"
RETRIES_ENV = "DOPAFIT_HTTP_RETRIES"
_BACKOFF = 0.2  # seconds before the first retry, doubled per retry, at most 2 s


def is_remote(path) -> bool:
    """Whether ``path`` is an ``http(s)://`` URL or a ``dandi://`` asset identifier.

    Parameters
    ----------
    path : object
        Anything given where a file is expected.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_remote("https://example.org/a.nwb"), is_remote("data_samples")
    (True, False)
    """
    return isinstance(path, str) and path.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class RemoteOptions:
    """How remote NWB files are read: cache, timeout, retries and the DANDI API.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Keep the fetched byte ranges in this folder, so that loading the same remote file
        again (another session of a batch, the same notebook tomorrow) reads them from disk.
        Entries are keyed by the URL and the server's validator (ETag, else size and
        Last-Modified), so a changed file is fetched anew; writes are atomic.
    timeout : float, default 30 (or ``$DOPAFIT_HTTP_TIMEOUT``)
        Seconds to wait for the server to connect or to send more bytes.
    retries : int, default 3 (or ``$DOPAFIT_HTTP_RETRIES``)
        Retries of a failed request (timeout, dropped connection, HTTP 5xx or 429), with a
        back-off of 0.2 s doubled each time (at most 2 s); a 4xx answer is not retried.
    dandi_api : str, optional
        DANDI API URL for ``dandi://`` identifiers (default ``$DOPAFIT_DANDI_API``, else the
        ``dandi`` client's default instance, the DANDI Archive).

    Examples
    --------
    >>> RemoteOptions(cache_dir="cache", timeout=10).retries
    3
    >>> RemoteOptions(timeout=0)
    Traceback (most recent call last):
    ...
    dopafit.errors.ConfigError: expected remote timeout as a number of seconds > 0; found 0.
    """

    cache_dir: str | os.PathLike | None = None
    timeout: float = field(default_factory=lambda: os.environ.get(TIMEOUT_ENV, 30.0))
    retries: int = field(default_factory=lambda: os.environ.get(RETRIES_ENV, 3))
    dandi_api: str | None = None

    def __post_init__(self):
        timeout, retries = self.timeout, self.retries
        try:
            ok = float(timeout) > 0 and not isinstance(timeout, bool)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ConfigError("remote timeout as a number of seconds > 0", found=repr(timeout))
        timeout = float(timeout)
        try:
            retries_ok = float(retries).is_integer() and int(float(retries)) >= 0
        except (TypeError, ValueError):
            retries_ok = False
        if not retries_ok or isinstance(retries, bool):
            raise ConfigError("remote retries as an integer >= 0", found=repr(retries))
        object.__setattr__(self, "timeout", timeout)
        object.__setattr__(self, "retries", int(float(retries)))
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", str(Path(self.cache_dir).expanduser()))

    @classmethod
    def make(cls, value: RemoteOptions | Mapping | None) -> RemoteOptions:
        """Options from None (defaults), a mapping of field names, or options.

        Parameters
        ----------
        value : RemoteOptions, dict or None

        Returns
        -------
        RemoteOptions

        Raises
        ------
        ConfigError
            An unknown key or a bad value.

        Examples
        --------
        >>> RemoteOptions.make(None).timeout > 0
        True
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            from dopafit.errors import unknown_name

            known = [f.name for f in fields(cls)]
            for key in value:
                if key not in known:
                    raise unknown_name(str(key), known, "remote options")
            return cls(**value)
        raise ConfigError("remote options as a dict or RemoteOptions", found=repr(value))


class RemotePath(str):
    """A remote file: its URL, shown without credentials or query string, with the
    ``name`` and ``stem`` of its last path segment (as :class:`pathlib.Path` has).

    Parameters
    ----------
    url : str
        ``http(s)://…`` or ``dandi://DANDISET/VERSION/path.nwb``.
    options : RemoteOptions or dict, optional
        How to read it.

    Examples
    --------
    >>> p = RemotePath("dandi://000006/draft/sub-anm369963/sub-anm369963_ses-20170228.nwb")
    >>> p.name, p.dandi
    ('sub-anm369963_ses-20170228.nwb', ('000006', 'draft', 'sub-anm369963/sub-anm369963_ses-20170228.nwb'))
    """

    url: str
    options: RemoteOptions

    def __new__(cls, url: str, options: RemoteOptions | Mapping | None = None):
        url = str(getattr(url, "url", url))
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
        self = super().__new__(cls, shown)
        self.url = url
        self.options = RemoteOptions.make(options)
        return self

    def __reduce__(self):  # picklable across worker processes
        return (RemotePath, (self.url, self.options))

    @property
    def name(self) -> str:
        """The last segment of the URL's path (decoded)."""
        return unquote(urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1])

    @property
    def stem(self) -> str:
        """:attr:`name` without its suffix."""
        name = self.name
        return name.rsplit(".", 1)[0] if "." in name.strip(".") else name

    @property
    def dandi(self) -> tuple[str, str, str] | None:
        """``(dandiset, version, asset path)`` of a ``dandi://`` identifier, else None."""
        if not self.url.lower().startswith("dandi://"):
            return None
        rest = self.url[len("dandi://") :].strip("/")
        parts = rest.split("/", 2)
        if len(parts) < 3 or not all(parts):
            raise ConfigError(
                "a DANDI asset identifier dandi://DANDISET/VERSION/path.nwb",
                found=repr(self.url),
                remedy="e.g. dandi://000006/draft/sub-anm369963/sub-anm369963_ses-20170228.nwb",
            )
        return parts[0], parts[1], unquote(parts[2])


# ----------------------------------------------------------------------------- resolving
_RESOLVED: dict[tuple[str, str | None], str] = {}


def resolve_url(path: RemotePath | str, options: RemoteOptions | Mapping | None = None) -> str:
    """The HTTP(S) URL to read: the URL itself, or a DANDI asset's content URL.

    Parameters
    ----------
    path : RemotePath or str
        ``http(s)://`` URL or ``dandi://DANDISET/VERSION/path.nwb``.
    options : RemoteOptions or dict, optional
        ``dandi_api`` chooses the DANDI API (else ``$DOPAFIT_DANDI_API``, else the ``dandi``
        client's default).

    Returns
    -------
    str

    Raises
    ------
    RemoteError
        The asset, version or Dandiset does not exist, or the API cannot be reached.
    ConfigError
        The ``dandi`` client is not installed.

    Examples
    --------
    >>> resolve_url("https://example.org/a.nwb")
    'https://example.org/a.nwb'
    """
    path = path if isinstance(path, RemotePath) else RemotePath(path, options)
    options = RemoteOptions.make(options) if options is not None else path.options
    ident = path.dandi
    if ident is None:
        return path.url
    api = options.dandi_api or os.environ.get(DANDI_API_ENV) or None
    key = (path.url, api)
    if key not in _RESOLVED:
        _RESOLVED[key] = _resolve_dandi(path, ident, api)
    return _RESOLVED[key]


def _resolve_dandi(path: RemotePath, ident: tuple[str, str, str], api: str | None) -> str:
    """The content URL of a DANDI asset, as the ``dandi`` client documents for streaming."""
    try:
        os.environ.setdefault("DANDI_NO_ET", "1")  # no version check over the network
        from dandi.dandiapi import DandiAPIClient
    except ImportError:
        raise ConfigError(
            "the dandi client to resolve dandi:// identifiers",
            found="it is not installed",
            remedy='pip install "dopafit[dandi]", or pass the asset\'s https:// URL',
            file=path,
        ) from None
    dandiset, version, asset_path = ident
    try:
        with DandiAPIClient(api_url=api) as client:
            asset = client.get_dandiset(dandiset, version).get_asset_by_path(asset_path)
            return asset.get_content_url(follow_redirects=1, strip_query=True)
    except Exception as exc:  # the client raises its own, requests' and RuntimeError
        raise RemoteError(
            f"DANDI asset {asset_path!r} in Dandiset {dandiset} version {version}",
            found=f"{type(exc).__name__}: {exc}",
            remedy="check the identifier (dandi ls), the version, and the API "
            f"({api or 'the dandi default'}; set ${DANDI_API_ENV} for another)",
            file=path,
        ) from None


# ----------------------------------------------------------------------------- HTTP
class _GiveUp(BaseException):
    """Carries a RemoteError through remfile, whose own loop retries any Exception."""

    def __init__(self, error: RemoteError):
        super().__init__(str(error))
        self.error = error


def _session(path: RemotePath, options: RemoteOptions):
    """A requests session with timeouts, bounded retries and a byte counter."""
    import requests

    class Session(requests.Session):
        bytes_fetched = 0
        n_requests = 0

        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", options.timeout)
            kwargs.pop("stream", None)
            wanted = _range_length(kwargs.get("headers") or {})
            problem = "no answer"
            for attempt in range(options.retries + 1):
                if attempt:
                    time.sleep(min(_BACKOFF * 2 ** (attempt - 1), 2.0))
                self.n_requests += 1
                try:
                    response = super().request(method, url, *args, stream=True, **kwargs)
                    status = response.status_code
                    if status == 429 or status >= 500:
                        problem = f"HTTP {status} {response.reason}"
                        response.close()
                        continue
                    if status >= 400:
                        response.close()
                        raise _GiveUp(_http_error(path, status, response.reason))
                    if wanted is not None and status != 206:
                        response.close()
                        raise _GiveUp(_no_ranges(path, status))
                    content = response.content  # read under the timeout
                    self.bytes_fetched += len(content)
                    if wanted is not None and len(content) != wanted and method != "HEAD":
                        problem = f"{len(content)} of {wanted} bytes (the connection dropped)"
                        continue
                    return response
                except requests.RequestException as exc:
                    problem = _failure(exc, options.timeout)
            raise _GiveUp(
                RemoteError(
                    "the server to answer each range request in full",
                    found=f"{problem} after {options.retries + 1} attempt(s)",
                    remedy="try again later, raise RemoteOptions(timeout=, retries=) or "
                    f"${TIMEOUT_ENV}/${RETRIES_ENV}, or download the file and load it locally",
                    file=path,
                )
            )

    session = Session()
    return session


def _failure(exc, timeout: float) -> str:
    """What a failed request met: a stalled server or a dropped connection."""
    import requests

    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return f"a server that sent nothing for {timeout:g} s (timeout)"
    if "refused" in str(exc).lower():
        return "no server at this address (connection refused)"
    return f"a dropped connection ({type(exc).__name__})"


def _range_length(headers: Mapping) -> int | None:
    text = headers.get("Range") or headers.get("range")
    if not text or not text.startswith("bytes="):
        return None
    first, _, last = text[len("bytes=") :].partition("-")
    try:
        return int(last) - int(first) + 1
    except ValueError:
        return None


def _http_error(path, status: int, reason: str) -> RemoteError:
    remedy = (
        "check the URL (is the file still there, is the link expired?)"
        if status in (403, 404, 410)
        else "check the URL and your access to it"
    )
    return RemoteError(
        "a readable remote NWB file", found=f"HTTP {status} {reason}", remedy=remedy, file=path
    )


def _no_ranges(path, status: int) -> RemoteError:
    return RemoteError(
        "a server that answers HTTP range requests (status 206)",
        found=f"status {status} (the server ignores ranges and would send the whole file)",
        remedy="download the file and load it locally",
        file=path,
    )


@dataclass
class _Probe:
    url: str
    size: int
    validator: str


def _probe(path: RemotePath, session) -> _Probe:
    """Size and validator (ETag or Last-Modified) of the file, with one 1-byte range read."""
    url = resolve_url(path)
    try:
        response = session.get(url, headers={"Range": "bytes=0-0"})
    except _GiveUp as stop:
        raise stop.error from None
    total = response.headers.get("Content-Range", "").rpartition("/")[2]
    if not total.isdigit():
        raise RemoteError(
            "a Content-Range header with the file size",
            found=repr(response.headers.get("Content-Range")),
            remedy="download the file and load it locally",
            file=path,
        )
    validator = response.headers.get("ETag") or response.headers.get("Last-Modified") or ""
    return _Probe(url=response.url or url, size=int(total), validator=f"{total}|{validator}")


class _DiskCache:
    """remfile's disk-cache interface (get/set) keyed by the file's validator, atomic writes."""

    def __init__(self, folder: str, validator: str):
        self.folder = Path(folder)
        self.validator = validator

    def _file(self, key: str) -> Path:
        digest = hashlib.sha256(f"{self.validator}|{key}".encode()).hexdigest()
        return self.folder / digest[:2] / digest

    def get(self, key: str) -> bytes | None:
        try:
            return self._file(key).read_bytes()
        except OSError:
            return None

    def set(self, key: str, value: bytes) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(value)
            os.replace(tmp, target)
        except OSError:  # a full or read-only cache never fails a load
            pass


class RemoteFile:
    """A read-only file object over HTTP range requests (what h5py reads from).

    Attributes
    ----------
    bytes_fetched : int
        Bytes received from the server so far (cache hits excluded).
    size : int
        File size in bytes.
    """

    def __init__(self, path: RemotePath, options: RemoteOptions):
        try:
            import remfile
        except ImportError:
            raise ConfigError(
                "remfile to read remote NWB files",
                found="it is not installed",
                remedy='pip install "dopafit[remote]"',
                file=path,
            ) from None
        self.path = path
        self._session = _session(path, options)
        probe = _probe(path, self._session)
        self.size = probe.size
        cache = _DiskCache(options.cache_dir, probe.validator) if options.cache_dir else None
        self._file = remfile.File(probe.url, _size=probe.size, disk_cache=cache)
        self._file.session = self._session
        self.validator = probe.validator
        self.error: RemoteError | None = None

    @property
    def bytes_fetched(self) -> int:
        return self._session.bytes_fetched

    def read(self, size=-1) -> bytes:
        if self.error is not None:
            raise self.error
        if size is None or size < 0:
            size = self.size - self._file.tell()
        size = max(0, min(size, self.size - self._file.tell()))
        if size == 0:
            return b""
        try:
            return self._file.read(size)
        except _GiveUp as stop:
            self.error = stop.error
            _close_hdf5_at_exit()
            raise stop.error from None

    def seek(self, offset: int, whence: int = 0) -> int:
        self._file.seek(offset, whence)
        return self._file.tell()

    def tell(self) -> int:
        return self._file.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._session.close()


_HDF5_CLOSE_REGISTERED = False


def _close_hdf5_at_exit() -> None:
    """Close the HDF5 library before Python shuts down, once a remote read has failed.

    A read error inside HDF5 leaves its file open internally (without an id that h5py could
    close); HDF5's own shutdown, after Python's, then calls back into the freed file object
    and crashes the interpreter. ``H5close`` at exit, while Python still runs, closes it.
    """
    global _HDF5_CLOSE_REGISTERED
    if _HDF5_CLOSE_REGISTERED:
        return
    import atexit
    import ctypes

    import h5py.defs

    def close() -> None:
        try:
            ctypes.CDLL(h5py.defs.__file__).H5close()
        except (OSError, AttributeError):  # pragma: no cover - the symbol is always there
            pass

    atexit.register(close)
    _HDF5_CLOSE_REGISTERED = True


def open_remote(path: RemotePath | str, options: RemoteOptions | Mapping | None = None):
    """Open a remote file for h5py: ``h5py.File(open_remote(url), "r")``.

    Parameters
    ----------
    path : RemotePath or str
        ``http(s)://`` URL or ``dandi://DANDISET/VERSION/path.nwb``.
    options : RemoteOptions or dict, optional
        Cache folder, timeout, retries, DANDI API (default: those of ``path``).

    Returns
    -------
    RemoteFile
        A file object with ``read``/``seek``/``tell`` and ``bytes_fetched``.

    Raises
    ------
    RemoteError
        HTTP 4xx, no range support, or the server failing (timeouts, dropped connections)
        after the retries.

    Examples
    --------
    >>> open_remote("http://127.0.0.1:9/missing.nwb", {"retries": 0, "timeout": 1})
    Traceback (most recent call last):
    ...
    dopafit.errors.RemoteError: http://127.0.0.1:9/missing.nwb: expected the server to answer each range request in full; found no server at this address (connection refused) after 1 attempt(s)...
    """
    path = path if isinstance(path, RemotePath) else RemotePath(path, options)
    options = RemoteOptions.make(options) if options is not None else path.options
    return RemoteFile(path, options)


def fingerprint(path: RemotePath | str, options: RemoteOptions | Mapping | None = None) -> str:
    """SHA-256 of a remote file's identity (URL, size and ETag or Last-Modified).

    What ``dopafit fit`` records as a remote input's hash to decide whether an output is up to
    date, without downloading the file.

    Parameters
    ----------
    path : RemotePath or str
    options : RemoteOptions or dict, optional

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> fingerprint("http://127.0.0.1:9/x.nwb", {"retries": 0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dopafit.errors.RemoteError: ...
    """
    handle = open_remote(path, options)
    try:
        text = f"{handle.path}|{handle.validator}"  # without query: signed URLs change
    finally:
        handle.close()
    return hashlib.sha256(text.encode()).hexdigest()
