"""Files between the laptop and any pane: uploads from the web browser (the Upload button's file
chooser, or files and folders dropped on a pane) and downloads to it (a file as it is; a folder or a
selection as one zip).

Bytes travel over the widget's comm in chunks of :data:`CHUNK` as binary buffers (JupyterLab's
websocket refuses messages over ~10 MB), one chunk in flight: the front end sends the next upload
chunk when the kernel has written the last, so memory stays bounded on both sides whatever the file's
size.  An upload is a job like a copy: one at a time, with progress and Cancel; each file goes through
the target's all-or-nothing writer (S3: multipart above 8 MiB), so a cancelled or failed upload leaves
no partial file and an existing file keeps its old content.
"""

from __future__ import annotations

import queue
import threading
import zipfile
from typing import Any

from .. import errors, names
from ..units import human_size, plural

__all__ = ["CHUNK", "Downloads", "Uploads"]

CHUNK = 4 * 2**20
WAIT = 0.2  # how often a waiting upload looks at its cancel event (and whether the view went away)


class Uploads:
    """The uploads of one browser: ``upload_start`` runs as a job, the chunks arrive on the comm."""

    def __init__(self, browser: Any):
        self.browser = browser
        self._inbox: queue.Queue[tuple[int, int, bytes, bool]] = queue.Queue()
        self._current: Any = None  # the id of the upload whose chunks are taken

    def start(self, side: str, message: dict[str, Any]) -> None:
        files = [(str(item["name"]), int(item["size"])) for item in message.get("files", [])]
        if not files:
            raise ValueError("nothing to upload")
        self.browser.jobs.start(self._run, side, message.get("id"), files)

    def chunk(self, message: dict[str, Any], buffers: Any) -> None:
        """One chunk from the front end (on the comm's thread: only queued here)."""
        if message.get("id") is None or message.get("id") != self._current:
            return  # an upload that was cancelled or refused: its late chunks are dropped
        data = bytes(buffers[0]) if buffers else b""
        self._inbox.put((int(message["index"]), int(message["offset"]), data, bool(message.get("last"))))

    def _run(self, side: str, upload_id: Any, files: list[tuple[str, int]]) -> None:
        browser = self.browser
        cwd = browser.pane(side).cwd
        if cwd.is_listing_root:
            self._refuse(upload_id)
            raise ValueError("this pane shows the bucket list: open a bucket to upload into")
        targets = []
        for name, _ in files:
            reason = names.unsafe_parts(name.split("/"))
            if reason is not None:
                self._refuse(upload_id)
                raise errors.UnsafeName(f"not uploaded: {reason}", name, "upload")
            targets.append(cwd.child(*name.split("/")))
        skip = self._skipped(upload_id, targets)
        if skip is None:
            return
        wanted = [index for index in range(len(files)) if index not in skip]
        progress = browser.jobs.progress(f"Uploading to {cwd}", sum(files[i][1] for i in wanted), len(wanted))
        self._drain()
        self._current = upload_id
        browser.send({"type": "upload_go", "id": upload_id, "skip": sorted(skip)})
        try:
            self._receive(upload_id, targets, wanted, progress)
        finally:
            self._current = None
            browser.refresh(side)
        browser.notify(f"Uploaded {plural(len(wanted), 'file')} "
                       f"({human_size(sum(files[i][1] for i in wanted))}) to {cwd}")

    def _skipped(self, upload_id: Any, targets: list[Any]) -> set[int] | None:
        """The files not to upload (the user chose to keep those that exist); None: cancelled."""
        existing = _existing(targets)
        if not existing:
            return set()
        shown = ", ".join(targets[i].name for i in existing[:5]) + (" …" if len(existing) > 5 else "")
        answer = self.browser.ask(f"{plural(len(existing), 'file')} already there", shown,
                                  ("Overwrite", "Skip", "Cancel"), default="Skip")
        if answer["button"] == "Cancel":
            self._refuse(upload_id)
            return None
        return set(existing) if answer["button"] == "Skip" else set()

    def _receive(self, upload_id: Any, targets: list[Any], wanted: list[int], progress: Any) -> None:
        writers: dict[int, Any] = {}
        finished = 0
        try:
            while finished < len(wanted):
                index, offset, data, last = self._next()
                if index not in wanted:
                    raise ValueError(f"a chunk of file {index}, which is not being uploaded")
                writer = writers.get(index)
                if writer is None:
                    writer = writers[index] = targets[index].backend.open_write(targets[index])
                if writer.tell() != offset:
                    raise ValueError(f"{targets[index].name}: a chunk at {offset:,} where {writer.tell():,} was due")
                writer.write(data)
                progress.item_bytes += len(data)
                if last:
                    writers.pop(index).close()  # commits: the file is whole
                    finished += 1
                    progress.item_files = 1
                    progress.item_done()
                progress.publish()
                self.browser.send({"type": "upload_ack", "id": upload_id, "index": index,
                                   "offset": offset + len(data)})
        except BaseException:
            for writer in writers.values():
                _discard(writer)
            self._refuse(upload_id)
            raise
        finally:
            progress.finish()

    def _next(self) -> tuple[int, int, bytes, bool]:
        cancel = self.browser.jobs.cancel_event
        while True:
            if cancel is not None and cancel.is_set():
                raise errors.Cancelled("upload cancelled: the files that had not arrived whole were not written")
            if self.browser.comm is None:
                raise errors.Cancelled("upload stopped: the browser view was closed")
            try:
                return self._inbox.get(timeout=WAIT)
            except queue.Empty:
                continue

    def _drain(self) -> None:
        while not self._inbox.empty():
            self._inbox.get_nowait()

    def _refuse(self, upload_id: Any) -> None:
        """Tell the front end to stop sending this upload."""
        self.browser.send({"type": "upload_go", "id": upload_id, "cancel": True})


