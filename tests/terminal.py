"""Drive `advisor` as a process in a pseudo-terminal: what a person at a real terminal sees and types."""

from __future__ import annotations

import os
import pty
import select
import signal as signals
import subprocess
import sys
import time
from pathlib import Path


class Terminal:
    def __init__(self, args: list[str], cwd: Path):
        env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", COLUMNS="120", LINES="40")
        self.main, child = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "advisor", *args], cwd=cwd, stdin=child, stdout=child,
                                     stderr=child, env=env, close_fds=True)
        os.close(child)
        self.seen = b""

    def _read(self) -> bytes:
        if select.select([self.main], [], [], 0.5)[0]:
            try:
                return os.read(self.main, 65536)
            except OSError:  # EIO: the child has closed the terminal
                pass
        return b""

    def expect(self, text: str, timeout: float = 30) -> None:
        """Wait until `text` appears (after what was already matched)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            assert self.proc.poll() is None, f"exited {self.proc.returncode} waiting for {text!r}: {self.seen[-600:]!r}"
            assert time.monotonic() < deadline, f"timed out waiting for {text!r}: {self.seen[-600:]!r}"
            self.seen += self._read()
        self.seen = self.seen[self.seen.index(text.encode()) + len(text):]

    def drain(self, seconds: float) -> bytes:
        """Everything the program shows in the next `seconds` (kept for later `expect`s too)."""
        deadline, got = time.monotonic() + seconds, b""
        while time.monotonic() < deadline:
            got += self._read()
        self.seen += got
        return got

    def send(self, keys: str) -> None:
        os.write(self.main, keys.encode())

    def signal(self, signum: signals.Signals) -> None:
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 30) -> int:
        """Read until the process exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.seen += self._read()
        self.seen += self._read()
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        self.proc.kill()
        os.close(self.main)
