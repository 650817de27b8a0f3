"""``%load_ext tfm_jupyter``: the ``%s3*`` magics and ``%tfm``.

Each magic only parses its arguments and calls one function of :mod:`tfm_jupyter.commands`;
mistakes and S3 errors are shown as one line (IPython's UsageError), never as a traceback.
"""

from __future__ import annotations

import functools
import inspect
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from . import commands, errors
from .completion import complete_s3

__all__ = ["S3Magics", "load_ipython_extension", "unload_ipython_extension"]


HELP_FLAGS = ("-h", "--help")


class _HelpAsked(Exception):
    """``-h``/``--help`` was given: show the magic's usage instead of running it."""


def _one_line_errors(magic: Callable[..., Any]) -> Callable[..., Any]:
    """Show mistakes and S3 failures as ``UsageError: FileNotFoundError: ...`` (no traceback), and the
    usage for ``-h``/``--help``."""

    @functools.wraps(magic)
    def run(self: Magics, line: str) -> Any:
        try:
            return magic(self, line)
        except _HelpAsked as asked:
            print(str(asked).strip("\n:").strip())
            return None
        except UsageError:
            raise
        except commands.ConfirmationNeeded as exc:
            print(repr(exc.report))
            raise UsageError(str(exc)) from None
        except errors.SyncError as exc:
            print(repr(exc.report))
            raise UsageError(f"{errors.builtin_name(exc)}: {exc}") from None
        except commands.CommandError as exc:
            raise UsageError(str(exc)) from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{errors.builtin_name(exc)}: {exc}") from None

    return run


def _parse(magic: Callable[..., Any], line: str) -> Any:
    """Parse with shell quoting (IPython's own splitter keeps the quotes around arguments); ``-h`` or
    ``--help`` before any ``--`` shows the usage (a name starting with ``-`` goes after ``--``)."""
    try:
        argv = shlex.split(_without_comment(line))
    except ValueError as exc:
        raise UsageError(f"cannot parse arguments: {exc}") from None
    options = argv[:argv.index("--")] if "--" in argv else argv
    if any(flag in options for flag in HELP_FLAGS):
        raise _HelpAsked(magic.__doc__)
    return magic.parser.parse_args(argv)


def _without_comment(line: str) -> str:
    """The line up to a ``#`` that starts a word outside quotes, as the shell reads comments
    (``%s3cp a b  # why``); a ``#`` inside a name (``s3://b/a#b``) or in quotes stays."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _asks_help(usage: str, magic: Callable[..., Any], line: str) -> None:
    """For the magics without options: ``-h``/``--help`` alone shows ``usage`` and the docstring."""
    if line.strip() in HELP_FLAGS:
        raise _HelpAsked(f"::\n\n  {usage}\n\n{inspect.cleandoc(magic.__doc__ or '')}")


def _filter_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--exclude``/``--include`` (kept in their order in one list) and ``--dryrun``."""
    for flag in ("--include", "--exclude"):
        func = argument(flag, dest="rules", action="append", metavar="GLOB",
                        type=lambda pattern, kind=flag[2:]: (kind, pattern),
                        help=f"{flag[2:]} files whose path below the source matches GLOB")(func)
    return argument("--dryrun", action="store_true", help="show what would be done, do nothing")(func)


def _transfer_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """The flags %s3cp and %s3mv share."""
    func = _filter_arguments(argument("paths", nargs="+", help="SRC... DST")(func))
    return argument("-r", "--recursive", action="store_true", help="include directories")(func)


def _transfer(command: Callable[..., Any], args: Any) -> Any:
    if len(args.paths) < 2:
        raise UsageError("needs SRC... DST")
    return command(args.paths[:-1], args.paths[-1], recursive=args.recursive, dryrun=args.dryrun,
                   rules=args.rules or [])