def _existing(targets: list[Any]) -> list[int]:
    """Which targets are there already: one listing per folder they go to (not a request per file)."""
    by_folder: dict[str, tuple[Any, list[int]]] = {}
    for index, target in enumerate(targets):
        by_folder.setdefault(str(target.parent), (target.parent, []))[1].append(index)
    found = []
    for folder, indices in by_folder.values():
        try:
            present = {child.name for child in folder.iterdir()}
        except (FileNotFoundError, NotADirectoryError):
            continue  # a folder the upload makes
        found.extend(index for index in indices if targets[index].name in present)
    return sorted(found)


def _discard(writer: Any) -> None:
    discard = getattr(writer, "discard", None)
    if discard is not None:
        discard()


class Downloads:
    """Downloads to the laptop: the focused file (or the selection's one file) as it is, several
    items or a folder as one zip, streamed in chunks from a background thread."""

    def __init__(self, browser: Any):
        self.browser = browser
        self._ids = iter(range(1, 1 << 62))

    def start(self, side: str) -> None:
        rows = self.browser.pane(side).chosen()
        if not rows:
            raise ValueError("nothing to download: focus or select a file or folder")
        paths = [(self.browser.child(side, row.name), row.is_dir) for row in rows]
        self.browser.jobs.start(self._run, paths)

    def _run(self, paths: list[tuple[Any, bool]]) -> None:
        download_id = next(self._ids)
        cancel = self.browser.jobs.cancel_event or threading.Event()
        if len(paths) == 1 and not paths[0][1]:
            path = paths[0][0]
            size = path.stat().st_size
            sink = _ChunkSink(self.browser, download_id, path.name, cancel)
            self.browser.job = {"id": 1, "title": f"Downloading {path.name}", "bytes_total": size, "running": True}
            with path.open("rb") as source:
                while block := source.read(CHUNK):
                    sink.write(block)
            sink.finish()
            self.browser.notify(f"Downloaded {path.name} ({human_size(size)})")
            return
        name = (paths[0][0].name if len(paths) == 1 else paths[0][0].parent.name or "download") + ".zip"
        sink = _ChunkSink(self.browser, download_id, name, cancel)
        self.browser.job = {"id": 1, "title": f"Downloading {name}", "running": True}
        count, refused = 0, 0
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for path, is_dir in paths:
                members = _members(path, is_dir)
                refused += members.refused
                for member, arcname in members:
                    with member.open("rb") as source, archive.open(arcname, "w", force_zip64=True) as target:
                        while block := source.read(CHUNK):
                            target.write(block)
                    count += 1
        sink.finish()
        left_out = f"; {plural(refused, 'name')} no file system takes (such as '..') left out" if refused else ""
        self.browser.notify(f"Downloaded {name} ({plural(count, 'file')}, {human_size(sink.sent)}){left_out}")


class _Members(list):
    """(file, name in the zip) pairs, and how many names were refused."""

    refused = 0


def _members(path: Any, is_dir: bool) -> _Members:
    """(file, name in the zip) of ``path``: itself, or every file below the folder (under its name);
    names that would walk out of the archive's folder (``..``) are refused, as for any download."""
    found = _Members()
    if not is_dir:
        if names.unsafe_reason(path.name) is None:
            found.append((path, path.name))
        else:
            found.refused += 1
        return found
    for folder, _, files in path.walk():
        relative = [] if folder == path else list(folder.relative_to(path).parts)
        for name in files:
            parts = [path.name, *relative, name]  # every component checked: no "../" entry in the zip
            if names.unsafe_parts(parts) is None:
                found.append((folder.child(name), "/".join(parts)))
            else:
                found.refused += 1
    return found


class _ChunkSink:
    """A write-only, unseekable stream (zipfile writes data descriptors then) that sends what it gets
    to the front end in chunks of CHUNK."""

    def __init__(self, browser: Any, download_id: int, name: str, cancel: threading.Event):
        self.browser, self.id, self.name, self.cancel = browser, download_id, name, cancel
        self.pending = bytearray()
        self.sent = 0

    def write(self, data: bytes) -> int:
        if self.cancel.is_set():
            self.browser.send({"type": "download_chunk", "id": self.id, "name": self.name, "cancel": True})
            raise errors.Cancelled("download cancelled: the web browser keeps nothing of it")
        self.pending += data
        while len(self.pending) >= CHUNK:
            self._send(bytes(self.pending[:CHUNK]), last=False)
            del self.pending[:CHUNK]
        return len(data)

    def flush(self) -> None:
        """zipfile flushes; chunks go out when full."""

    def finish(self) -> None:
        self._send(bytes(self.pending), last=True)
        self.pending.clear()

    def _send(self, data: bytes, last: bool) -> None:
        self.browser.send({"type": "download_chunk", "id": self.id, "name": self.name, "offset": self.sent,
                           "last": last}, buffers=[data])
        self.sent += len(data)
        job = dict(self.browser.job)
        job.update(bytes_done=self.sent)
        self.browser.job = job
