"""HParams in exported event files: hyperparameters are the children's properties, every scalar series is a metric."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.export import export_to_tensorboard
from tb_runhistory_plugin.export._eventfile import iter_records
from tb_runhistory_plugin.store import SQLiteStore

PARSERS = {
    hparams_metadata.EXPERIMENT_TAG: hparams_metadata.parse_experiment_plugin_data,
    hparams_metadata.SESSION_START_INFO_TAG: hparams_metadata.parse_session_start_info_plugin_data,
    hparams_metadata.SESSION_END_INFO_TAG: hparams_metadata.parse_session_end_info_plugin_data,
}


@pytest.fixture
def store(tmp_path):
    made = SQLiteStore(tmp_path / "store")
    yield made
    made.close()


def hparams_data(folder: Path) -> dict[str, object]:
    """The HParams plugin data in a run directory's event files, by tag."""
    found: dict[str, object] = {}
    for path in sorted(folder.glob("*tfevents*")):
        for record in iter_records(path):
            for value in event_pb2.Event.FromString(record).summary.value:
                parse = PARSERS.get(value.tag) if value.metadata.plugin_data.plugin_name == hparams_metadata.PLUGIN_NAME else None
                if parse is not None:
                    found[value.tag] = parse(value.metadata.plugin_data.content)
    return found


def test_hyperparameters_are_properties_and_every_scalar_series_is_a_metric(store, tmp_path):
    root = Experiment("hp", store=store).start_logging(display_name="sweep")
    for alpha in (0.1, 0.3):
        with root.child_run(f"alpha{alpha}", tags={"team": "vision"}, properties={"alpha": alpha, "optimizer": "adam"}) as run:
            for step in range(5):
                run.log("train/loss", 1 / (step + 1))
            run.log("mse", 3.2 * alpha)  # logged once: a final result, still a metric
            run.log("converged", True)
            run.log_row("summary", epochs=5, acc=0.9 - alpha)
    root.complete()
    tb = tmp_path / "tb"
    export_to_tensorboard(root, tb)

    session = hparams_data(tb / "sweep" / "alpha0.1")[hparams_metadata.SESSION_START_INFO_TAG]
    assert {name: value.WhichOneof("kind") for name, value in session.hparams.items()} == {"alpha": "number_value", "optimizer": "string_value"}
    assert session.hparams["alpha"].number_value == 0.1 and session.hparams["optimizer"].string_value == "adam"

    config = hparams_data(tb / "sweep")[hparams_metadata.EXPERIMENT_TAG]
    assert sorted(info.name for info in config.hparam_infos) == ["alpha", "optimizer"]
    metrics = sorted(info.name.tag for info in config.metric_infos)
    assert metrics == ["converged", "mse", "summary/acc", "summary/epochs", "train/loss"]
