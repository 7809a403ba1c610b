"""JSON encoding: the same NaN/Infinity strings as TensorBoard's Respond, with or without orjson."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from tensorboard.backend import http_util
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tb_runhistory_plugin.plugin import _download, _respond

SAMPLE = {
    "floats": [1.5, math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, 1.7976931348623157e308],
    "nested": {"x": {"y": [math.nan, {"z": -math.inf}]}, "none": None, "flag": True},
    "text": 'quotes " <script> \u00e9\u4e2d \U0001f600',
    "ints": [0, -1, 2**62],
}


def arrays():
    return {
        "f64": np.array([1.5, np.nan, np.inf, -np.inf, 2.0]),
        "f64_finite": np.array([0.1, 0.2]),
        "f32": np.array([0.1, 3.4e38], np.float32),
        "i64": np.array([0, -5, 2**62], np.int64),
        "strided": np.arange(10.0)[::2],
        "scalar": np.float64(np.nan),
        "empty": np.empty(0),
    }


def tensorboard_json(data) -> object:
    """What TensorBoard's own responder sends for `data`."""
    request = Request(EnvironBuilder().get_environ())
    return json.loads(http_util.Respond(request, data, "application/json").get_data())


@pytest.fixture(params=["orjson", "stdlib"])
def encoder(request, monkeypatch):
    if request.param == "stdlib":
        monkeypatch.setattr(_respond, "_orjson", None)
        monkeypatch.setattr(_download, "_orjson", None)
    elif _respond._orjson is None:
        pytest.skip("orjson is not installed")
    return request.param


def test_plain_data_reads_back_as_tensorboard_sends_it(encoder):
    ours = json.loads(_respond.encode_json(SAMPLE))
    assert ours == tensorboard_json(SAMPLE)
    assert ours["floats"][1:4] == ["NaN", "Infinity", "-Infinity"]


def test_arrays(encoder):
    decoded = json.loads(_respond.encode_json(arrays()), parse_constant=lambda token: pytest.fail(f"bare {token}"))
    assert decoded["f64"] == [1.5, "NaN", "Infinity", "-Infinity", 2.0]
    assert decoded["f64_finite"] == [0.1, 0.2]
    assert np.array_equal(np.array(decoded["f32"], np.float32), np.array([0.1, 3.4e38], np.float32))
    assert decoded["i64"] == [0, -5, 2**62]
    assert decoded["strided"] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert decoded["scalar"] == "NaN" and decoded["empty"] == []


def test_a_lone_surrogate_falls_back_to_escapes(encoder):
    assert json.loads(_respond.encode_json({"s": "a\ud800b"})) == {"s": "a\ud800b"}


def test_csv_numbers(encoder):
    values = np.array([1.0, 0.1, np.nan, np.inf, -np.inf, 1e-7, 1.7e9 + 0.25])
    texts = _download._csv_numbers(values)
    assert texts[2:5] == ["nan", "inf", "-inf"]
    assert [float(t) for t in texts] == pytest.approx(values.tolist(), nan_ok=True)
    assert [float(t) for t in texts if t not in ("nan", "inf", "-inf")] == [1.0, 0.1, 1e-7, 1.7e9 + 0.25]
    assert _download._csv_numbers(np.array([3, -4], np.int64)) == ["3", "-4"]
    assert _download._csv_numbers(np.empty(0)) == []
