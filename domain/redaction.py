"""What of an error may reach a log: its class and where our code raised it, never its text.

A database error's text quotes the failing row ("Failing row contains (...)") and a
validation error may quote the value it refused: national register numbers,
subjects, business data. Logs carry the class, the chain of classes and the code
location instead; the request id (api) or the notification id (followers) says
which request or event to look at.
"""

from __future__ import annotations

import os
import traceback


def code_location(error: BaseException) -> str:
    """Where our code raised the error (file:line in function): code, never data.

    The innermost frame outside installed libraries, in the traceback of the
    first error of the chain (a library that wraps an error raises anew from
    its own frames): the handler that failed, not the wrapper.
    """
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    frames = traceback.extract_tb(root.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    if not ours:
        return "?"
    frame = ours[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"


def error_classes(error: BaseException) -> str:
    """The chain of error classes, outermost first: `IntegrityError <- UniqueViolation`."""
    names = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return " <- ".join(names)


def stack_without_text(error: BaseException) -> str:
    """The traceback's frames (file, line, function, source line), without the error's text."""
    frames = traceback.extract_tb(error.__traceback__)
    return "".join(traceback.format_list(frames)).rstrip()