@magics_class
class S3Magics(Magics):
    """``aws s3``-like commands for notebook cells."""

    @magic_arguments()
    @argument("-l", "--long", action="store_true", help="sizes and modification times")
    @argument("-H", "--human-readable", action="store_true", help="sizes as KiB/MiB/GiB")
    @argument("-r", "--recursive", action="store_true", help="every file below PATH")
    @argument("--sort", choices=("name", "size", "time"), default="name")
    @argument("path", nargs="?", default=".", help="s3://bucket/prefix or a local path (default: %%s3pwd)")
    @line_magic
    @_one_line_errors
    def s3ls(self, line: str) -> Any:
        """List a folder: ``x = %s3ls -l s3://bucket/prefix`` (x iterates over Path objects)."""
        args = _parse(self.s3ls, line)
        return commands.ls(args.path, long=args.long, human=args.human_readable, recursive=args.recursive,
                           sort=args.sort)

    @magic_arguments()
    @_transfer_arguments
    @line_magic
    @_one_line_errors
    def s3cp(self, line: str) -> Any:
        """Copy like ``aws s3 cp``: ``%s3cp -r --exclude '*.tmp' ./data s3://bucket/data``."""
        return _transfer(commands.cp, _parse(self.s3cp, line))

    @magic_arguments()
    @_transfer_arguments
    @line_magic
    @_one_line_errors
    def s3mv(self, line: str) -> Any:
        """Move like ``aws s3 mv``; sources are deleted only after every file arrived."""
        return _transfer(commands.mv, _parse(self.s3mv, line))

    @magic_arguments()
    @argument("--delete", action="store_true", help="delete files at DST that SRC does not have (after every copy)")
    @argument("--size-only", action="store_true", help="compare sizes only")
    @argument("--exact-timestamps", action="store_true",
              help="to a local folder: copy same-size files whose times differ at all")
    @argument("--checksum", action="store_true", help="compare content (MD5 / ETag) instead of times")
    @argument("--yes", action="store_true", help="confirm --delete")
    @_filter_arguments
    @argument("source", help="the folder or prefix to copy from")
    @argument("destination", help="the folder or prefix to make like it")
    @line_magic
    @_one_line_errors
    def s3sync(self, line: str) -> Any:
        """Sync like ``aws s3 sync``: ``%s3sync ./out s3://bucket/out --delete --yes`` copies what is new or
        changed; ``--delete`` removes what SRC lacks, only after every copy succeeded."""
        args = _parse(self.s3sync, line)
        return commands.sync(args.source, args.destination, delete=args.delete, dryrun=args.dryrun,
                             size_only=args.size_only, exact_timestamps=args.exact_timestamps, checksum=args.checksum,
                             rules=args.rules or [], yes=args.yes)

    @magic_arguments()
    @argument("-r", "--recursive", action="store_true", help="delete everything below a prefix")
    @argument("--dryrun", action="store_true", help="show what would be deleted")
    @argument("--yes", action="store_true", help=f"confirm deleting more than {commands.RM_CONFIRM_OVER} objects")
    @argument("paths", nargs="+")
    @line_magic
    @_one_line_errors
    def s3rm(self, line: str) -> Any:
        """Delete objects; prefixes need ``-r``, and more than a handful of objects need ``--yes``."""
        args = _parse(self.s3rm, line)
        return commands.rm(args.paths, recursive=args.recursive, dryrun=args.dryrun, yes=args.yes)

    @magic_arguments()
    @argument("-n", "--bytes", type=int, default=None, help="how many bytes (default 64 KiB)")
    @argument("path")
    @line_magic
    @_one_line_errors
    def s3cat(self, line: str) -> Any:
        """The head of a text object (one ranged GET)."""
        args = _parse(self.s3cat, line)
        return commands.cat(args.path, nbytes=args.bytes)

    @magic_arguments()
    @argument("-H", "--human-readable", action="store_true", help="sizes as KiB/MiB/GiB")
    @argument("--inventory", default=None, metavar="MANIFEST",
              help="count from an S3 Inventory report (its manifest.json) instead of listing")
    @argument("path", nargs="?", default=".")
    @line_magic
    @_one_line_errors
    def s3du(self, line: str) -> Any:
        """Total size below a path; the result has ``.bytes``, ``.files``, ``.directories``."""
        args = _parse(self.s3du, line)
        return commands.du(args.path, human=args.human_readable, inventory=args.inventory)

    @magic_arguments()
    @argument("--name", default=None, help="glob on the file name, e.g. '*.csv'")
    @argument("--newer", default=None, help="modified after DATE (2024-01-31, 7d, 12h)")
    @argument("--larger", default=None, help="bigger than SIZE (10k, 1.5M, 2G)")
    @argument("--contains", default=None, help="some line contains TEXT (text files up to 10 MiB)")
    @argument("--regex", action="store_true", help="--contains is a regular expression")
    @argument("-i", "--ignore-case", action="store_true")
    @argument("--inventory", default=None, metavar="MANIFEST",
              help="answer from an S3 Inventory report (its manifest.json) instead of listing")
    @argument("--live", action="append", default=[], metavar="FOLDER",
              help="with --inventory: list this folder afresh (repeatable)")
    @argument("path", nargs="?", default=".")
    @line_magic
    @_one_line_errors
    def s3find(self, line: str) -> Any:
        """Find files below a path by name, age, size and content (one flat listing, then GETs only
        for the content search)."""
        args = _parse(self.s3find, line)
        return commands.find(args.path, pattern=args.name, newer=args.newer, larger=args.larger,
                             contains=args.contains, regex=args.regex, ignore_case=args.ignore_case,
                             inventory=args.inventory, live=args.live)

    @magic_arguments()
    @argument("-i", "--ignore-case", action="store_true")
    @argument("-F", "--fixed-strings", action="store_true", help="PATTERN is plain text, not a regex")
    @argument("--name", default=None, help="only files whose name matches this glob")
    @argument("--limit", type=int, default=1000, help="at most this many lines (default 1000)")
    @argument("pattern")
    @argument("path", nargs="?", default=".")
    @line_magic
    @_one_line_errors
    def s3grep(self, line: str) -> Any:
        """Matching lines with file and line number, like ``grep -rn PATTERN PATH``."""
        args = _parse(self.s3grep, line)
        return commands.grep(args.pattern, args.path, glob=args.name, ignore_case=args.ignore_case,
                             fixed=args.fixed_strings, limit=args.limit)

    @magic_arguments()
    @argument("-p", "--parents", action="store_true", help="create parents, no error if it exists")
    @argument("path")
    @line_magic
    @_one_line_errors
    def s3mkdir(self, line: str) -> Any:
        """Create a directory (an S3 marker object)."""
        args = _parse(self.s3mkdir, line)
        return commands.mkdir(args.path, parents=args.parents)

    @magic_arguments()
    @argument("--expires", type=int, default=3600, help="seconds the URL stays valid")
    @argument("path")
    @line_magic
    @_one_line_errors
    def s3presign(self, line: str) -> Any:
        """A presigned GET URL for sharing one object."""
        args = _parse(self.s3presign, line)
        return commands.presign(args.path, expires=args.expires)

    @magic_arguments()
    @argument("path", nargs="?", default=None)
    @line_magic
    @_one_line_errors
    def s3cd(self, line: str) -> Any:
        """Set the location relative names resolve against (``tfm_jupyter.cwd()`` in Python)."""
        args = _parse(self.s3cd, line)
        return commands.cd(args.path)

    @line_magic
    @_one_line_errors
    def s3pwd(self, line: str) -> Any:
        """The current location of the magics (``%s3cd`` sets it)."""
        _asks_help("%s3pwd", self.s3pwd, line)
        return commands.pwd()

    @magic_arguments()
    @argument("action", nargs="?", choices=("stats", "clear"), default="stats")
    @argument("--ttl", type=float, default=None, help="default TTL in seconds (0 disables caching)")
    @argument("--max-entries", type=int, default=None)
    @line_magic
    @_one_line_errors
    def s3cache(self, line: str) -> Any:
        """Cache statistics, ``clear``, or ``--ttl N`` / ``--max-entries N``."""
        from . import clear_s3_cache, configure_s3_cache, get_s3_cache_stats

        args = _parse(self.s3cache, line)
        if args.ttl is not None or args.max_entries is not None:
            configure_s3_cache(ttl=args.ttl, max_entries=args.max_entries)
        if args.action == "clear":
            clear_s3_cache()
        return get_s3_cache_stats()


    @magic_arguments()
    @argument("state", nargs="?", choices=("on", "off"), default=None)
    @line_magic
    @_one_line_errors
    def s3meter(self, line: str) -> Any:
        """``%s3meter on``: after each cell, print its S3 requests and those the cache saved."""
        args = _parse(self.s3meter, line)
        if args.state == "on":
            _meter_on(self.shell)
        elif args.state == "off":
            _meter_off(self.shell)
        from . import meter

        return commands.TextResult("this kernel so far: " + meter.reading().summary())

    @line_cell_magic
    def s3sql(self, line: str, cell: str | None = None) -> Any:
        """SQL over S3 in place (DuckDB), returning a pandas DataFrame.

        ``%s3sql SELECT region, sum(units) FROM 's3://demo/sales/**/*.csv' GROUP BY 1``, or the
        query as the body of a ``%%s3sql`` cell.
        """
        return self._sql(cell if cell is not None else line)

    @_one_line_errors
    def _sql(self, query: str) -> Any:
        from .data.sql import sql

        _asks_help("%s3sql QUERY  |  %%s3sql (the query in the cell)", self.s3sql, query)
        if not query.strip():
            raise UsageError("needs a query, e.g. %s3sql SELECT count(*) FROM 's3://bucket/data/*.parquet'")
        return sql(query)

    @magic_arguments()
    @argument("left", nargs="?", default=None, help="left pane (default: %%s3pwd)")
    @argument("right", nargs="?", default=None, help="right pane (default: the bucket list)")
    @line_magic
    @_one_line_errors
    def tfm(self, line: str) -> Any:
        """Open the two-pane browser: ``%tfm s3://bucket/ ~/data`` (press ? in it for the keys)."""
        from .browser import browse

        args = _parse(self.tfm, line)
        return browse(commands.resolve(args.left) if args.left else None,
                      commands.resolve(args.right) if args.right else None)


