"""Google Cloud Storage as a backend: ``gs://bucket/key``.

Built on the official client (google-cloud-storage).  Zero configuration where Google has a
convention: Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth
application-default login``, the metadata server), and ``STORAGE_EMULATOR_HOST`` for an emulator (as
google-cloud-storage and gcsfs honour it).  Explicit: ``configure_storage("gs://", endpoint_url=...,
token="anon" | "path/to/credentials.json", project=...)``.

What GCS does best is used: listings with a delimiter (1,000 names a request), resumable uploads of
big files (8 MiB chunks), ranged reads, server-side rewrite within the project, V4 signed URLs
behind ``presign()`` (with service-account credentials).  Folders are prefixes; ``mkdir`` writes an
empty marker object ``dir/``.  ``gs://`` lists the project's buckets; ``gs://bucket/`` is a bucket.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, BinaryIO

from .. import config, errors
from ..entries import DIRECTORY, Listing, ListingBuilder, ObjectInfo, Survey, Tree, survey_from_objects, tree_below
from ..uri import guess_content_type
from .base import Backend
from .batch import FileJob, Progress
from .ranged import RangedReader
from .writers import SpooledWriter

__all__ = ["GCSBackend"]

CHUNK = 8 * 2**20
PRICE_PER_1000 = {"A": 0.005, "B": 0.0004}  # Standard storage: class A (writes, lists), class B (reads)


class GCSBackend(Backend):
    """Objects of Google Cloud Storage (or its emulator)."""

    label = "GCS"
    literal_names = True
    implicit_dirs = True
    concurrency = 16

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        config.on_change(lambda scheme: self._forget_clients() if scheme == "gs" else None)

    # -- clients -------------------------------------------------------------------------------------

    def _forget_clients(self) -> None:
        with self._lock:
            self._clients.clear()

    def client(self, bucket: str = "") -> Any:
        options = config.options_for("gs", bucket)
        key = (tuple(sorted((name, str(value)) for name, value in options.items())),
               os.environ.get("STORAGE_EMULATOR_HOST"))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._connect(options)
            return self._clients[key]

    def _connect(self, options: dict[str, Any]) -> Any:
        import requests
        from google.cloud import storage

        # The client's background GET of each bucket's metadata only labels OpenTelemetry spans: a billed
        # request per bucket, sent at a time nobody chose.  A user who wants it sets the variable.
        os.environ.setdefault("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
        endpoint = options.get("endpoint_url") or os.environ.get("STORAGE_EMULATOR_HOST")
        token, project = options.get("token"), options.get("project")
        with mapped_errors("connect", "gs://"):
            if token == "anon" or (endpoint and token is None):
                from google.auth.credentials import AnonymousCredentials

                credentials, session = AnonymousCredentials(), requests.Session()
                project = project or "anonymous"
            else:
                credentials, found_project = _credentials(token)
                from google.auth.transport.requests import AuthorizedSession

                session, project = AuthorizedSession(credentials), project or found_project
            session.hooks["response"].append(self._count)
            client_options = {"api_endpoint": endpoint} if endpoint else None
            return storage.Client(project=project, credentials=credentials, _http=session,
                                  client_options=client_options)

    def _count(self, response: Any, *_: Any, **__: Any) -> None:
        operation = _operation_name(response.request.method, response.request.url)
        with self._lock:
            self.counts[operation] += 1

    def request_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    def request_cost(self, operation: str) -> float:
        if operation.startswith("Delete"):
            return 0.0
        kind = "A" if operation in ("Insert", "List", "Rewrite", "Compose", "CreateBucket", "ListBuckets") else "B"
        return PRICE_PER_1000[kind] / 1000

    def bucket(self, path: Any) -> Any:
        return self.client(path.authority).bucket(path.authority)

    def blob(self, path: Any) -> Any:
        return self.bucket(path).blob(_object_name(path))

    # -- what exists ----------------------------------------------------------------------------------

    def stat(self, path: Any) -> ObjectInfo | None:
        if not path.authority:
            return DIRECTORY
        try:
            with mapped_errors("stat", str(path)):
                if not path.key:
                    return DIRECTORY if self.bucket(path).exists() else None
                iterator = self.client(path.authority).list_blobs(path.authority, prefix=path.key, delimiter="/",
                                                                  max_results=100)
                page = next(iter(iterator.pages), None)
                found: ObjectInfo | None = None
                for item in page or ():
                    if item.name == path.key:
                        found = _info(item)
                if path.key + "/" in iterator.prefixes:
                    found = DIRECTORY if found is None else found.merged(DIRECTORY)
                return found
        except errors.NotFound:
            return None

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        if not path.authority:
            with mapped_errors("ListBuckets", "gs://"):
                names = [bucket.name for bucket in self.client().list_buckets()]
            yield Listing(dict.fromkeys(names, DIRECTORY), dir_exists=True)
            return
        prefix = path.dir_prefix
        with mapped_errors("List", str(path)):
            iterator = self.client(path.authority).list_blobs(path.authority, prefix=prefix or None, delimiter="/",
                                                              page_size=1000)
            for page in iterator.pages:
                builder = ListingBuilder()
                for item in page:
                    name = item.name[len(prefix):]
                    if name:
                        builder.add(name, _info(item))
                    else:
                        builder.marker = _info(item)
                for common in page.prefixes:
                    builder.add(common[len(prefix):].removesuffix("/"), DIRECTORY)
                yield builder.build(dir_exists=not prefix)

    def tree(self, path: Any) -> Tree:
        """Every folder below ``path`` from one flat listing (1,000 names a request)."""
        if not path.authority:
            raise errors.UnsupportedOperation("a recursive listing of every bucket is not supported")
        root = path.dir_prefix
        with mapped_errors("List", str(path)):
            objects = [(item.name, _info(item)) for item in
                       self.client(path.authority).list_blobs(path.authority, prefix=root or None, page_size=1000)]
        return tree_below(root, objects)

    def survey(self, path: Any, *, stream: bool = False) -> Survey:
        if not path.authority or not path.key:
            return super().survey(path, stream=stream)
        with mapped_errors("List", str(path)):
            iterator = self.client(path.authority).list_blobs(path.authority, prefix=path.key, page_size=1000)
            first = [(item.name, _info(item)) for item in next(iterator.pages, ())]
        if iterator.next_page_token is None:  # one page held the object and everything below it
            return survey_from_objects(path.key, first)
        tree = self.tree(path)
        return Survey(DIRECTORY, iter([tree])) if tree[()].exists else Survey(self.stat(path))

    # -- reading ----------------------------------------------------------------------------------------

    def open_read(self, path: Any) -> BinaryIO:
        blob = self.bucket(path).get_blob(_object_name(path)) if path.key else None
        if blob is None:
            if (self.stat(path) or ObjectInfo(False, False)).is_dir:
                raise errors.IsADirectory("Is a directory", str(path), "open")
            raise errors.NotFound("No such file or directory", str(path), "open")

        def fetch(start: int, end: int) -> bytes:
            with mapped_errors("Get", str(path)):
                return blob.download_as_bytes(start=start, end=end, checksum=None)

        return io.BufferedReader(RangedReader(fetch, blob.size or 0, str(path)))  # type: ignore[return-value]

    def read_bytes(self, path: Any) -> bytes:
        try:
            with mapped_errors("Get", str(path)):
                return self.blob(path).download_as_bytes()
        except errors.NotFound:
            if (self.stat(path) or ObjectInfo(False, False)).is_dir:
                raise errors.IsADirectory("Is a directory", str(path), "read") from None
            raise

    def read_range(self, path: Any, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        with mapped_errors("Get", str(path)):
            return self.blob(path).download_as_bytes(start=start, end=end - 1, checksum=None)

    def iter_bytes(self, path: Any, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return
        with mapped_errors("Get", str(path)):
            yield self.blob(path).download_as_bytes(start=start or None, end=None if end is None else end - 1,
                                                     checksum=None)

    def metadata(self, path: Any) -> dict[str, Any]:
        with mapped_errors("Get", str(path)):
            blob = self.bucket(path).get_blob(_object_name(path))
        if blob is None:
            raise errors.NotFound("No such file or directory", str(path), "info")
        info = _info(blob)
        return {"size": info.size, "mtime": info.mtime, "etag": info.etag, "storage_class": info.storage_class,
                "content_type": blob.content_type, "metadata": dict(blob.metadata or {}),
                "version_id": str(blob.generation) if blob.generation else None}

    # -- writing ----------------------------------------------------------------------------------------

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        blob, name = self.blob(path), _object_name(path)

        def commit(spool: Any, size: int) -> None:
            if size > CHUNK:
                blob.chunk_size = CHUNK  # a resumable upload, 8 MiB a request
            with mapped_errors("Insert", str(path)):
                try:
                    blob.upload_from_file(spool, size=size, content_type=guess_content_type(name),
                                          if_generation_match=0 if exclusive else None, checksum=None)
                except _precondition():
                    raise errors.AlreadyExists("File exists", str(path), "open") from None

        return SpooledWriter(str(path), commit)  # type: ignore[return-value]

    def make_dir(self, path: Any) -> None:
        with mapped_errors("mkdir", str(path)):
            if not path.authority:
                raise errors.AlreadyExists("File exists", str(path), "mkdir")
            if not path.key:
                self.client(path.authority).create_bucket(path.authority)
                return
            self.bucket(path).blob(path.dir_prefix).upload_from_string(b"")

    def make_dirs(self, path: Any) -> None:
        if path.authority and path.key:
            self.make_dir(path)

    def delete(self, path: Any) -> None:
        with mapped_errors("Delete", str(path)):
            self.blob(path).delete()

    def delete_many(self, paths: Iterable[Any]) -> dict[str, OSError]:
        failed: dict[str, OSError] = {}
        for path in paths:
            try:
                self.delete(path)
            except errors.NotFound:
                continue
            except OSError as exc:
                failed[str(path)] = exc
        return failed

    def delete_tree(self, files: Iterable[Any], directories: Iterable[Any]) -> dict[str, OSError]:
        return self.delete_many([*files, *(d.child("") for d in directories if d.key)])

    def remove_dir(self, path: Any) -> None:
        with mapped_errors("rmdir", str(path)):
            if not path.authority:
                raise errors.AccessDenied("The list of buckets cannot be removed", str(path), "rmdir")
            if not path.key:
                self.bucket(path).delete()
                return
            with contextlib.suppress(*_not_found()):
                self.bucket(path).blob(path.dir_prefix).delete()

    # -- what GCS does best -------------------------------------------------------------------------------

    def copy_within(self, job: FileJob, on_progress: Progress, stop: Any) -> None:
        """A rewrite on the server (the bytes never come here), continued until done."""
        source, target = job.source, job.target
        with mapped_errors("Rewrite", str(target)):
            destination = self.blob(target)
            token = None
            while True:
                if stop.is_set():
                    raise errors.Cancelled("copy cancelled: the target was left as it was")
                token, _, _ = destination.rewrite(self.blob(source), token=token)
                if token is None:
                    break
        on_progress(job.size)

    def presign(self, path: Any, expires: int, method: str) -> str:
        """A V4 signed URL (needs service-account credentials: ADC from a key file, or a token file)."""
        blob = self.blob(path)
        try:
            return blob.generate_signed_url(version="v4", expiration=timedelta(seconds=expires),
                                            method="GET" if method == "get" else "PUT")
        except (AttributeError, TypeError) as exc:
            raise errors.UnsupportedOperation(
                "signed URLs need service-account credentials (a JSON key: configure_storage('gs://', "
                f"token='key.json')), not these ({type(exc).__name__})") from None

    def versions(self, path: Any) -> list[dict[str, Any]]:
        """Every stored generation of the object, newest first (where the bucket keeps versions)."""
        with mapped_errors("List", str(path)):
            found = [item for item in self.client(path.authority).list_blobs(path.authority, prefix=path.key,
                                                                             versions=True)
                     if item.name == path.key]
        found.sort(key=lambda item: item.generation or 0, reverse=True)
        return [{"version_id": str(item.generation), "size": item.size or 0,
                 "mtime": item.updated.timestamp() if item.updated else None, "is_latest": index == 0}
                for index, item in enumerate(found)]


def _credentials(token: Any) -> tuple[Any, str | None]:
    import google.auth

    if isinstance(token, str):
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(
            os.path.expanduser(token), scopes=["https://www.googleapis.com/auth/devstorage.full_control"])
        return credentials, credentials.project_id
    if token is not None:
        return token, None
    try:
        return google.auth.default(scopes=["https://www.googleapis.com/auth/devstorage.full_control"])
    except google.auth.exceptions.DefaultCredentialsError:
        raise errors.CredentialsMissing(
            "no Google credentials were found: run `gcloud auth application-default login`, set "
            "GOOGLE_APPLICATION_CREDENTIALS to a key file, or call configure_storage('gs://', token='key.json' "
            "| 'anon'); an emulator is found through STORAGE_EMULATOR_HOST", "gs://", "connect") from None


def _object_name(path: Any) -> str:
    if not path.authority or not path.key:
        raise errors.IsADirectory("Is a directory", str(path), "open")
    return path.key


def _info(item: Any) -> ObjectInfo:
    updated = getattr(item, "updated", None)
    return ObjectInfo(is_file=True, is_dir=False, size=item.size or 0, mtime=updated.timestamp() if updated else None,
                      etag=getattr(item, "etag", None), storage_class=getattr(item, "storage_class", None),
                      content_type=getattr(item, "content_type", None))


def _operation_name(method: str, url: str) -> str:
    """The JSON API's request, as the meter names it: List, Get, Insert, Rewrite, Delete …"""
    path = url.split("?", 1)[0]
    if "/rewriteTo/" in path:
        return "Rewrite"
    if "/upload/" in path:
        return "Insert"
    if path.rstrip("/").endswith("/o"):
        return "List" if method == "GET" else "Insert"
    if path.rstrip("/").endswith("/b"):
        return "ListBuckets" if method == "GET" else "CreateBucket"
    if "/o/" in path:
        return {"GET": "Get", "DELETE": "Delete", "PATCH": "Patch", "PUT": "Insert"}.get(method, method)
    return {"GET": "GetBucket", "DELETE": "DeleteBucket"}.get(method, method)


