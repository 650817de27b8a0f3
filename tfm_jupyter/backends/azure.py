"""Azure Blob Storage as a backend: ``az://container/path/blob`` (``abfs://`` is read as ``az://``).

Built on the official SDK (azure-storage-blob; azure-identity for ``DefaultAzureCredential``).  Zero
configuration where Azure has a convention: ``AZURE_STORAGE_CONNECTION_STRING``, or an account name
(``AZURE_STORAGE_ACCOUNT``) with ``DefaultAzureCredential``.  Explicit:
``configure_storage("az://", connection_string=...)`` or ``account_name=``, ``account_key=``,
``account_url=``, ``sas_token=`` (any of them per container: ``configure_storage("az://box", ...)``).

What Azure does best is used: listings with a delimiter (5,000 names a request), block uploads of
big files with parallel blocks (8 MiB each), ranged reads, server-side Copy Blob within the account,
SAS links behind ``presign()``.  Folders are prefixes, as on S3; ``mkdir`` writes an empty marker
blob ``dir/``.  ``az://`` lists the account's containers; ``az://box/`` is a container.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from .. import config, errors
from ..entries import DIRECTORY, Listing, ListingBuilder, ObjectInfo, Survey, Tree, survey_from_objects, tree_below
from ..uri import guess_content_type
from .base import Backend
from .batch import FileJob, Progress
from .ranged import RangedReader
from .writers import SpooledWriter

__all__ = ["AzureBackend"]

BLOCK = 8 * 2**20
PRICE_PER_10K = {"write": 0.065, "read": 0.005}  # Hot LRS, per 10,000 operations (write: PUT/LIST/COPY)


class AzureBackend(Backend):
    """Blobs of one storage account per configuration (``configure_storage("az://…")``)."""

    label = "Azure Blob"
    literal_names = True
    implicit_dirs = True
    concurrency = 16

    def __init__(self) -> None:
        self._services: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        config.on_change(lambda scheme: self._forget_services() if scheme == "az" else None)

    # -- clients -------------------------------------------------------------------------------------

    def _forget_services(self) -> None:
        with self._lock:
            self._services.clear()

    def service(self, container: str = "") -> Any:
        """The ``BlobServiceClient`` for ``container`` (its configuration's)."""
        options = config.options_for("az", container)
        key = tuple(sorted((name, str(value)) for name, value in options.items()))
        with self._lock:
            if key not in self._services:
                self._services[key] = self._connect(options)
            return self._services[key]

    def _connect(self, options: dict[str, Any]) -> Any:
        from azure.storage.blob import BlobServiceClient

        hooks = {"raw_response_hook": self._count, "max_single_put_size": BLOCK, "max_block_size": BLOCK}
        connection = options.get("connection_string") or (
            None if options else os.environ.get("AZURE_STORAGE_CONNECTION_STRING"))
        with mapped_errors("connect", "az://"):
            if connection:
                errors.register_secret(connection)
                service = BlobServiceClient.from_connection_string(connection, **hooks)
            else:
                account = options.get("account_name") or os.environ.get("AZURE_STORAGE_ACCOUNT")
                url = options.get("account_url") or (f"https://{account}.blob.core.windows.net" if account else None)
                if url is None:
                    raise errors.CredentialsMissing(
                        "no Azure storage account is configured: set AZURE_STORAGE_CONNECTION_STRING, or "
                        "AZURE_STORAGE_ACCOUNT (signing in with DefaultAzureCredential), or call "
                        "configure_storage('az://', connection_string=... | account_name=..., account_key=...)",
                        "az://", "connect")
                service = BlobServiceClient(url, credential=_credential(options, account), **hooks)
        return service

    def _count(self, response: Any) -> None:
        request = response.http_request
        query = request.query if hasattr(request, "query") else {}
        operation = _operation_name(request.method, query, request.url)
        with self._lock:
            self.counts[operation] += 1

    def request_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    def request_cost(self, operation: str) -> float:
        kind = "write" if operation in ("PutBlob", "PutBlock", "PutBlockList", "ListBlobs", "CopyBlob",
                                        "CreateContainer", "ListContainers") else "read"
        return 0.0 if operation.startswith("Delete") else PRICE_PER_10K[kind] / 10_000

    def container(self, path: Any) -> Any:
        return self.service(path.authority).get_container_client(path.authority)

    def blob(self, path: Any) -> Any:
        return self.service(path.authority).get_blob_client(path.authority, _blob_name(path))

    # -- what exists ---------------------------------------------------------------------------------

    def stat(self, path: Any) -> ObjectInfo | None:
        if not path.authority:
            return DIRECTORY
        try:
            return self._stat(path)
        except errors.NotFound:  # a missing container holds nothing
            return None

    def _stat(self, path: Any) -> ObjectInfo | None:
        with mapped_errors("stat", str(path)):
            if not path.key:
                try:
                    self.container(path).get_container_properties()
                except _missing():
                    return None
                return DIRECTORY
            found: ObjectInfo | None = None
            prefix = path.key + "/"
            pages = self.container(path).walk_blobs(name_starts_with=path.key, delimiter="/",
                                                    results_per_page=100).by_page()
            for item in next(iter(pages), []):
                if item.name == path.key and not _is_prefix(item):
                    found = _info(item) if found is None else _info(item).merged(found)
                elif item.name == prefix:
                    found = DIRECTORY if found is None else found.merged(DIRECTORY)
            return found

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        if not path.authority:
            with mapped_errors("ListContainers", "az://"):
                names = [item.name for item in self.service().list_containers()]
            yield Listing(dict.fromkeys(names, DIRECTORY), dir_exists=True)
            return
        prefix = path.dir_prefix
        with mapped_errors("ListBlobs", str(path)):
            pages = self.container(path).walk_blobs(name_starts_with=prefix or None, delimiter="/",
                                                     results_per_page=5000).by_page()
            for page in pages:
                builder = ListingBuilder()
                for item in page:
                    name = item.name[len(prefix):]
                    if _is_prefix(item):
                        builder.add(name.removesuffix("/"), DIRECTORY)
                    elif name:
                        builder.add(name, _info(item))
                    else:
                        builder.marker = _info(item)
                yield builder.build(dir_exists=not prefix)

    def tree(self, path: Any) -> Tree:
        """Every folder below ``path`` from one flat listing (5,000 names a request)."""
        if not path.authority:
            raise errors.UnsupportedOperation("a recursive listing of every container is not supported")
        root = path.dir_prefix
        with mapped_errors("ListBlobs", str(path)):
            objects = [(item.name, _info(item)) for item in
                       self.container(path).list_blobs(name_starts_with=root or None, results_per_page=5000)]
        return tree_below(root, objects)

    def survey(self, path: Any, *, stream: bool = False) -> Survey:
        if not path.authority or not path.key:
            return super().survey(path, stream=stream)
        with mapped_errors("ListBlobs", str(path)):
            pages = self.container(path).list_blobs(name_starts_with=path.key, results_per_page=5000).by_page()
            first = [(item.name, _info(item)) for item in next(pages, ())]
        if pages.continuation_token is None:  # one page held the blob and everything below it
            return survey_from_objects(path.key, first)
        tree = self.tree(path)
        return Survey(DIRECTORY, iter([tree])) if tree[()].exists else Survey(self.stat(path))

    # -- reading ---------------------------------------------------------------------------------------

    def open_read(self, path: Any) -> BinaryIO:
        import io

        blob = self.blob(path)
        with mapped_errors("GetBlobProperties", str(path)):
            try:
                size = blob.get_blob_properties().size
            except _missing():
                if (self.stat(path) or ObjectInfo(False, False)).is_dir:
                    raise errors.IsADirectory("Is a directory", str(path), "open") from None
                raise

        def fetch(start: int, end: int) -> bytes:
            with mapped_errors("GetBlob", str(path)):
                return blob.download_blob(offset=start, length=end - start + 1).readall()

        return io.BufferedReader(RangedReader(fetch, size, str(path)))  # type: ignore[return-value]

    def read_bytes(self, path: Any) -> bytes:
        try:
            with mapped_errors("GetBlob", str(path)):
                return self.blob(path).download_blob(max_concurrency=4).readall()
        except errors.NotFound:
            if (self.stat(path) or ObjectInfo(False, False)).is_dir:
                raise errors.IsADirectory("Is a directory", str(path), "read") from None
            raise

    def read_range(self, path: Any, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        with mapped_errors("GetBlob", str(path)):
            return self.blob(path).download_blob(offset=start, length=end - start).readall()

    def iter_bytes(self, path: Any, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with mapped_errors("GetBlob", str(path)):
            length = None if end is None else max(0, end - start)
            if length == 0:
                return
            yield from self.blob(path).download_blob(offset=start, length=length).chunks()

    def metadata(self, path: Any) -> dict[str, Any]:
        with mapped_errors("GetBlobProperties", str(path)):
            props = self.blob(path).get_blob_properties()
        info = _info(props)
        return {"size": info.size, "mtime": info.mtime, "etag": info.etag, "storage_class": info.storage_class,
                "content_type": props.content_settings.content_type, "metadata": dict(props.metadata or {}),
                "version_id": getattr(props, "version_id", None)}

    # -- writing -------------------------------------------------------------------------------------

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        from azure.storage.blob import ContentSettings

        blob, name = self.blob(path), _blob_name(path)

        def commit(spool: Any, size: int) -> None:
            with mapped_errors("PutBlob", str(path)):
                try:
                    blob.upload_blob(spool, length=size, overwrite=not exclusive, max_concurrency=4,
                                     content_settings=ContentSettings(content_type=guess_content_type(name)))
                except _exists():
                    raise errors.AlreadyExists("File exists", str(path), "open") from None

        return SpooledWriter(str(path), commit)  # type: ignore[return-value]

    def make_dir(self, path: Any) -> None:
        with mapped_errors("mkdir", str(path)):
            if not path.authority:
                raise errors.AlreadyExists("File exists", str(path), "mkdir")
            if not path.key:
                try:
                    self.container(path).create_container()
                except _exists():
                    raise errors.AlreadyExists("File exists", str(path), "mkdir") from None
                return
            self.service(path.authority).get_blob_client(path.authority, path.dir_prefix).upload_blob(
                b"", overwrite=True, metadata={"hdi_isfolder": "true"})

    def make_dirs(self, path: Any) -> None:
        if path.authority and path.key:
            self.make_dir(path)

    def delete(self, path: Any) -> None:
        with mapped_errors("DeleteBlob", str(path)):
            self.blob(path).delete_blob()

    def delete_many(self, paths: Iterable[Any]) -> dict[str, OSError]:
        failed: dict[str, OSError] = {}
        for path in paths:
            try:
                self.delete(path)
            except errors.NotFound:
                continue  # gone already: what a batch delete says too
            except OSError as exc:
                failed[str(path)] = exc
        return failed

    def delete_tree(self, files: Iterable[Any], directories: Iterable[Any]) -> dict[str, OSError]:
        return self.delete_many([*files, *(d.child("") for d in directories if d.key)])

    def remove_dir(self, path: Any) -> None:
        with mapped_errors("rmdir", str(path)):
            if not path.authority:
                raise errors.AccessDenied("The list of containers cannot be removed", str(path), "rmdir")
            if not path.key:
                self.container(path).delete_container()
                return
            with contextlib.suppress(*_missing()):
                self.service(path.authority).get_blob_client(path.authority, path.dir_prefix).delete_blob()

    # -- what Azure does best -------------------------------------------------------------------------------

    def copy_within(self, job: FileJob, on_progress: Progress, stop: Any) -> None:
        """Copy Blob on the server (the bytes never come here), waited for until it is done."""
        source, target = job.source, job.target
        same_account = self.service(source.authority).account_name == self.service(target.authority).account_name
        if not same_account:
            return super().copy_within(job, on_progress, stop)
        with mapped_errors("CopyBlob", str(target)):
            destination = self.blob(target)
            copy = destination.start_copy_from_url(self.blob(source).url)
            status = copy.get("copy_status")
            while status == "pending":
                if stop.is_set():
                    destination.abort_copy(copy["copy_id"])
                    raise errors.Cancelled("copy cancelled: the target was left as it was")
                time.sleep(0.2)  # Azure copies asynchronously: its status is polled (not a test's wait)
                status = destination.get_blob_properties().copy.status
            if status != "success":
                raise errors.ServiceError(f"Copy Blob ended {status}", str(target), "CopyBlob")
        on_progress(job.size)

    def presign(self, path: Any, expires: int, method: str) -> str:
        """A SAS link (signed with the account key, or a user delegation key when signed in)."""
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        service, name = self.service(path.authority), _blob_name(path)
        expiry = datetime.now(UTC) + timedelta(seconds=expires)
        permission = BlobSasPermissions(read=method == "get", write=method == "put", create=method == "put")
        key = getattr(service.credential, "account_key", None)
        with mapped_errors("presign", str(path)):
            if key:
                token = generate_blob_sas(service.account_name, path.authority, name, account_key=key,
                                          permission=permission, expiry=expiry)
            else:
                delegation = service.get_user_delegation_key(datetime.now(UTC), expiry)
                token = generate_blob_sas(service.account_name, path.authority, name, user_delegation_key=delegation,
                                          permission=permission, expiry=expiry)
        return f"{self.blob(path).url}?{token}"

    def versions(self, path: Any) -> list[dict[str, Any]]:
        """Every stored version of the blob, newest first (where the account keeps versions)."""
        with mapped_errors("ListBlobs", str(path)):
            found = [item for item in self.container(path).list_blobs(name_starts_with=_blob_name(path),
                                                                       include=["versions"])
                     if item.name == _blob_name(path)]
        found.sort(key=lambda item: item.last_modified, reverse=True)
        return [{"version_id": item.version_id, "size": item.size, "mtime": item.last_modified.timestamp(),
                 "is_latest": bool(getattr(item, "is_current_version", False))} for item in found]


def _credential(options: dict[str, Any], account: str | None) -> Any:
    if options.get("account_key"):
        errors.register_secret(options["account_key"])
        return {"account_name": account, "account_key": options["account_key"]}
    if options.get("sas_token"):
        errors.register_secret(options["sas_token"])
        return options["sas_token"]
    if options.get("credential") is not None:
        return options["credential"]
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _blob_name(path: Any) -> str:
    if not path.authority or not path.key:
        raise errors.IsADirectory("Is a directory", str(path), "open")
    return path.key


def _is_prefix(item: Any) -> bool:
    return type(item).__name__ == "BlobPrefix"


def _info(item: Any) -> ObjectInfo:
    modified = getattr(item, "last_modified", None)
    settings = getattr(item, "content_settings", None)
    tier = getattr(item, "blob_tier", None)
    return ObjectInfo(is_file=True, is_dir=False, size=item.size or 0,
                      mtime=modified.timestamp() if modified else None, etag=getattr(item, "etag", None),
                      storage_class=str(tier) if tier else None,
                      content_type=settings.content_type if settings else None)


def _operation_name(method: str, query: Any, url: str) -> str:
    """``GET ?comp=list`` -> ListBlobs, ``PUT ?comp=block`` -> PutBlock …: how the meter names requests."""
    comp, restype = (query or {}).get("comp"), (query or {}).get("restype")
    if comp == "list":
        return "ListContainers" if "restype=container" not in url and not restype else "ListBlobs"
    names = {("PUT", "block"): "PutBlock", ("PUT", "blocklist"): "PutBlockList", ("GET", "properties"): "GetProperties",
             ("PUT", "metadata"): "SetBlobMetadata", ("PUT", "copy"): "AbortCopyBlob",
             ("POST", "userdelegationkey"): "GetUserDelegationKey", ("POST", "batch"): "BlobBatch"}
    if (method, comp) in names:
        return names[method, comp]
    if restype == "container":
        return {"PUT": "CreateContainer", "DELETE": "DeleteContainer"}.get(method, "GetContainerProperties")
    return {"GET": "GetBlob", "HEAD": "GetBlobProperties", "PUT": "PutBlob", "DELETE": "DeleteBlob"}.get(method, method)


def _missing() -> tuple[type[BaseException], ...]:
    from azure.core.exceptions import ResourceNotFoundError

    return (ResourceNotFoundError,)


def _exists() -> tuple[type[BaseException], ...]:
    from azure.core.exceptions import ResourceExistsError

    return (ResourceExistsError,)


@contextlib.contextmanager
def mapped_errors(operation: str, location: str) -> Iterator[None]:
    """azure-core's exceptions as :mod:`tfm_jupyter.errors`, saying what to do (never a secret)."""
    from azure.core import exceptions as ae

    try:
        yield
    except errors.StorageError:
        raise
    except ae.ResourceNotFoundError as exc:
        code = getattr(exc, "error_code", None) or ""
        if "ContainerNotFound" in str(code):
            raise errors.BucketNotFound(
                "No such container; create it with Path('az://NAME/').mkdir(), or check the account "
                "(configure_storage('az://', ...))", location, operation) from None
        raise errors.NotFound("No such blob or folder", location, operation) from None
    except ae.ResourceExistsError:
        raise errors.AlreadyExists("File exists", location, operation) from None
    except ae.ClientAuthenticationError:
        raise errors.AccessDenied(
            "Azure refused the credentials: check AZURE_STORAGE_CONNECTION_STRING or the account key "
            "(configure_storage('az://', ...)), or sign in for DefaultAzureCredential", location, operation) from None
    except ae.HttpResponseError as exc:
        status = getattr(exc, "status_code", None)
        if status == 403:
            raise errors.AccessDenied("Azure refused the request for these credentials", location,
                                      operation) from None
        if status == 412:
            raise errors.ObjectChanged("the blob changed meanwhile", location, operation) from None
        if status in (500, 503):
            raise errors.ServiceError(f"Azure kept failing ({status}); try again later", location,
                                      operation) from None
        raise errors.StorageError(f"Azure refused {operation} ({status}): {exc.message}", location,
                                  operation) from None
    except ae.ServiceRequestError as exc:
        raise errors.EndpointUnreachable(f"cannot reach Azure Blob Storage ({exc.message}); check the account "
                                         "URL and the network", location, operation) from None
    except ae.AzureError as exc:
        raise errors.StorageError(f"Azure {operation} failed: {exc}", location, operation) from None
