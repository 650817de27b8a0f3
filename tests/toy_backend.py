"""A storage backend written from the test folder alone, as a contributor would: a flat key-value store
(like an object store: folders exist only through the keys below them) implementing the seven core
methods of ``tfm_jupyter.backends.Backend`` and nothing else.  Registering it is the only step; the
conformance kit, copy, sync, find and the browser's listing must then work on it unchanged."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter

from tfm_jupyter import errors
from tfm_jupyter.backends import Backend
from tfm_jupyter.backends.writers import SpooledWriter
from tfm_jupyter.entries import DIRECTORY, Listing, ObjectInfo


class ToyBackend(Backend):
    label = "toy"
    literal_names = True  # keys are strings: '..' is a key like any other
    implicit_dirs = True

    def __init__(self):
        self.objects: dict[str, tuple[bytes, float]] = {}  # "box/dir/file" -> (data, mtime); "box/dir/" a marker
        self.lock = threading.Lock()
        self.calls: Counter = Counter()

    @staticmethod
    def key(path):
        return "/".join((path.authority, *path.parts[1:])) if path.authority else ""

    def request_counts(self):
        with self.lock:
            return Counter(self.calls)

    def _below(self, prefix):
        return [k for k in self.objects if k.startswith(prefix)]

    def stat(self, path):
        key = self.key(path)
        with self.lock:
            self.calls["stat"] += 1
            if not path.parts[1:]:
                return DIRECTORY if any(k.startswith(key + "/") for k in self.objects) or not key else None
            found = self.objects.get(key)
            is_dir = bool(self._below(key + "/"))
        if found is not None:
            info = ObjectInfo(is_file=True, is_dir=False, size=len(found[0]), mtime=found[1])
            return info.merged(DIRECTORY) if is_dir else info
        return DIRECTORY if is_dir else None

    def iter_listing_pages(self, path):
        prefix = self.key(path) + "/" if self.key(path) else ""
        children, marker = {}, None
        with self.lock:
            self.calls["list"] += 1
            for key, (data, mtime) in self.objects.items():
                if not key.startswith(prefix) or (not prefix and "/" not in key):
                    continue
                name, slash, _ = key[len(prefix):].partition("/")
                if not slash and key == prefix:
                    marker = ObjectInfo(is_file=True, is_dir=False, size=len(data), mtime=mtime)
                elif slash:
                    children[name] = DIRECTORY
                else:
                    info = ObjectInfo(is_file=True, is_dir=False, size=len(data), mtime=mtime)
                    children[name] = children[name].merged(info) if name in children else info
        yield Listing(children, marker)

    def open_read(self, path):
        with self.lock:
            self.calls["get"] += 1
            found = self.objects.get(self.key(path))
            is_dir = bool(self._below(self.key(path) + "/"))
        if found is None:
            if is_dir:
                raise errors.IsADirectory("Is a directory", str(path), "open")
            raise errors.NotFound("No such file or directory", str(path), "open")
        return io.BytesIO(found[0])

    def open_write(self, path, *, exclusive=False):
        key = self.key(path)

        def commit(spool, size):
            with self.lock:
                self.calls["put"] += 1
                if exclusive and key in self.objects:
                    raise errors.AlreadyExists("File exists", str(path), "open")
                self.objects[key] = (spool.read(), time.time())

        return SpooledWriter(str(path), commit)

    def delete(self, path):
        with self.lock:
            self.calls["delete"] += 1
            if self.objects.pop(self.key(path), None) is None:
                raise errors.NotFound("No such file or directory", str(path), "unlink")

    def make_dir(self, path):
        with self.lock:
            self.calls["put"] += 1
            self.objects[self.key(path) + "/"] = (b"", time.time())  # a marker, as object stores do

    def remove_dir(self, path):
        with self.lock:
            self.calls["delete"] += 1
            self.objects.pop(self.key(path) + "/", None)
