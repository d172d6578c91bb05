"""Errors that mean "the user's input or command is wrong", not "our code is wrong".

The CLI turns every `InputError` (and every `OSError`) into a one-line message and a non-zero
exit, never a traceback; a library caller catches them as the ValueError they also are.
"""

from __future__ import annotations


class InputError(ValueError):
    """A file, folder, option or setting the user gave cannot be used; the message says which and why."""


def first_line(error: BaseException | str, limit: int = 300) -> str:
    """The first line of an error message, shortened: third-party messages can span pages."""
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:limit]
