"""The data plane: bulk GET, PUT and COPY of small objects through obstore (Rust's ``object_store``).

The only module that imports obstore.  boto3 stays the control plane (listings, metadata, deletes,
multipart transfers, copies between two endpoints); the plane takes the many small requests of a
bulk transfer, where botocore's CPU per request (2 to 4 ms of Python) is the cost that decides.
obstore signs and sends in Rust, off the interpreter lock and on every core; one asyncio loop on
its own thread drives it, and the transfer engine holds ``concurrent.futures`` handles.

Every guarantee of the control plane holds:

* one configuration: each :class:`~tfm_jupyter.s3.client.S3Client` (endpoint, region, profile,
  anonymous) has its plane, with the same boto3 session's credentials (obstore's boto3 provider);
* the meter counts every attempt on the same client (``note_request``), and the client's throttling
  window gives each attempt its slot: a SlowDown halves what is in flight for boto3 and the plane;
* retries are ours (obstore's are off, so every attempt is counted): 5xx, throttling and broken
  connections, ``max_attempts`` in all, with exponential back-off;
* nothing partial: a download is written to a temporary name beside the target and renamed once
  whole, and removed on failure or cancel; an upload is one PutObject (atomic);
* errors are ours (:mod:`tfm_jupyter.errors`), naming the location and the operation.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from .. import errors
from .throttle import THROTTLING_CODES

__all__ = ["LIMITS", "Plane", "available", "cancel", "plain_key", "plane_for", "run", "shutdown"]

# What the plane takes, by size: one request per file.  Above, boto3's managed transfers: multipart
# uploads, downloads in parallel ranged parts (a 5 GiB file is not one stream), UploadPartCopy.
LIMITS = {"upload": 8 * 2**20, "download": 64 * 2**20, "copy": 5 * 2**30}


def available() -> bool:
    """Whether obstore can be imported here."""
    try:
        import obstore  # noqa: F401
    except ImportError:
        return False
    return True


# -- one asyncio loop on its own thread ----------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_loop_lock = threading.Lock()


def _running_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=loop.run_forever, name="tfm-plane", daemon=True)
            _thread.start()
            if _loop is None:
                atexit.register(shutdown)
            _loop = loop
        return _loop


def shutdown() -> None:
    """Stop the loop and drop every obstore store while the interpreter is whole (at exit: Rust's
    runtime must not call into a Python that is being finalised)."""
    global _loop
    with _loop_lock:
        loop, thread, _loop = _loop, _thread, None
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        if not loop.is_running():
            loop.close()
    with _planes_lock:
        _planes.clear()


def run(coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
    """Run ``coroutine`` on the plane's loop.  The future completes only when the task has finished,
    its cleanup included; :func:`cancel` stops the task."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    loop = _running_loop()

    def start() -> None:
        task = loop.create_task(coroutine)
        future.task = task  # type: ignore[attr-defined]

        def finished(done: asyncio.Task[Any]) -> None:
            if done.cancelled():
                future.set_exception(errors.Cancelled("cancelled in flight: the file landed whole or not at all"))
            elif done.exception() is not None:
                future.set_exception(done.exception())
            else:
                future.set_result(done.result())

        task.add_done_callback(finished)

    loop.call_soon_threadsafe(start)
    return future


def cancel(future: concurrent.futures.Future[Any]) -> None:
    """Stop the task behind a :func:`run` future (it still completes, once its cleanup ran)."""
    def stop() -> None:
        task = getattr(future, "task", None)
        if task is not None:
            task.cancel()

    _running_loop().call_soon_threadsafe(stop)


# -- the plane of one client ------------------------------------------------------------------------------


