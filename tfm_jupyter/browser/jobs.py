"""What the browser's keys do to storage: copy, move, delete, rename, create, preview.

Jobs run one at a time in a background thread and talk to the user through the widget's dialogs;
transfers go through :mod:`tfm_jupyter.transfer` (progress, cancel, never lose data).
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import commands, errors, transfer
from ..data.preview import JSON_EXTENSIONS, TABLE_EXTENSIONS, csv_table, json_text, parquet_table
from ..results import human_size
from ..units import plural
from .pane import Row, extension

__all__ = ["JobRunner"]

PREVIEW_BYTES = 64 * 1024
PREVIEW_LINES = 200
IMAGE_LIMIT = 2 * 2**20
TEXT_EXTENSIONS = {"txt", "csv", "tsv", "json", "jsonl", "ndjson", "geojson", "md", "py", "log", "yaml", "yml",
                   "toml", "ini", "cfg", "xml", "html", "sql", "sh", "r", "js", "ts", "ipynb", "svg", "conf", ""}
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp", "bmp": "image/bmp"}
CONFLICT_BUTTONS = ("Overwrite", "Skip", "Rename", "Cancel")
SEARCH_CAP = 10_000


class JobRunner:
    """One background job at a time (a second one is refused with a message, not queued)."""

    def __init__(self, browser: Any):
        self.browser = browser
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tfm-job")
        self._cancel: threading.Event | None = None
        self._busy = threading.Lock()
        self._searches = itertools.count(1)

    def start(self, job: Callable[..., None], *args: Any) -> None:
        if not self._busy.acquire(blocking=False):
            self.browser.notify("another operation is still running; wait for it or cancel it", "error")
            return
        self._cancel = threading.Event()
        self.browser.track(self._pool.submit(self._run, job, args))

    def _run(self, job: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.browser.job = {"id": 1, "running": True}  # busy (the view shows data-busy) until it ends
        try:
            job(*args)
        except errors.Cancelled as exc:
            self.browser.notify(str(exc), "error")
        except Exception as exc:  # shown in the widget, never a dead widget
            self.browser.notify(f"{type(exc).__name__}: {exc}", "error")
        finally:
            self._busy.release()  # free before the view hears the job ended: the next key is taken
            self.browser.job = {}

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    @property
    def cancel_event(self) -> threading.Event | None:
        """Set by the widget's Cancel button while the current job runs."""
        return self._cancel

    def progress(self, title: str, total_bytes: int, total_files: int) -> _JobProgress:
        """A progress report shown in the widget's job bar."""
        return _JobProgress(self.browser, title, total_bytes, total_files)

    # -- helpers -----------------------------------------------------------------------------------

    def _chosen(self, side: str) -> list[Row]:
        rows = self.browser.pane(side).chosen()
        if not rows:
            raise ValueError("nothing selected")
        return rows

    def _names(self, rows: list[Row]) -> str:
        shown = ", ".join(r.name + ("/" if r.is_dir else "") for r in rows[:5])
        return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")

    def _refresh(self, *sides: str, focus: str | None = None) -> None:
        for side in sides:
            pane = self.browser.pane(side)
            self.browser.navigate(side, pane.cwd, focus if focus is not None else pane.focus)

    # -- copy and move ----------------------------------------------------------------------------------

    def transfer(self, side: str, move: bool) -> None:
        browser, other = self.browser, self.browser.other(side)
        rows = self._chosen(side)
        source_pane, target_pane = browser.pane(side), browser.pane(other)
        target_dir = target_pane.cwd
        if target_dir.is_listing_root:
            raise ValueError("the other pane shows the bucket list: open a bucket there first")
        if str(target_dir) == str(source_pane.cwd):
            raise ValueError("both panes show the same folder")
        verb = "Move" if move else "Copy"
        answer = browser.ask(f"{verb} {plural(len(rows), 'item')}?", f"{self._names(rows)}\nto {target_dir}",
                             (verb, "Cancel"))
        if answer["button"] != verb:
            return
        pairs, refused = self._resolve_conflicts(other, rows)
        try:
            if pairs:
                self._run_transfer(side, other, pairs, move)
        finally:  # whatever happened, both panes show what is there now
            self._refresh(other, *((side,) if move else ()), focus=pairs[0][1].name if pairs else None)
        if refused:
            raise errors.TransferError(
                f"{plural(len(refused), 'name')} refused (nothing written for them): "
                + "; ".join(f"{name}: {error}" for name, error in list(refused.items())[:3]), refused)

    def _run_transfer(self, side: str, other: str, pairs: list[tuple[Row, Any]], move: bool) -> None:
        browser, target_dir = self.browser, self.browser.pane(other).cwd
        if move:  # renames on one storage (a local disk, SFTP): no bytes to move, nothing to show
            pairs = [(row, target) for row, target in pairs
                     if not transfer.try_rename(browser.child(side, row.name), target)]
            if not pairs:
                browser.notify("Moved by renaming")
                return
        plans = [transfer.plan_copy(browser.child(side, row.name), target, stream=True) for row, target in pairs]
        progress = _JobProgress(browser, f"{'Moving' if move else 'Copying'} {plural(len(pairs), 'item')} to "
                                f"{target_dir}", sum(p.total_bytes for p in plans), sum(len(p.files) for p in plans))
        started = time.monotonic()
        try:
            for plan in plans:
                transfer.execute(plan, move=move, progress=progress.for_item(plan), cancel=self._cancel)
                progress.item_done()
        except errors.Cancelled as exc:
            progress.item_done()
            verb = "moved" if move else "copied"
            in_flight = f"; {exc.in_flight:,} more {'was' if exc.in_flight == 1 else 'were'} in flight and may have " \
                        "arrived, whole" if exc.in_flight else ""
            raise errors.Cancelled(
                f"cancelled: {progress.base_files:,} of {plural(progress.total_files, 'file')} had been "
                f"{verb}{in_flight}; "
                + ("every source is still in place" if move else "nothing partial was left behind"),
                arrived=progress.base_files, in_flight=exc.in_flight, total=progress.total_files) from None
        progress.finish()
        browser.notify(f"{'Moved' if move else 'Copied'} {plural(len(pairs), 'item')}, "
                       f"{human_size(progress.total_bytes)} in {time.monotonic() - started:.1f} s")

    def _resolve_conflicts(self, target_side: str, rows: list[Row]
                           ) -> tuple[list[tuple[Row, Any]], dict[str, BaseException]]:
        """Each row's target through the name gate, asking Overwrite / Skip / Rename / Cancel for each
        name that exists in the target pane; returns the pairs to transfer and the refused names."""
        target_pane = self.browser.pane(target_side)
        target_dir = target_pane.cwd
        existing = {r.name for r in target_pane.rows}
        pairs, refused, remembered = [], {}, None
        for row in rows:
            try:
                target = target_dir.backend.join_below(target_dir, (row.name,))
            except errors.UnsafeName as exc:
                refused[row.name] = exc
                continue
            if row.name in existing:
                choice = remembered
                if choice is None:
                    answer = self.browser.ask(f"{row.name} already exists", f"in {target_pane.cwd}",
                                              CONFLICT_BUTTONS, kind="conflict", allow_all=True, default="Skip")
                    choice = answer["button"]
                    if answer["apply_all"]:
                        remembered = choice
                if choice == "Cancel" or choice not in CONFLICT_BUTTONS:
                    return [], refused
                if choice == "Skip":
                    continue
                if choice == "Rename":
                    target = target_dir.child(_free_name(row.name, existing))
                    existing.add(target.name)
            pairs.append((row, target))
        return pairs, refused

    # -- delete, rename, create --------------------------------------------------------------------------

    def delete(self, side: str) -> None:
        rows = self._chosen(side)
        answer = self.browser.ask(f"Delete {plural(len(rows), 'item')}?", f"{self._names(rows)}\nin "
                                  f"{self.browser.pane(side).cwd}\nFolders are deleted with everything in them.",
                                  ("Delete", "Cancel"), default="Cancel")
        if answer["button"] != "Delete":
            return
        paths = [self.browser.child(side, r.name) for r in rows]
        self.browser.job = {"id": 1, "title": f"Deleting {plural(len(rows), 'item')}", "running": False}
        neighbour = _neighbour(self.browser.pane(side), {r.name for r in rows})
        report = commands.rm(paths, recursive=True, yes=True)
        self.browser.notify(f"deleted {plural(len(report), 'object')}")
        self._refresh(side, focus=neighbour)

    def rename(self, side: str) -> None:
        row = self._chosen(side)[0]
        answer = self.browser.ask("Rename", f"new name for {row.name}", ("Rename", "Cancel"), kind="prompt",
                                  value=row.name)
        name = (answer["value"] or "").strip()
        if answer["button"] != "Rename" or not name or name == row.name:
            return
        _check_name(name, self.browser.pane(side))
        source = self.browser.child(side, row.name)
        target = self.browser.child(side, name)
        transfer.move(source, target, progress=False, cancel=self._cancel)
        self.browser.notify(f"renamed {row.name} to {name}")
        self._refresh(side, focus=name)

    def create(self, side: str, directory: bool) -> None:
        pane = self.browser.pane(side)
        if pane.cwd.is_listing_root:
            raise ValueError("cannot create files in the bucket list")
        kind = "folder" if directory else "file"
        answer = self.browser.ask(f"New {kind}", f"in {pane.cwd}", ("Create", "Cancel"), kind="prompt", value="")
        name = (answer["value"] or "").strip()
        if answer["button"] != "Create" or not name:
            return
        _check_name(name, pane)
        path = self.browser.child(side, name)
        if directory:
            path.mkdir()
        else:
            path.touch(exist_ok=False)
        self.browser.notify(f"created {kind} {name}")
        self._refresh(side, focus=name)

    # -- search (F: names, G: content) ------------------------------------------------------------------

    def search(self, side: str, kind: str, pattern: str) -> None:
        """Stream the files below the pane's folder that match, capped at SEARCH_CAP."""
        from .. import search

        root = self.browser.pane(side).cwd
        if root.is_listing_root:
            raise ValueError("open a bucket first: searching every bucket is not supported")
        if kind == "name":
            glob = pattern if any(ch in pattern for ch in "*?[") else f"*{pattern}*"
            found = search.find(root, name=glob, ignore_case=True, cancel=self._cancel, progress=False)
        else:
            found = search.find(root, contains=pattern, ignore_case=True, cancel=self._cancel, progress=False)
        search_id = next(self._searches)
        batch: list[str] = []
        count, last, more = 0, time.monotonic(), False
        for path in found:
            if count >= SEARCH_CAP:
                more = True
                break
            batch.append(_relative(path, root))
            count += 1
            if len(batch) >= 500 or time.monotonic() - last > 0.2:
                self.browser.send({"type": "results", "pane": side, "search": search_id, "items": batch,
                                   "done": False, "more": False})
                batch, last = [], time.monotonic()
        self.browser.send({"type": "results", "pane": side, "search": search_id, "items": batch, "done": True,
                           "more": more})
        self.browser.notify(f"found {plural(count, 'file')}{' (and more)' if more else ''} below {root}")

    # -- preview ------------------------------------------------------------------------------------------

    def usage(self, side: str) -> None:
        """What uses the storage below the focused folder (else the pane's), as a treemap."""
        from ..usage import usage

        pane = self.browser.pane(side)
        focused = pane.row(pane.focus) if pane.focus is not None else None
        root = self.browser.child(side, focused.name) if focused is not None and focused.is_dir else pane.cwd
        if root.is_listing_root:
            raise ValueError("usage is of a folder or a bucket: open one first")
        self.browser.job = {"id": 1, "title": f"Measuring {root}", "running": True}
        found = usage(root, inventory=self.browser.inventory_for(root))
        self.browser.preview = {"name": f"Usage of {root}", "kind": "usage", "usage": found.to_state(),
                                "meta": {"requests": found.requests}}

    def preview(self, side: str, row: Row) -> None:
        try:
            self.browser.preview = _preview(self.browser.child(side, row.name), row)
        except Exception as exc:  # a preview that fails says why, in the preview
            self.browser.preview = {"name": row.name, "kind": "meta", "meta": {"error": f"{type(exc).__name__}: {exc}"}}


