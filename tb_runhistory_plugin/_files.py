"""A run's files: upload and download, one at a time or many, never outside the folder asked for."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import BinaryIO

from ._validate import check_file_name
from .errors import InvalidArgumentError
from .store import Store

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


class RunFiles:
    """The file methods of Run (a mixin: it needs the run's `id` and `_store`)."""

    id: str
    _store: Store

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> None:
        """Store a local file, or what is left in a binary file object, with the run under `name` ('/' makes folders).

        Raises:
            InvalidArgumentError: a bad name, a path that is no file, a text stream or another object.
        """
        check_file_name(name)
        if isinstance(path_or_stream, (str, os.PathLike)):
            path = os.fspath(path_or_stream)
            if not os.path.isfile(path):
                raise InvalidArgumentError(f"upload_file({name!r}): {path!r} is not a file")
            self._store.put_file_from_path(self.id, name, path)
            return
        if isinstance(path_or_stream, io.TextIOBase):
            raise InvalidArgumentError(f"upload_file({name!r}): {path_or_stream!r} is a text stream; open the file with 'rb'")
        read = getattr(path_or_stream, "read", None)
        if not callable(read):
            raise InvalidArgumentError(f"upload_file({name!r}): expected a path or a binary file object, got {type(path_or_stream).__name__}")
        data = read()  # from the stream's current position; the caller keeps (and closes) its object
        if isinstance(data, str):
            raise InvalidArgumentError(f"upload_file({name!r}): {path_or_stream!r} is a text stream; open the file with 'rb'")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(f"upload_file({name!r}): read() of {type(path_or_stream).__name__} gave {type(data).__name__}, not bytes")
        self._store.put_file(self.id, name, bytes(data))

    def upload_files(self, names: Sequence[str], paths: Sequence[str | os.PathLike[str]]) -> None:
        """Store several local files under the names given (the original API's order: names, then paths).

        Every name and path is checked before the first upload, so a bad one uploads nothing.

        Raises:
            InvalidArgumentError: lists of unequal length, a name given twice, a bad name, a path that is no file.
        """
        names, paths = _as_list(names, "names"), _as_list(paths, "paths")
        if len(names) != len(paths):
            raise InvalidArgumentError(f"upload_files: {len(names)} names for {len(paths)} paths; give one name per path")
        seen: set[str] = set()
        for name, path in zip(names, paths, strict=True):
            check_file_name(name)
            if name in seen:
                raise InvalidArgumentError(f"upload_files: the name {name!r} is given twice")
            seen.add(name)
            if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
                raise InvalidArgumentError(f"upload_files({name!r}): {path!r} is not a file")
        for name, path in zip(names, paths, strict=True):
            self._store.put_file_from_path(self.id, name, os.fspath(path))

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        """Store every file below a local folder under `name/<relative path>`; returns the names."""
        check_file_name(name)
        root = os.fspath(path)
        if not os.path.isdir(root):
            raise InvalidArgumentError(f"upload_folder({name!r}): {root!r} is not a directory")
        names = []
        for folder, _, files in sorted(os.walk(root)):
            for file in sorted(files):
                full = os.path.join(folder, file)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                names.append(f"{name}/{rel}")
                self.upload_file(names[-1], full)
        return names

    def get_file_names(self) -> list[str]:
        """Names of the run's files."""
        return [f.name for f in self._store.list_files(self.id)]

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Write a run file locally (into a folder, or to a path); returns the path written."""
        check_file_name(name)
        data = self._store.read_file(self.id, name)
        target = os.fspath(output_file_path) if output_file_path is not None else os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        with open(target, "wb") as handle:
            handle.write(data)
        return target

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        output_paths: Sequence[str | os.PathLike[str]] | None = None,
        append_prefix: bool = True,
    ) -> list[str]:
        """Write the run's files whose names start with `prefix` (all when None) below `output_directory` (default: the current folder).

        Each file keeps its name as a relative path (without the prefix when append_prefix=False),
        or goes to the matching entry of `output_paths`. Nothing is written outside the output
        folder: stored names are checked again, and a symbolic link met on the way is refused.
        Returns the paths written.

        Raises:
            InvalidArgumentError: a bad prefix, output_paths of another length, a link or file in the way.
        """
        if prefix is not None and (not isinstance(prefix, str) or not prefix or "\\" in prefix or prefix.startswith("/") or ".." in prefix.split("/")):
            raise InvalidArgumentError(f"download_files: prefix must be a relative file name or folder, got {prefix!r}")
        if not isinstance(append_prefix, bool):
            raise InvalidArgumentError(f"download_files: append_prefix must be True or False, got {append_prefix!r}")
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        root = os.path.abspath(os.fspath(output_directory) if output_directory is not None else os.curdir)
        if output_paths is not None:
            outputs = [os.path.abspath(os.fspath(p)) for p in _as_list(output_paths, "output_paths")]
            if len(outputs) != len(names):
                raise InvalidArgumentError(f"download_files: {len(outputs)} output_paths for {len(names)} files matching {prefix!r}")
        written = []
        for index, name in enumerate(names):
            check_file_name(name)  # a hostile server's name is refused, never followed
            data = self._store.read_file(self.id, name)
            if output_paths is not None:
                target = outputs[index]
                _write_new(os.path.dirname(target), os.path.basename(target), data)
            else:
                rel = name[len(prefix) :].lstrip("/") if prefix and not append_prefix else name
                if rel:
                    check_file_name(rel)
                target = _write_below(root, rel or os.path.basename(name), data)
            written.append(target)
        return written


def _as_list(value: object, what: str) -> list:
    if isinstance(value, (str, bytes, os.PathLike)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"{what} must be a list, got {type(value).__name__} {value!r:.80}")
    return list(value)


def _write_below(root: str, rel: str, data: bytes) -> str:
    """Write `data` at root/rel, making folders on the way; a symbolic link or file in the way is refused."""
    parts = rel.split("/")
    folder = root
    os.makedirs(root, exist_ok=True)
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if os.path.islink(folder):
            raise InvalidArgumentError(f"download_files: {folder!r} is a symbolic link; refusing to write through it")
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise InvalidArgumentError(f"download_files: {folder!r} is a file where a folder is needed")
        os.makedirs(folder, exist_ok=True)
    return _write_new(folder, parts[-1], data)


def _write_new(folder: str, base: str, data: bytes) -> str:
    """Write a file without following a symbolic link at its own name."""
    target = os.path.join(folder, base)
    if os.path.islink(target):
        raise InvalidArgumentError(f"download_files: {target!r} is a symbolic link; refusing to write through it")
    if folder:
        os.makedirs(folder, exist_ok=True)
    try:
        fd = os.open(target, _WRITE_FLAGS, 0o666)
    except OSError as exc:
        raise InvalidArgumentError(f"download_files: cannot write {target!r}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target
