"""Faults: a disk that fills up or turns read-only, a write that fails half-way, SIGINT/SIGTERM in the middle of a
batch or an interview. The previous output stays intact, no temporary file is left, answers given are kept."""

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT
from terminal import Terminal
from typer.testing import CliRunner

import advisor.io
from advisor.cli import app
from advisor.examples import generate

runner = CliRunner()
EXAMPLE = str(ROOT / "examples" / "customer-chatbot.json")


class _FailingFile:
    """A text file that accepts `budget` characters, then fails the way a full disk does."""

    def __init__(self, real, budget: int, error: int):
        self.real, self.budget, self.error = real, budget, error

    def write(self, text: str) -> int:
        if len(text) > self.budget:
            self.real.write(text[: self.budget])
            self.budget = 0
            raise OSError(self.error, os.strerror(self.error))
        self.budget -= len(text)
        return self.real.write(text)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.real.__exit__(*exc)


def _fail_writes_after(monkeypatch, budget: int, error: int = errno.ENOSPC) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(advisor.io.os, "fdopen", lambda *a, **k: _FailingFile(real_fdopen(*a, **k), budget, error))


def _only(tmp_path, *names):
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no temporary file left behind


@pytest.mark.parametrize("command", [["decide", EXAMPLE], ["decide", EXAMPLE, "-f", "json"], ["costs", EXAMPLE],
                                     ["sensitivity", EXAMPLE, "--samples", "100"]])
def test_a_disk_that_fills_half_way_keeps_the_previous_output(command, tmp_path, monkeypatch):
    out = tmp_path / "out.md"
    out.write_text("previous\n")
    _fail_writes_after(monkeypatch, 500)
    r = runner.invoke(app, [*command, "--out", str(out)])
    assert r.exit_code == 1 and "cannot write: No space left on device" in r.stderr, r.output
    assert out.read_text() == "previous\n"
    _only(tmp_path, "out.md")


def test_a_batch_whose_disk_fills_half_way_keeps_the_previous_output(tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in generate(40, seed=3)))
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    _fail_writes_after(monkeypatch, 5000)
    r = runner.invoke(app, ["batch", str(src), "--out", str(out)])
    assert r.exit_code == 1 and "No space left on device" in r.stderr and "Traceback" not in r.output
    assert out.read_text() == "previous\n"
    _only(tmp_path, "in.jsonl", "out.jsonl")


@pytest.mark.parametrize("error", [errno.EROFS, errno.EACCES, errno.EDQUOT])
def test_an_output_directory_that_refuses_new_files(error, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(advisor.io.tempfile, "mkstemp", refuse)
    out = tmp_path / "memo.md"
    out.write_text("previous\n")
    r = runner.invoke(app, ["decide", EXAMPLE, "--out", str(out)])
    assert r.exit_code == 1 and f"cannot write: {os.strerror(error)}" in r.stderr
    assert out.read_text() == "previous\n"


def test_a_rename_that_fails_leaves_no_temporary_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(advisor.io.os, "replace", refuse)
    out = tmp_path / "memo.md"
    out.write_text("previous\n")
    r = runner.invoke(app, ["decide", EXAMPLE, "--out", str(out)])
    assert r.exit_code == 1 and "cannot write" in r.stderr
    assert out.read_text() == "previous\n"
    _only(tmp_path, "memo.md")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_really_read_only_directory(tmp_path):
    out_dir = tmp_path / "ro"
    out_dir.mkdir()
    (out_dir / "memo.md").write_text("previous\n")
    out_dir.chmod(0o555)
    try:
        r = runner.invoke(app, ["decide", EXAMPLE, "--out", str(out_dir / "memo.md")])
        assert r.exit_code == 1 and "Permission denied" in r.stderr
        assert (out_dir / "memo.md").read_text() == "previous\n"
    finally:
        out_dir.chmod(0o755)


# SIGINT stops a batch still reading its input in one process; SIGTERM one whose worker processes are deciding.
@pytest.mark.parametrize("signum,lines", [(signal.SIGINT, 40), (signal.SIGTERM, 600)])
def test_a_batch_stopped_by_a_signal_keeps_the_previous_output(signum, lines, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    proc = subprocess.Popen([sys.executable, "-m", "advisor", "batch", "-", "--out", str(out)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # an input that has not ended: the batch is mid-run (with 600 lines, in its worker processes); fed from a thread,
    # as a pipe holds only a few dozen profiles and the batch reads them as it decides
    data = "".join(json.dumps(p) + "\n" for p in generate(lines, seed=4)).encode()
    threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True).start()
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".out.jsonl.") for p in tmp_path.iterdir()):  # writing has begun
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signum)
    proc.wait(timeout=60)
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.returncode == 130, err
    assert err.decode().strip().splitlines()[-1] == "advisor: interrupted" and b"Traceback" not in err
    assert out.read_text() == "previous\n"
    _only(tmp_path, "out.jsonl")


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.flush()
    except (BrokenPipeError, ValueError):  # the batch was stopped before reading it all
        pass


def test_sigterm_during_the_interview_keeps_the_answers_given(tmp_path):
    term = Terminal(["interview", "--out", "p.json"], tmp_path)
    try:
        term.expect("Project name")
        term.send("Demo\r")
        term.expect("One-sentence description")
        term.send("Answers tickets\r")
        term.expect("Who makes this decision")
        term.signal(signal.SIGTERM)
        assert term.finish() == 130
    finally:
        term.close()
    assert b"--resume" in term.seen and b"Traceback" not in term.seen
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["project"]["name"] == "Demo" and saved["project"]["description"] == "Answers tickets"