class Plane:
    """obstore stores (one per bucket) for one S3 client, and the three bulk operations."""

    def __init__(self, client: Any):
        self.client = client
        self._stores: dict[str, Any] = {}
        self._lock = threading.Lock()

    def store(self, bucket: str) -> Any:
        with self._lock:
            if bucket not in self._stores:
                self._stores[bucket] = self._new_store(bucket)
            return self._stores[bucket]

    def _new_store(self, bucket: str) -> Any:
        from obstore.store import S3Store

        client, settings = self.client, self.client.settings
        boto = client.boto  # resolves endpoint, region and the credential chain like every request
        endpoint = boto.meta.endpoint_url
        config: dict[str, Any] = {"region": boto.meta.region_name or "us-east-1",
                                  "virtual_hosted_style_request": settings.addressing_style == "virtual"}
        if settings.endpoint_url or "amazonaws.com" not in endpoint:
            config["endpoint"] = endpoint
        options = {"allow_http": endpoint.startswith("http://"), "connect_timeout": f"{settings.connect_timeout}s",
                   "timeout": f"{settings.read_timeout}s", "pool_max_idle_per_host": str(settings.pool_size)}
        if settings.anonymous:
            return S3Store(bucket, skip_signature=True, client_options=options, retry_config={"max_retries": 0},
                           **config)
        if client.session.get_credentials() is None:  # else obstore's own ValueError, which says nothing useful
            from .errormap import CREDENTIALS_HELP

            raise errors.CredentialsMissing(CREDENTIALS_HELP, f"s3://{bucket}", "GetObject/PutObject")
        from obstore.auth.boto3 import Boto3CredentialProvider

        return S3Store(bucket, credential_provider=Boto3CredentialProvider(client.session),
                       client_options=options, retry_config={"max_retries": 0}, **config)

    # -- the operations (coroutines on the plane's loop) -------------------------------------------------

    async def download(self, bucket: str, key: str, filename: str, etag: str | None,
                       on_progress: Callable[[int], None], stopped: Callable[[], bool] = lambda: False) -> None:
        """GetObject into ``filename``: streamed to a temporary name beside it, renamed once whole (a body
        cut short is fetched again, from the start, within the attempts).  Once ``stopped()`` (a cancel)
        the body is abandoned and the temporary file removed: a cancelled download never lands."""
        import obstore

        store, options = self.store(bucket), ({"if_match": etag} if etag else {})
        directory, name = os.path.split(filename)

        async def attempt() -> tuple[str, int]:
            temp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.part")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask decides, as for any file
            try:
                with os.fdopen(fd, "wb") as out:
                    result = await obstore.get_async(store, key, options=options)
                    written = 0
                    async for chunk in result.stream(min_chunk_size=2**20):
                        if stopped():
                            raise errors.Cancelled("download cancelled: no partial file was left behind")
                        out.write(chunk)
                        written += len(chunk)
                if stopped():
                    raise errors.Cancelled("download cancelled: no partial file was left behind")
                return temp, written
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise

        temp, written = await self._attempts("GetObject", bucket, key, attempt)
        try:
            os.replace(temp, filename)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        on_progress(written)

    async def upload(self, filename: str, bucket: str, key: str, content_type: str | None,
                     on_progress: Callable[[int], None]) -> None:
        """One PutObject of a local file (read whole: these are small)."""
        import obstore

        with open(filename, "rb") as source:
            data = source.read()
        store = self.store(bucket)
        attributes = {"Content-Type": content_type} if content_type else None

        async def attempt() -> Any:
            return await obstore.put_async(store, key, data, attributes=attributes, use_multipart=False)

        await self._attempts("PutObject", bucket, key, attempt)
        on_progress(len(data))

    async def copy(self, bucket: str, source_key: str, key: str, size: int, on_progress: Callable[[int], None]
                   ) -> None:
        """One server-side CopyObject within ``bucket``."""
        import obstore

        store = self.store(bucket)

        async def attempt() -> None:
            await obstore.copy_async(store, source_key, key)

        await self._attempts("CopyObject", bucket, key, attempt)
        on_progress(size)

    # -- attempts: the window's slot, the meter, retries, our errors --------------------------------------

    async def _attempts(self, operation: str, bucket: str, key: str, attempt: Callable[[], Awaitable[Any]]) -> Any:
        client, location = self.client, f"s3://{bucket}/{key}"
        for number in range(1, client.settings.max_attempts + 1):
            taken_in = client.window.try_acquire()
            if taken_in is None:  # throttled: wait for a slot off the loop, as botocore's threads do
                taken_in = await asyncio.get_running_loop().run_in_executor(None, client.window.acquire)
            started = time.perf_counter()
            try:
                result = await attempt()
            except Exception as exc:
                kind = _kind_of(exc)
                client.window.release(taken_in, kind == "throttled")
                client.note_request(operation, location, type(exc).__name__, started, number)
                if isinstance(exc, errors.Cancelled):
                    raise
                if kind in ("throttled", "transient") and number < client.settings.max_attempts:
                    await asyncio.sleep(min(20.0, random.uniform(0, 0.1 * 2 ** number)))
                    continue
                raise _translated(exc, kind, operation, location, client) from None
            client.window.release(taken_in, False)
            client.note_request(operation, location, 200, started, number)
            return result
        raise AssertionError("unreachable")


