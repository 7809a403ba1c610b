"""Run files stay inside the store's files folder: a symbolic link at any level is refused, for reads, writes and deletes."""

from __future__ import annotations

import io
import os
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tb_runhistory_plugin import Experiment, cli
from tb_runhistory_plugin.errors import NotFoundError, StoreError
from tb_runhistory_plugin.plugin._download import file_impl
from tb_runhistory_plugin.store import SQLiteStore

SECRET = b"outside the store"


@pytest.fixture
def setup(tmp_path):
    """(store, run, outside folder holding `secret.txt`); the run has `a/b.txt` and `top.txt`."""
    store = SQLiteStore(tmp_path / "store")
    run = Experiment("paths", store=store).start_logging()
    source = tmp_path / "source.txt"
    source.write_bytes(b"mine")
    run.upload_file("a/b.txt", source)
    run.upload_file("top.txt", source)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "b.txt").write_bytes(SECRET)
    (outside / "top.txt").write_bytes(SECRET)
    yield store, run, outside
    run.complete()
    store.close()


def replace_by_link(path: str, target: Path) -> None:
    """Move ``path`` aside and put a symbolic link to ``target`` in its place."""
    os.rename(path, path + ".moved")
    os.symlink(target, path)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_refused(store: SQLiteStore, run, outside: Path, tmp_path: Path, names: list[str]) -> None:
    """Every read and write of these names fails with a StoreError naming the link; nothing outside changes.

    Names the run does not have are still refused for writes; reading them is a NotFoundError (the database decides).
    """
    before = snapshot(outside)
    source = tmp_path / "new.txt"
    source.write_bytes(b"written through a link")
    known = set(run.get_file_names())
    for name in names:
        expected = StoreError if name in known else NotFoundError
        with pytest.raises(expected, match="symbolic link" if name in known else "no file"):
            run.download_file(name, str(tmp_path / "copy.txt"))
        with pytest.raises(expected):
            store.read_file(run.id, name)
        with pytest.raises(expected):
            file_impl(store, run.id, name)  # the plugin's /file route
        with pytest.raises(StoreError, match="symbolic link"):
            run.upload_file(name, source)
        with pytest.raises(StoreError, match="symbolic link"):
            store.put_file(run.id, name, b"x")
    assert not (tmp_path / "copy.txt").exists()
    assert snapshot(outside) == before


def test_files_root_that_is_a_link_is_refused(setup, tmp_path):
    store, run, outside = setup
    (outside / run.id / "a").mkdir(parents=True)
    (outside / run.id / "a" / "b.txt").write_bytes(SECRET)
    replace_by_link(store.files_root, outside)
    assert_refused(store, run, outside, tmp_path, ["a/b.txt", "top.txt", "new.txt"])
    assert run.get_file_names() == ["a/b.txt", "top.txt"]  # listing reads the database only


def test_run_folder_that_is_a_link_is_refused(setup, tmp_path):
    store, run, outside = setup
    replace_by_link(os.path.join(store.files_root, run.id), outside)
    assert_refused(store, run, outside, tmp_path, ["top.txt", "secret.txt", "new/file.txt"])


def test_sub_folder_that_is_a_link_is_refused(setup, tmp_path):
    store, run, outside = setup
    replace_by_link(os.path.join(store.files_root, run.id, "a"), outside)
    assert_refused(store, run, outside, tmp_path, ["a/b.txt", "a/secret.txt", "a/new/deeper.txt"])
    assert run.download_file("top.txt", str(tmp_path / "top.txt")) and (tmp_path / "top.txt").read_bytes() == b"mine"


def test_file_that_is_a_link_is_refused(setup, tmp_path):
    store, run, outside = setup
    replace_by_link(os.path.join(store.files_root, run.id, "a", "b.txt"), outside / "b.txt")
    assert_refused(store, run, outside, tmp_path, ["a/b.txt"])


def test_link_inside_the_store_is_refused_too(setup, tmp_path):
    # A link to another run's folder stays under the files root but would read that run's files.
    store, run, outside = setup
    other = Experiment("paths", store=store).start_logging()
    (tmp_path / "o.txt").write_bytes(b"other run's")
    other.upload_file("top.txt", tmp_path / "o.txt")
    replace_by_link(os.path.join(store.files_root, run.id), Path(store.files_root) / other.id)
    with pytest.raises(StoreError, match="symbolic link"):
        run.download_file("top.txt", str(tmp_path / "copy.txt"))
    other.complete()


def test_store_reached_through_a_linked_path_still_works(tmp_path):
    # The store's own folder may sit behind a link (a home directory on another disk): only links below it are refused.
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    with SQLiteStore(tmp_path / "alias" / "store") as store:
        run = Experiment("alias", store=store).start_logging()
        (tmp_path / "f.txt").write_bytes(b"fine")
        run.upload_file("x/f.txt", tmp_path / "f.txt")
        assert store.read_file(run.id, "x/f.txt") == b"fine"
        run.complete()
    assert (tmp_path / "real" / "store" / "files" / run.id / "x" / "f.txt").read_bytes() == b"fine"


def test_gc_does_not_delete_through_a_linked_files_root(setup, tmp_path):
    store, run, outside = setup
    old = time.time() - 30 * 86_400
    for name in os.listdir(outside):
        os.utime(outside / name, (old, old))
    replace_by_link(store.files_root, outside)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["gc", "--store", str(tmp_path / "store")])
    assert code != 0 and "symbolic link" in err.getvalue()
    assert sorted(os.listdir(outside)) == ["b.txt", "secret.txt", "top.txt"]
