"""The exception tree. Every error a user can cause is an `AdvisorError`; the CLI turns it into one line and exit 1.

    AdvisorError
    ├── InputError      a profile, answers file or argument is malformed or out of range
    │   └── UnknownIdError   an unknown GPU, API model or candidate id
    ├── CatalogError    a catalog file (`--catalog`) is malformed
    ├── RuleError       a rule file is malformed, or a rule's example fails
    ├── TemplateError   a memo template is missing, broken or unsafe
    ├── NoTerminal      the interview was started without a terminal (exit 2)
    └── Interrupted     Ctrl-C in the interview; the answers so far are saved (exit 130)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AdvisorError(Exception):
    """Base of every user-facing error; `str(err)` is the whole message."""

    exit_code = 1


class InputError(AdvisorError):
    pass


class UnknownIdError(InputError):
    pass


class CatalogError(AdvisorError):
    pass


class RuleError(AdvisorError):
    pass


class TemplateError(AdvisorError):
    pass


class NoTerminal(AdvisorError):
    exit_code = 2


class Interrupted(AdvisorError):
    """The message says where the answers are saved and how to resume."""

    exit_code = 130


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A ' (did you mean x?)' suffix when `name` looks like a typo of a known name, else ''."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""
