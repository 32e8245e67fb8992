"""Reading inputs and writing outputs safely: one clear message per bad input, atomic writes, untouched inputs."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import AdvisorError, InputError, did_you_mean

if TYPE_CHECKING:
    from .schema import Profile

M = TypeVar("M", bound=BaseModel)
MAX_INPUT_BYTES = 16 * 1024 * 1024  # a profile is a few KB; refuse to slurp a runaway file


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_validation_error(err: ValidationError, known: type[BaseModel] | None = None) -> str:
    """All of a pydantic error's problems on one line, each naming its field (with a suggestion for typos)."""
    parts = []
    for e in err.errors(include_url=False):
        loc = _loc(e["loc"])
        if e["type"] == "extra_forbidden":
            name = str(e["loc"][-1])
            siblings = _sibling_fields(known, e["loc"][:-1]) if known else []
            parts.append(f"{loc}: unknown field{did_you_mean(name, siblings)}")
        elif e["type"] == "json_invalid":
            parts.append(f"not valid JSON: {e['ctx']['error'] if 'ctx' in e else e['msg']}")
        elif e["type"] in ("missing",):
            parts.append(f"{loc}: required field is missing")
        elif e["loc"] and e["loc"][-1] == "[key]":  # a table name (catalog ids): say what a name may be
            parts.append(f"{_loc(e['loc'][:-2])}: {_short(e['input'])} is not a usable name: "
                         f"{e['msg'].replace('String should', 'it should')}")
        elif e["type"] == "value_error":  # our own validators' messages already name what is wrong
            parts.append(f"{loc}: {e['ctx']['error']}")
        else:
            got = "" if e["type"].startswith("json") else f" (got {_short(e['input'])})"
            parts.append(f"{loc}: {e['msg']}{got}")
    more = f" (+{len(parts) - 5} more)" if len(parts) > 5 else ""
    return "; ".join(parts[:5]) + more