_meters: dict[int, commands.CellMeter] = {}


def _meter_on(shell: Any) -> None:
    if id(shell) not in _meters:
        meter = _meters[id(shell)] = commands.CellMeter()
        shell.events.register("pre_run_cell", meter.before)
        shell.events.register("post_run_cell", meter.after)


def _meter_off(shell: Any) -> None:
    meter = _meters.pop(id(shell), None)
    if meter is not None:
        shell.events.unregister("pre_run_cell", meter.before)
        shell.events.unregister("post_run_cell", meter.after)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext tfm_jupyter``: register the magics and S3 path completion."""
    from . import tracebacks

    ipython.register_magics(S3Magics)
    tracebacks.install(ipython)
    if complete_s3 not in ipython.Completer.custom_matchers:
        ipython.Completer.custom_matchers.append(complete_s3)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext tfm_jupyter``: remove every magic and the completer again."""
    line_magics = ipython.magics_manager.magics["line"]
    for name in [n for n, f in line_magics.items() if isinstance(getattr(f, "__self__", None), S3Magics)]:
        del line_magics[name]
    ipython.magics_manager.registry.pop(S3Magics.__name__, None)
    if complete_s3 in ipython.Completer.custom_matchers:
        ipython.Completer.custom_matchers.remove(complete_s3)
    _meter_off(ipython)
    from . import tracebacks

    tracebacks.uninstall(ipython)
