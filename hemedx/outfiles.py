"""Write output files without losing anything the user owns: every ``--out`` goes through here.

A file that exists is replaced only with ``force`` (unless it already holds exactly the new text), a name
never leads out of the output folder, nothing is written through a symbolic link (the link itself would
be replaced, never its target), and each file is written to a temporary file in the same folder and
renamed over the old one, so an interrupted run leaves the old file whole. Every failure is one
:class:`~hemedx.errors.InputError` naming the path.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from hemedx.errors import InputError

FORCE_HINT = "pass --force to replace it"


def write_file(path: Path, text: str, *, force: bool = False) -> bool:
    """Write ``text`` to ``path`` (its folder must exist); return False when it already held ``text``."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("the folder to write into does not exist", file=str(folder))
    return _write_all(folder, {path.name: text}, force)[0] != []


def write_files(folder: Path, files: dict[str, str], *, force: bool = False) -> list[Path]:
    """Write each ``name: text`` into ``folder`` (created if needed); return the paths written.

    Every target is checked before the first is written, so a refusal leaves the folder as it was.
    """
    if folder.is_symlink() and not folder.is_dir():
        raise InputError("is a symbolic link to nothing, not a folder", file=str(folder))
    if folder.exists() and not folder.is_dir():
        raise InputError("is not a folder", file=str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", file=str(folder)) from None
    written, _ = _write_all(folder, files, force)
    return written


def _write_all(folder: Path, files: dict[str, str], force: bool) -> tuple[list[Path], list[Path]]:
    plan: list[tuple[Path, bytes]] = []
    unchanged: list[Path] = []
    for name, text in files.items():
        target = folder / name
        if Path(name).name != name or name in ("", ".", ".."):
            raise InputError("a file name may not lead out of the output folder", file=str(target))
        data = text.encode("utf-8")
        if _is_unchanged(target, data, force):
            unchanged.append(target)
        else:
            plan.append((target, data))
    written = []
    for target, data in plan:
        _replace(target, data)
        written.append(target)
    return written, unchanged


def _is_unchanged(target: Path, data: bytes, force: bool) -> bool:
    """Refuse what must not be replaced; tell whether ``target`` already holds ``data``."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", file=str(target)) from None
    if stat.S_ISLNK(info.st_mode):
        if not force:
            raise InputError("is a symbolic link; not following it", file=str(target), hint=FORCE_HINT)
        return False  # os.replace swaps the link itself for a file: its target is never touched
    if not stat.S_ISREG(info.st_mode):
        raise InputError("exists and is not a regular file", file=str(target), hint="choose another name")
    if info.st_size == len(data):
        with contextlib.suppress(OSError):
            if target.read_bytes() == data:
                return True
    if not force:
        raise InputError("already exists", file=str(target), hint=FORCE_HINT)
    return False


def _replace(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it over ``target`` in one step."""
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", file=str(target)) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise InputError(f"cannot write: {exc.strerror}", file=str(target)) from None
    except BaseException:  # Ctrl-C mid-write: the old file stays, the temporary one goes
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