def _sibling_fields(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at `loc` inside `model`, for did-you-mean suggestions."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return []
        model = _submodel(info.annotation)
    return list(model.model_fields) if model else []


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if found := _submodel(arg):
            return found
    return None


def shown(path: str | Path) -> str:
    """A path as an error message shows it: as is, or quoted with escapes if it holds newlines or other control
    characters (a message is always one line)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def stamp(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of a file, or None if it cannot be read: what caches of loaded files key on, so
    that an edited file is read again."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _shipped_hint(path: Path, what: str) -> str:
    """For a missing profile named like a shipped example: where the shipped one is and how to print it."""
    if what != "profile":
        return ""
    from .examples import listing
    from .resources import shipped

    names = [n for n, _ in listing()]
    name = path.stem if path.suffix == ".json" else path.name
    if name not in names:
        return ""
    return (f"; the shipped example of that name is {shipped('examples') / (name + '.json')} "
            f"(`advisor example {name} > {name}.json` copies it here)")


@contextlib.contextmanager
def open_input(source: str | Path, what: str = "input") -> Iterator[IO[bytes]]:
    """A binary handle on a file path, or stdin for '-'; every way a file cannot be opened is one InputError naming
    it (read failures: `read_bytes`)."""
    if str(source) == "-":
        if sys.stdin is None:  # started with standard input closed (`advisor decide - <&-`)
            raise InputError(f"<stdin>: standard input is closed; give the {what} as a file")
        yield sys.stdin.buffer
        return
    name = shown(source)
    try:
        st = os.stat(source)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{name}: is not a regular file (a device, pipe or socket); give a file, or - for "
                             f"standard input")
        fh = Path(source).open("rb")
    except FileNotFoundError:
        raise InputError(f"{name}: no such {what} file{_shipped_hint(Path(source), what)}") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a {what} file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None
    with fh:
        yield fh


def read_bytes(fh: IO[bytes], limit: int, *, line: bool = False) -> bytes:
    """Up to `limit` bytes (or one line of at most `limit`) from `fh`; a failing disk is an InputError naming it."""
    try:
        return fh.readline(limit) if line else fh.read(limit)
    except OSError as e:
        raise InputError(f"{getattr(fh, 'name', '<stdin>')}: cannot read: {e.strerror or e}") from None


def read_text(source: str | Path, what: str = "input") -> tuple[str, str]:
    """(text, name) of a file path or '-' for stdin; every way a file can be unreadable is one InputError."""
    name = "<stdin>" if str(source) == "-" else shown(source)
    with open_input(source, what) as fh:
        data = read_bytes(fh, MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; not a {what}")
    if not data.strip():
        raise InputError(f"{name}: empty {what}")
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not UTF-8 text (bad byte at offset {e.start})") from None


def read_toml(path: str | Path, what: str, error: type[AdvisorError] = InputError) -> tuple[dict[str, Any], str]:
    """(data, text) of a TOML file under the input policy (a regular file, at most MAX_INPUT_BYTES, UTF-8 with or
    without a BOM); any problem — unreadable, not TOML, nested or numbered beyond what the parser takes — is one
    `error` naming the file."""
    import tomllib

    try:
        text, name = read_text(path, what)
    except InputError as e:
        raise error(str(e)) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise error(f"{name}: not valid TOML: {e}") from None
    except (RecursionError, ValueError, MemoryError) as e:  # nesting or a number too large to parse
        raise error(f"{name}: not a usable {what}: {type(e).__name__}: {str(e)[:200]}") from None


def parse_model(model: type[M], text: str, name: str) -> M:
    """Validate JSON text against `model`; a failure is one InputError naming the file and the fields."""
    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        raise InputError(f"{name}: {describe_validation_error(e, model)}") from None


def validate_data(model: type[M], data: Any, name: str) -> M:
    """Validate already-parsed Python data (a dict from a notebook or a JSONL line) against `model`."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InputError(f"{name}: {describe_validation_error(e, model)}") from None


def output_target(path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The file an output to `path` may replace, or one InputError saying why not (DESIGN §9, SECURITY.md): only a
    regular file is ever written — a path that names a directory (or ends in /), a device, a pipe or a socket is
    refused, and so is any file that is also an input of the run (the same file by device and inode, whatever the
    spelling). A symlink to a regular file is written through: the link stays and its target gets the content."""
    text = str(path)
    if not text or text.endswith(("/", os.sep)):
        raise InputError(f"{shown(path)}: names a directory; --out needs a file name")
    target = Path(path)
    try:
        st = os.stat(target)  # follows a symlink to what it names
    except FileNotFoundError:
        if target.is_symlink():
            raise InputError(f"{shown(target)}: is a symlink to nothing; give the file itself") from None
        st = None
    except OSError as e:
        raise InputError(f"{shown(target)}: cannot write: {e.strerror or e}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{shown(target)}: is a directory; --out needs a file path")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{shown(target)}: is not a regular file (a device, pipe or socket); advisor writes "
                             f"only regular files")
        for source in inputs:
            if str(source) == "-":
                continue
            try:
                same = os.path.samefile(source, target)
            except OSError:
                same = False
            if same:
                raise InputError(f"{shown(target)}: is also an input of this run ({shown(source)}); writing it "
                                 f"would destroy that input — choose another output file")
    return target.resolve() if target.is_symlink() else target


@contextlib.contextmanager
def atomic_writer(path: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[IO[str]]:
    """A text file handle whose content replaces `path` only when the block completes: a temporary file in the same
    directory, fsynced, then renamed. On any failure or interruption the temporary file is removed and `path` keeps
    its previous content. `path` must pass `output_target` (`inputs`: the files this run reads)."""
    target = output_target(path, inputs)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        # The temporary name starts like the target's (for people looking at the directory) but stays short, so a
        # target with a name near the file system's limit still gets one.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name[:40]}.", suffix=".tmp")
    except FileNotFoundError:
        raise InputError(f"{shown(target)}: directory {shown(directory)} does not exist") from None
    except OSError as e:
        raise InputError(f"{shown(target)}: cannot write: {e.strerror or e}") from None
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
            os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{shown(target)}: cannot write: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    """The permissions the output gets: those of the file it replaces, or what the umask gives a new file (a temporary
    file is created private, and a memo written for a team must not end up readable by its owner alone)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def distinct_files(outputs: dict[str, str | Path], inputs: Iterable[str | Path]) -> None:
    """One InputError if two of the named outputs are the same file, or one of them is an input (before any work
    starts, so nothing is lost)."""
    seen: dict[str, str] = {}
    for label, path in outputs.items():
        resolved = str(Path(path).resolve())
        if resolved in seen:
            raise InputError(f"{label} and {seen[resolved]} are the same file ({shown(path)}); give them different "
                             f"paths")
        seen[resolved] = label
    inputs = list(inputs)
    for path in outputs.values():
        output_target(path, inputs)


def write_atomic(path: str | Path, text: str, inputs: Iterable[str | Path] = ()) -> None:
    """Write via a temporary file in the same directory and rename: readers never see a half-written file."""
    with atomic_writer(path, inputs) as fh:
        fh.write(text)


def load_profile(source: str | Path | dict[str, Any] | Profile) -> Profile:
    """A validated `Profile` from a file path, '-' (stdin), a dict, or a Profile (returned as is)."""
    from .schema import Profile

    if isinstance(source, (str, Path)):
        text, name = read_text(source, "profile")
        return parse_model(Profile, text, name)
    return validate_data(Profile, source, "profile")
