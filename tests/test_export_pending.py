"""export_to_tensorboard right after log(), without flush(): the buffered values are exported too."""

from __future__ import annotations

from tb_runhistory_plugin import Experiment, export_to_tensorboard
from tb_runhistory_plugin._writer import writer_for


def _exported_steps(logdir) -> int:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    total = 0
    for path in sorted(logdir.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(path.parent), size_guidance={"scalars": 0})
        acc.Reload()
        total += len(acc.Scalars("loss")) if "loss" in acc.Tags()["scalars"] else 0
    return total


def test_export_right_after_log_includes_the_buffered_values(tmp_path):
    run = Experiment("pending", store=str(tmp_path / "store")).start_logging()
    writer_for(run._store).interval = 3600  # the background writer would not write them for an hour
    child = run.child_run("child")
    for step in range(1_000):
        run.log("loss", 1.0 / (step + 1))
        child.log("loss", 2.0)
    export_to_tensorboard(run, tmp_path / "logs")
    assert _exported_steps(tmp_path / "logs") == 2_000
    child.complete()
    run.complete()
