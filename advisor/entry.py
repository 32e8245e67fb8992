"""The console entry point (`advisor`, `python -m advisor`): signals and output streams are set up before anything
heavy is imported, so Ctrl-C or SIGTERM at any moment — even during start-up — ends with one line and exit 130, and
output never fails for want of a character the locale's encoding lacks."""

import errno
import io
import signal
import sys
from typing import Any


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _Closed(io.TextIOBase):
    """Standard output when the process was started without one (`advisor … >&-`): writing to it is the same
    error as writing to a closed descriptor, so commands that write a file with --out still work."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def main() -> None:
    """SIGTERM (a CI timeout, `kill`) is treated like Ctrl-C: atomic writes clean up their temporary files, the
    interview keeps its answers, and the exit code is 130."""
    try:
        signal.signal(signal.SIGTERM, _terminated)
        if sys.stdout is None:
            sys.stdout = _Closed()
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:  # "—" under LC_ALL=C or PYTHONIOENCODING=ascii: escaped, not a crash
                reconfigure(errors="backslashreplace")
        from .cli import app

        app()
    except KeyboardInterrupt:  # raised outside a command (while importing, before typer takes over)
        sys.stderr.write("advisor: interrupted\n")
        sys.exit(130)
