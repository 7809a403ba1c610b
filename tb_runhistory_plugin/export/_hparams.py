"""HParams for TensorBoard's HPARAMS tab: which values of a child run are its hyperparameters.

For a parent with children (a sweep), each child is one session and its hyperparameters are, in
this order (the first source of a name wins):

1. its properties (``None`` values are left out);
2. its tags; a tag whose text is a number (``run.tag("alpha", 0.1)`` stores ``"0.1"``) counts as
   that number, ``"True"``/``"False"`` as a bool;
3. its single-valued scalars (a metric logged exactly once, like the README's ``run.log("alpha",
   alpha)``), as numbers or bools; NaN and infinities are left out;
4. the cells of a table logged as exactly one row. A row that repeats a hyperparameter found
   above (``run.log_row("by_alpha", alpha=alpha, mse=mse)``) is a result row: its text and bool
   cells are hyperparameters and its other numeric cells are metrics. Any other single row (a
   configuration, ``run.log_row("config", lr=0.1, optimizer="adam")``) is all hyperparameters.
   A cell is named by its column, or ``table/column`` when that name is already taken.

Metrics are the final values (TensorBoard reads the value at the last step) of every other scalar
series and of every numeric table column (tag ``table/column``), except columns that only echo a
hyperparameter.

When: TensorBoard reads HParams data only from the first summary of each tag it sees, so nothing
here can be rewritten. A child's session (its hyperparameters, then its end status) is written
once, at the first export after the child has ended, when its values are final; the experiment
config is written once, in the parent, when the parent and all its children have ended, the logdir
holds exactly one sweep and its children have at least one hyperparameter. Until then, and for
logdirs with several sweeps, TensorBoard builds the table from the sessions themselves
(hyperparameters from the sessions, every scalar of a session as a metric), which still shows every
finished child. TensorBoard uses one experiment config for everything it serves (the first it finds),
so serving several exported logdirs, each with its own sweep config, under one TensorBoard shows the
columns of one of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata

from .._types import MetricInfo, MetricKind, RunInfo, Status
from ..store import Store

HParamValue = bool | float | str

_STATUS = {
    Status.COMPLETED: api_pb2.STATUS_SUCCESS,
    Status.FAILED: api_pb2.STATUS_FAILURE,
    Status.CANCELED: api_pb2.STATUS_FAILURE,
}


def _from_tag(text: str) -> HParamValue:
    if text in ("True", "False"):
        return text == "True"
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _plain(value: Any) -> HParamValue | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)


def infer(store: Store, info: RunInfo, metrics: Sequence[MetricInfo]) -> tuple[dict[str, HParamValue], set[str], dict[str, set[str]]]:
    """A child's hyperparameters (see the module docstring).

    Returns:
        (hyperparameters, names of scalar metrics used as hyperparameters, table -> columns that
        are not metrics).
    """
    hparams: dict[str, HParamValue] = {}
    for key, value in sorted(info.properties.items()):
        plain = _plain(value)
        if plain is not None:
            hparams.setdefault(key, plain)
    for key, value in sorted(info.tags.items()):
        hparams.setdefault(key, _from_tag(value))
    scalar_params: set[str] = set()
    for metric in metrics:
        if metric.kind == MetricKind.SCALAR and metric.count == 1 and metric.last_value is not None:
            value = bool(metric.last_value) if metric.value_type == "bool" else _plain(metric.last_value)
            if value is not None and metric.name not in hparams:
                hparams[metric.name] = value
                scalar_params.add(metric.name)
    not_metrics: dict[str, set[str]] = {}
    for metric in metrics:
        if metric.kind != MetricKind.TABLE or metric.count != 1:
            continue
        record = store.read_records(info.id, metric.name, start=0, stop=1)[0]
        row = _single_row(record.meta)
        if row is None:
            continue
        echoes = {col for col in row if col in hparams}
        skip = not_metrics.setdefault(metric.name, set(echoes))
        for col, cell in row.items():
            if col in echoes or cell is None:
                continue
            numeric = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            if echoes and numeric:
                continue  # a result of this run: stays a metric
            value = _plain(cell)
            if value is None:
                continue
            name = col if col not in hparams else f"{metric.name}/{col}"
            if name not in hparams:
                hparams[name] = value
                skip.add(col)
    return hparams, scalar_params, not_metrics


def _single_row(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    if "row" in meta:
        return dict(meta["row"])
    columns = meta.get("columns") or {}
    if columns and all(len(cells) == 1 for cells in columns.values()):
        return {col: cells[0] for col, cells in columns.items()}
    return None


def _summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=hparams_metadata.create_summary_metadata(data), tensor=hparams_metadata.NULL_TENSOR)
    return summary


def _set_value(target: Any, value: HParamValue) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, float):
        target.number_value = value
    else:
        target.string_value = value


def session_start(hparams: Mapping[str, HParamValue], *, group_name: str, start_time: float) -> summary_pb2.Summary:
    """The session-start summary of one child."""
    info = plugin_data_pb2.SessionStartInfo(group_name=group_name, start_time_secs=start_time)
    for name, value in sorted(hparams.items()):
        _set_value(info.hparams[name], value)
    return _summary(hparams_metadata.SESSION_START_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_start_info=info))


def session_end(status: str, end_time: float | None) -> summary_pb2.Summary:
    """The session-end summary of one child (its final status)."""
    info = plugin_data_pb2.SessionEndInfo(status=_STATUS.get(status, api_pb2.STATUS_UNKNOWN), end_time_secs=end_time or 0.0)
    return _summary(hparams_metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=info))


def experiment(sessions: Iterable[Mapping[str, HParamValue]], metric_tags: Iterable[str], *, time_created: float) -> summary_pb2.Summary:
    """The experiment config of a sweep: every hyperparameter with its domain, and the metrics."""
    values: dict[str, list[HParamValue]] = {}
    for hparams in sessions:
        for name, value in hparams.items():
            values.setdefault(name, []).append(value)
    infos = []
    for name in sorted(values):
        seen = values[name]
        info = api_pb2.HParamInfo(name=name, display_name=name)
        if all(isinstance(v, bool) for v in seen):
            info.type = api_pb2.DATA_TYPE_BOOL
            info.domain_discrete.extend(sorted(set(seen)))
        elif all(isinstance(v, float) for v in seen):
            info.type = api_pb2.DATA_TYPE_FLOAT64
            info.domain_interval.min_value = min(seen)  # type: ignore[type-var]
            info.domain_interval.max_value = max(seen)  # type: ignore[type-var]
        else:
            info.type = api_pb2.DATA_TYPE_STRING
            info.domain_discrete.extend(sorted({str(v) for v in seen}))
        info.differs = len(set(map(repr, seen))) > 1
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), display_name=tag) for tag in sorted(set(metric_tags))]
    config = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=time_created)
    return _summary(hparams_metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=config))