_planes: dict[int, Plane] = {}
_planes_lock = threading.Lock()


def plane_for(client: Any) -> Plane:
    """The plane of an :class:`~tfm_jupyter.s3.client.S3Client` (made on first use)."""
    with _planes_lock:
        plane = _planes.get(id(client))
        if plane is None or plane.client is not client:
            plane = _planes[id(client)] = Plane(client)
        return plane


# -- what went wrong ------------------------------------------------------------------------------------


_STATUS = re.compile(r"status code: (\d{3})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KIND_BY_STATUS = {404: "missing", 412: "changed", 401: "denied", 403: "denied", 429: "throttled",
                   503: "throttled", 500: "transient", 502: "transient", 504: "transient"}


def plain_key(key: str) -> bool:
    """Whether obstore can address ``key`` as it is: it normalises paths, so a key with an empty, ``.``
    or ``..`` component, or ending in ``/`` (a marker), stays with boto3, which takes keys verbatim; so
    does a key holding an ASCII control character (a newline, a tab), which obstore refuses to parse."""
    return (bool(key) and all(part and part not in (".", "..") for part in key.split("/"))
            and not _CONTROL.search(key))


def _kind_of(exc: BaseException) -> str:
    """``throttled``, ``transient`` (retry), ``missing``, ``denied``, ``changed`` or ``failed``."""
    from obstore import exceptions as oe

    text = str(exc)
    status = _STATUS.search(text)
    if status and int(status.group(1)) in _KIND_BY_STATUS:
        return _KIND_BY_STATUS[int(status.group(1))]
    if any(code in text for code in THROTTLING_CODES):
        return "throttled"
    if isinstance(exc, oe.NotFoundError):
        return "missing"
    if isinstance(exc, oe.PreconditionError):
        return "changed"
    if isinstance(exc, (oe.PermissionDeniedError, oe.UnauthenticatedError)):
        return "denied"
    if isinstance(exc, oe.GenericError) or any(sign in text.lower() for sign in (
            "connection", "timed out", "error sending request", "body", "reset", "closed", "incomplete")):
        return "transient"  # the network, a body cut short: worth another attempt
    return "failed"


def _translated(exc: BaseException, kind: str, operation: str, location: str, client: Any) -> OSError:
    detail = " ".join(str(exc).split())[:300]
    if kind == "missing":
        return errors.NotFound(f"No such key ({operation})", location, operation)
    if kind == "changed":
        return errors.ObjectChanged("the object was replaced while it was being copied; copy it again",
                                    location, operation)
    if kind == "denied":
        return errors.AccessDenied(f"{operation} was refused for these credentials ({client.settings.label}): "
                                   f"{detail}", location, operation)
    if kind in ("throttled", "transient"):
        return errors.ServiceError(f"{operation} kept failing after {client.settings.max_attempts} attempts: "
                                   f"{detail}", location, operation)
    return errors.StorageError(f"{operation} failed: {detail}", location, operation)
