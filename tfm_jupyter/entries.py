"""What every storage backend says about names: :class:`ObjectInfo` (one name) and :class:`Listing`
(one directory).

Both are immutable, so a cached listing can be handed to any thread; writes replace it with a
modified copy (``with_child`` / ``without``) instead of mutating it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

__all__ = ["DIRECTORY", "Listing", "ListingBuilder", "ObjectInfo", "Survey", "Tree", "split_key",
           "tree_from_objects"]


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One name in a directory: an object, a prefix, or (S3 allows it) both at once."""

    is_file: bool
    is_dir: bool
    size: int = 0
    mtime: float | None = None
    etag: str | None = None
    storage_class: str | None = None
    content_type: str | None = None

    def merged(self, other: ObjectInfo) -> ObjectInfo:
        """Combine what two answers say about the same name (file facts win)."""
        file = other if other.is_file else self
        return replace(file, is_file=self.is_file or other.is_file, is_dir=self.is_dir or other.is_dir)

    def without_file(self) -> ObjectInfo | None:
        return DIRECTORY if self.is_dir else None

    def without_dir(self) -> ObjectInfo | None:
        return replace(self, is_dir=False) if self.is_file else None


DIRECTORY = ObjectInfo(is_file=False, is_dir=True)


@dataclass(frozen=True, slots=True)
class Listing:
    """All children of one directory (an S3 prefix, a folder), from a complete listing.

    ``dir_exists`` says the directory exists in its own right, even with no children: a folder of a
    file system, a bucket, a container.  On an object store a prefix exists only through what is
    below it, or through ``marker``: the (usually zero-byte) object whose key is the prefix itself.
    ``exists`` is False when none of these holds.
    """

    children: Mapping[str, ObjectInfo] = field(default_factory=dict)
    marker: ObjectInfo | None = None
    dir_exists: bool = False

    @property
    def has_marker(self) -> bool:
        return self.marker is not None

    @property
    def exists(self) -> bool:
        return self.dir_exists or self.has_marker or bool(self.children)

    def with_child(self, name: str, info: ObjectInfo) -> Listing:
        children = dict(self.children)
        old = children.get(name)
        children[name] = old.merged(info) if old is not None else info
        return replace(self, children=MappingProxyType(children))

    def without(self, name: str, *, file: bool = True, directory: bool = True) -> Listing:
        old = self.children.get(name)
        if old is None:
            return self
        children = dict(self.children)
        if file:
            old = old.without_file()
        if old is not None and directory:
            old = old.without_dir()
        if old is None:
            del children[name]
        else:
            children[name] = old
        return replace(self, children=MappingProxyType(children))

    def with_marker(self, marker: ObjectInfo | None) -> Listing:
        return replace(self, marker=marker)


Tree = dict[tuple[str, ...], Listing]  # a directory and those below it, keyed by their components below it


@dataclass
class Survey:
    """What a backend found at a path in one go: ``info`` (None: nothing lives there) and, when it is a
    directory, ``pages``: its :data:`Tree`, in one page or (``streamed``) page by page as it is listed,
    each page holding the directories its entries belong to."""

    info: ObjectInfo | None
    pages: Iterator[Tree] | None = None
    streamed: bool = False


class ListingBuilder:
    """Collects one directory's children (and its marker) into a :class:`Listing`."""

    __slots__ = ("children", "marker")

    def __init__(self) -> None:
        self.children: dict[str, ObjectInfo] = {}
        self.marker: ObjectInfo | None = None

    def add(self, name: str, info: ObjectInfo) -> None:
        old = self.children.get(name)
        self.children[name] = info if old is None else old.merged(info)

    def build(self, dir_exists: bool) -> Listing:
        return Listing(MappingProxyType(self.children), self.marker, dir_exists)


def split_key(key: str) -> tuple[str, str]:
    """``'a/b/c'`` -> ``('a/b/', 'c')``: the parent prefix and the name within it."""
    cut = key.rfind("/") + 1
    return key[:cut], key[cut:]


def tree_from_objects(prefix: str, objects: Iterable[tuple[str, ObjectInfo]]) -> dict[str, Listing]:
    """Every directory below ``prefix`` (its full prefix -> Listing) from a flat listing of an object
    store: ``(key, info)`` of each object below ``prefix``.  Directories that have no marker of their
    own are made from the keys below them, as a delimiter listing reports them; a key ending in ``/``
    is the marker of that prefix."""
    builders: dict[str, ListingBuilder] = {prefix: ListingBuilder()}

    def builder_for(dir_prefix: str) -> ListingBuilder:
        builder = builders.get(dir_prefix)
        if builder is None:
            builder = builders[dir_prefix] = ListingBuilder()
            parent, name = split_key(dir_prefix[:-1])
            builder_for(parent).add(name, DIRECTORY)
        return builder

    for key, info in objects:
        parent, name = split_key(key)
        if name:
            builder_for(parent).add(name, info)
        else:
            builder_for(parent).marker = info
    return {p: b.build(dir_exists=not p) for p, b in builders.items()}


def tree_below(root: str, objects: Iterable[tuple[str, ObjectInfo]]) -> Tree:
    """:func:`tree_from_objects` keyed as a :data:`Tree`: by each directory's components below ``root``."""
    return {relative_components(prefix, root): listing for prefix, listing in tree_from_objects(root, objects).items()}


def relative_components(prefix: str, root: str) -> tuple[str, ...]:
    """The names of the directory ``prefix`` below ``root`` (both ending in ``/``): its key in a Tree."""
    return tuple(prefix[len(root):-1].split("/")) if prefix != root else ()


def survey_from_objects(key: str, objects: Iterable[tuple[str, ObjectInfo]]) -> Survey:
    """What lives at ``key``, from a complete flat listing of every name that starts with ``key``
    (one request where an object store's page holds them): the tree below ``key/`` when there is
    one (a directory wins over an object of the same name, as in a delimiter listing), else the
    object ``key`` itself, else nothing."""
    root, entry, below = key + "/", None, []
    for name, info in objects:
        if name.startswith(root):
            below.append((name, info))
        elif name == key:
            entry = info
    if below:
        return Survey(DIRECTORY, iter([tree_below(root, below)]))
    return Survey(entry)
