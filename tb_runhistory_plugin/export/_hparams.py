"""HParams for TensorBoard's HPARAMS tab: a sweep's children compared by hyperparameters and metrics.

For a parent with children (a sweep), each child is one session:

- its hyperparameters are its params (``run.log_params({"alpha": 0.1})``), then its properties
  (``run.add_properties``, or ``properties=`` at start) under names no param has, as numbers,
  bools or text; ``None``, NaN and infinities are left out.
  Tags are labels, not hyperparameters; logged values are results, never hyperparameters, even a
  value logged once (a final ``mse``).
- its metrics are every scalar series it logged, by tag (TensorBoard reads the value at the last
  step), and every numeric table column (tag ``table/column``); a run imported from an HParams
  log keeps its experiment's metric list instead (property ``hparams.metrics``), and such a run is
  a session even without a parent.

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

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata

from .._types import RunInfo, Status

HParamValue = bool | float | str
MetricEntry = Mapping[str, Any]  # {"tag": ..., and "group", "display_name", "description", "dataset_type" when set}

SOURCE_PROPERTY = "tensorboard.source"  # set by import_tensorboard: the run directory a run came from
METRICS_PROPERTY = "hparams.metrics"  # set by import_tensorboard on HParams sessions: the experiment's metric list, as JSON
_NOT_HPARAMS = frozenset({SOURCE_PROPERTY, METRICS_PROPERTY})  # properties about the import, not hyperparameters
_METRIC_FIELDS = ("group", "display_name", "description")

_STATUS: dict[str, int] = {  # keyed by str: the statuses read back from a store are plain strings
    Status.COMPLETED: api_pb2.STATUS_SUCCESS,
    Status.FAILED: api_pb2.STATUS_FAILURE,
    Status.CANCELED: api_pb2.STATUS_FAILURE,
}


def _plain(value: Any) -> HParamValue | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)


def infer(info: RunInfo) -> dict[str, HParamValue]:
    """A child's hyperparameters: its params, then properties of other names, made plain (see the module docstring)."""
    hparams: dict[str, HParamValue] = {}
    for source in (info.params, info.properties):
        for key, value in sorted(source.items()):
            if key in _NOT_HPARAMS:
                continue
            plain = _plain(value)
            if plain is not None and key not in hparams:
                hparams[key] = plain
    return dict(sorted(hparams.items()))


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


def experiment(sessions: Iterable[Mapping[str, HParamValue]], metric_tags: Iterable[str | MetricEntry], *, time_created: float) -> summary_pb2.Summary:
    """The experiment config of a sweep: every hyperparameter with its domain, and the metrics (tags or kept entries)."""
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
            info.domain_interval.min_value = min(map(float, seen))
            info.domain_interval.max_value = max(map(float, seen))
        else:
            info.type = api_pb2.DATA_TYPE_STRING
            info.domain_discrete.extend(sorted({str(v) for v in seen}))
        info.differs = len(set(map(repr, seen))) > 1
        infos.append(info)
    metrics = [_metric_info(entry) for entry in _unique(metric_tags)]
    config = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=time_created)
    return _summary(hparams_metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=config))


def _unique(metrics: Iterable[str | MetricEntry]) -> list[MetricEntry]:
    """Metric entries, one per (group, tag), in first-seen order (a kept list keeps its order); a bare tag is its own display name."""
    found: dict[tuple[str, str], MetricEntry] = {}
    for item in metrics:
        entry: MetricEntry = {"tag": item, "display_name": item} if isinstance(item, str) else item
        found.setdefault((entry.get("group", ""), entry["tag"]), entry)
    return list(found.values())


def _metric_info(entry: MetricEntry) -> api_pb2.MetricInfo:
    info = api_pb2.MetricInfo(name=api_pb2.MetricName(group=entry.get("group", ""), tag=entry["tag"]))
    info.display_name, info.description = entry.get("display_name", ""), entry.get("description", "")
    info.dataset_type = api_pb2.DatasetType.Value(entry.get("dataset_type", "DATASET_UNKNOWN"))
    return info


def metric_entries(config: api_pb2.Experiment) -> list[dict[str, Any]]:
    """An HParams experiment's metric list as plain entries, in its order, fields only when set."""
    entries = []
    for info in config.metric_infos:
        entry: dict[str, Any] = {"tag": info.name.tag}
        values = {"group": info.name.group, "display_name": info.display_name, "description": info.description}
        entry.update({k: v for k, v in values.items() if v})
        if info.dataset_type:
            entry["dataset_type"] = api_pb2.DatasetType.Name(info.dataset_type)
        entries.append(entry)
    return entries


def stored_metrics(info: RunInfo) -> list[MetricEntry] | None:
    """The metric list an imported session keeps (``hparams.metrics``), or None (not imported, or unreadable)."""
    text = info.properties.get(METRICS_PROPERTY)
    if not isinstance(text, str):
        return None
    try:
        entries = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entries, list):
        return None
    good = [e for e in entries if isinstance(e, dict) and isinstance(e.get("tag"), str)]
    return [
        {k: v for k, v in e.items() if k == "tag" or (k in _METRIC_FIELDS and isinstance(v, str)) or (k == "dataset_type" and v in api_pb2.DatasetType.keys())}
        for e in good
    ]