def _neighbour(pane: Any, removed: set[str]) -> str | None:
    """The row to focus once ``removed`` are gone: the next one below them, else the one above."""
    names = [r.name for r in pane.visible()]
    last = max((i for i, n in enumerate(names) if n in removed), default=-1)
    after = [n for n in names[last + 1:] if n not in removed]
    before = [n for n in names[:last] if n not in removed]
    return after[0] if after else (before[-1] if before else None)


def _relative(path: Any, root: Any) -> str:
    return path.relative_to(root).as_posix()


def _check_name(name: str, pane: Any) -> None:
    if "/" in name or name in (".", ".."):
        raise ValueError(f"{name!r} is not a valid name (no '/', not '.' or '..')")
    if pane.row(name) is not None:
        raise FileExistsError(f"{name} already exists in {pane.cwd}")


def _free_name(name: str, taken: set[str]) -> str:
    dot = name.rfind(".")
    stem, suffix = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    for number in range(1, 10_000):
        candidate = f"{stem} ({number}){suffix}"
        if candidate not in taken:
            return candidate
    raise FileExistsError(f"no free name for {name}")


def _preview(path: Any, row: Row) -> dict[str, Any]:
    meta: dict[str, Any] = {"size": human_size(row.size), "modified": time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(row.mtime)) if row.mtime else ""}
    if path.backend.local_name(path) is None:  # what the storage says beyond size and time
        info = path.backend.metadata(path)
        meta.update({"content type": info.get("content_type"), "storage class": info.get("storage_class"),
                     "etag": info.get("etag")})
    meta["location"] = str(path)
    ext = extension(row.name)
    if ext in IMAGE_TYPES and (row.size or 0) <= IMAGE_LIMIT:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return {"name": row.name, "kind": "image", "image": f"data:{IMAGE_TYPES[ext]};base64,{data}", "meta": meta}
    if ext in TABLE_EXTENSIONS:
        return {"name": row.name, "kind": "table", "table": _table(path, row, ext, meta), "meta": meta}
    if ext in TEXT_EXTENSIONS or str(meta.get("content type") or "").startswith("text/"):
        data = commands.head_bytes(path, PREVIEW_BYTES)
        complete = (row.size or 0) <= len(data)
        pretty = json_text(data, complete, JSON_EXTENSIONS[ext]) if ext in JSON_EXTENSIONS else None
        lines = (pretty if pretty is not None else data.decode("utf-8", errors="replace")).splitlines()
        cut = len(lines) > PREVIEW_LINES or not complete
        shown = "\n".join(lines[:PREVIEW_LINES]) + ("\n…" if cut else "")
        return {"name": row.name, "kind": "text", "text": shown, "meta": meta,
                **({"format": "json"} if pretty is not None else {})}
    return {"name": row.name, "kind": "meta", "meta": meta}


