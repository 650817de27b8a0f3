"""Short tracebacks for our errors in IPython: the user's own lines and our message, not the internals.

A missing key in a notebook used to show a dozen frames of tfm_jupyter, botocore and pandas before
the one line that says what to do.  With ``%load_ext tfm_jupyter`` an error of ours (every
:class:`~tfm_jupyter.errors.StorageError`, a cancel, a refused command) is shown with only the frames
of the user's code (the cell, the user's own modules) and a note that ``%tb`` shows the rest: the
full traceback stays where ``%tb``, ``%debug`` and ``sys.last_traceback`` look for it.

Built on IPython's documented ``set_custom_exc`` hook; a shell that already has a handler of its
own keeps it.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import types
from typing import Any

from . import errors

__all__ = ["HIDDEN_NOTE", "install", "uninstall", "user_frames"]

OURS = (errors.StorageError, errors.Cancelled, errors.CommandError)
GENERATED = ("<frozen ", "<string>")  # the standard library's and dataclasses' code, not a cell ("<ipython-input…")
HIDDEN_NOTE = "({hidden} frames of tfm_jupyter and the libraries below it are hidden: %tb shows them)"


def _library_roots() -> tuple[str, ...]:
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    paths = sysconfig.get_paths()
    roots = {os.path.abspath(paths[name]) + os.sep for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return (package, *sorted(roots))


def user_frames(tb: types.TracebackType | None) -> tuple[types.TracebackType | None, int]:
    """The traceback with only the frames of user code (not ours, a library's or the standard
    library's), and how many were left out."""
    roots, kept, hidden = _library_roots(), [], 0
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(GENERATED) or (not filename.startswith("<")
                                              and os.path.abspath(filename).startswith(roots)):
            hidden += 1
        else:
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for frame in reversed(kept):
        chain = types.TracebackType(chain, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return chain, hidden


def _show_short(shell: Any, etype: type, value: BaseException, tb: types.TracebackType | None,
                tb_offset: int | None = None) -> None:
    short, hidden = user_frames(tb)
    note = HIDDEN_NOTE.format(hidden=hidden) if hidden else None
    if note:
        value.add_note(note)
    try:
        shell.showtraceback((etype, value, short), tb_offset=0)
    finally:
        if note:
            value.__notes__.remove(note)
            if not value.__notes__:
                del value.__notes__
        # what %tb, %debug and pdb read: the whole traceback, not the one shown
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb


def install(shell: Any) -> bool:
    """Show our errors short in ``shell``; False where the shell has another custom handler."""
    if shell.custom_exceptions and shell.custom_exceptions != OURS:
        return False
    shell.set_custom_exc(OURS, _show_short)
    return True


def uninstall(shell: Any) -> None:
    if shell.custom_exceptions == OURS:
        shell.set_custom_exc((), None)
