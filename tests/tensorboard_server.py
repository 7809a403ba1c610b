"""A real TensorBoard in this process on a free port, and a way to stop it (TensorBoard has none).

Shared by the tests, the benchmarks and the screenshot script. The Run History plugin comes from
its installed entry point, which `default.get_plugins()` already includes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence

from tensorboard import default, program


def start_tensorboard(logdir: str | os.PathLike[str], *flags: str, plugins: Sequence | None = None) -> tuple[str, Callable[[], None]]:
    """Serve `logdir` from a daemon thread; returns the base URL and a stop() that frees the port."""
    servers = []

    def factory(app, tb_flags):
        servers.append(program.create_port_scanning_werkzeug_server(app, tb_flags))
        return servers[-1]

    board = program.TensorBoard(plugins=default.get_plugins() if plugins is None else plugins, server_class=factory)
    board.configure(argv=[None, "--logdir", os.fspath(logdir), "--host", "127.0.0.1", "--port", "0", *flags])
    url = board.launch()

    def stop() -> None:
        for server in servers:
            server.shutdown()
            server.server_close()

    return url, stop


@contextlib.contextmanager
def serve_tensorboard(logdir: str | os.PathLike[str], *flags: str, plugins: Sequence | None = None) -> Iterator[str]:
    """start_tensorboard as a context manager: yields the base URL, stops on exit."""
    url, stop = start_tensorboard(logdir, *flags, plugins=plugins)
    try:
        yield url
    finally:
        stop()