def _table(path: Any, row: Row, ext: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A parquet file's footer facts and first rows (ranged GETs), or the head of a CSV as a table."""
    if ext == "parquet":
        with path.open("rb") as stream:
            table, facts = parquet_table(stream)
        meta.update(facts)
        return table
    head = commands.head_bytes(path, PREVIEW_BYTES)
    return csv_table(head, TABLE_EXTENSIONS[ext] or ",", complete=(row.size or 0) <= len(head))


class _JobProgress:
    """Aggregates per-item transfer progress into the widget's ``job`` trait, ~5 updates a second.

    A big S3 tree is planned as it is listed, so an item's totals may grow while it runs.
    """

    def __init__(self, browser: Any, title: str, total_bytes: int, total_files: int):
        self.browser, self.title = browser, title
        self.planned_bytes, self.planned_files = total_bytes, total_files
        self.base_bytes = self.base_files = self.grown_bytes = self.grown_files = 0
        self.item_bytes = self.item_files = self.item_grown_bytes = self.item_grown_files = 0
        self.started = self.last = time.monotonic()
        self.publish(force=True)

    @property
    def total_bytes(self) -> int:
        return self.planned_bytes + self.grown_bytes + self.item_grown_bytes

    @property
    def total_files(self) -> int:
        return self.planned_files + self.grown_files + self.item_grown_files

    def for_item(self, plan: Any = None) -> Callable[[int, int, int, int], None]:
        """A progress callback for one item; with a transfer ``plan``, totals beyond it are growth."""
        planned = (plan.total_bytes, len(plan.files)) if plan is not None else (0, 0)  # before execute() grows it

        def report(bytes_done: int, bytes_total: int, files_done: int, files_total: int) -> None:
            self.item_bytes, self.item_files = bytes_done, files_done
            if plan is not None:
                self.item_grown_bytes, self.item_grown_files = bytes_total - planned[0], files_total - planned[1]
            self.publish()

        return report

    def item_done(self) -> None:
        self.base_bytes += self.item_bytes
        self.base_files += self.item_files
        self.grown_bytes += self.item_grown_bytes
        self.grown_files += self.item_grown_files
        self.item_bytes = self.item_files = self.item_grown_bytes = self.item_grown_files = 0

    def publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.2:
            return
        self.last = now
        done = self.base_bytes + self.item_bytes
        self.browser.job = {"id": 1, "title": self.title, "bytes_done": done, "bytes_total": self.total_bytes,
                            "files_done": self.base_files + self.item_files, "files_total": self.total_files,
                            "rate": done / max(now - self.started, 1e-3), "running": True}

    def finish(self) -> None:
        self.publish(force=True)