def _not_found() -> tuple[type[BaseException], ...]:
    from google.api_core.exceptions import NotFound

    return (NotFound,)


def _precondition() -> tuple[type[BaseException], ...]:
    from google.api_core.exceptions import PreconditionFailed

    return (PreconditionFailed,)


@contextlib.contextmanager
def mapped_errors(operation: str, location: str) -> Iterator[None]:
    """google-api-core's and the transport's exceptions as :mod:`tfm_jupyter.errors`."""
    from google.api_core import exceptions as ge

    try:
        yield
    except errors.StorageError:
        raise
    except ge.NotFound as exc:
        if "bucket" in str(exc).lower() and "does not exist" in str(exc).lower():
            raise errors.BucketNotFound("No such bucket; create it with Path('gs://NAME/').mkdir()", location,
                                        operation) from None
        raise errors.NotFound("No such object or folder", location, operation) from None
    except (ge.Conflict, ge.PreconditionFailed):
        raise errors.AlreadyExists("File exists", location, operation) from None
    except (ge.Forbidden, ge.Unauthorized):
        raise errors.AccessDenied(
            "Google Cloud Storage refused these credentials: check `gcloud auth application-default login` or the "
            "key file (configure_storage('gs://', token=...))", location, operation) from None
    except (ge.ServiceUnavailable, ge.InternalServerError, ge.TooManyRequests) as exc:
        raise errors.ServiceError(f"GCS kept failing ({exc.code}); try again later", location, operation) from None
    except ge.GoogleAPICallError as exc:
        raise errors.StorageError(f"GCS refused {operation}: {exc.message}", location, operation) from None
    except (ConnectionError, OSError) as exc:
        if isinstance(exc, errors.StorageError):
            raise
        raise errors.EndpointUnreachable(f"cannot reach Google Cloud Storage ({type(exc).__name__}); check the "
                                         "network or STORAGE_EMULATOR_HOST", location, operation) from None
