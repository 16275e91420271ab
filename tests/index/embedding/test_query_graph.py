"""The question encoder's layers as an onnxruntime graph compute what the numpy layers compute
(both GELUs, on random weights where they differ), and a damaged graph file is written again
rather than trusted. The real model's vectors against torch are in test_query_encoder.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embedding.query_encoder import EncoderLayer, EncoderWeights, QueryEncoder, Shape
from index.embedding.query_graph import build_graph, graph_path


def _random_model(rng: np.random.Generator, hidden: int = 16, heads: int = 4, ffn: int = 32,
                  layers: int = 2) -> EncoderWeights:
    def pair(out: int, inp: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        weight = rng.normal(0, 0.6, (out, inp) if inp else out).astype(np.float32)
        return (weight if inp else (1 + weight)).astype(np.float32), rng.normal(0, 0.3, out).astype(np.float32)

    return EncoderWeights(
        word=np.zeros((1, hidden), np.float32), position=np.zeros((1, hidden), np.float32),
        type0=np.zeros(hidden, np.float32), norm=pair(hidden),
        layers=[EncoderLayer(pair(hidden, hidden), pair(hidden, hidden), pair(hidden, hidden), pair(hidden, hidden),
                             pair(ffn, hidden), pair(hidden, ffn), pair(hidden), pair(hidden)) for _ in range(layers)],
    )


def _shape(tanh: bool) -> Shape:
    return Shape(model_type="bert", layers=2, hidden=16, heads=4, eps=1e-12, tanh_gelu=tanh, position_offset=0,
                 max_tokens=8, query_prompt="", document_prompt="")


def _numpy_layers(weights: EncoderWeights, shape: Shape, x: np.ndarray) -> np.ndarray:
    encoder = object.__new__(QueryEncoder)  # only the layers: no folder, no tokenizer
    encoder.shape, encoder._weights = shape, weights
    return encoder._layers(x)


@pytest.mark.parametrize("tanh", [False, True])
def test_the_graph_computes_the_numpy_layers(tanh: bool) -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    weights = _random_model(rng)
    shape = _shape(tanh)
    session = ort.InferenceSession(build_graph(weights, shape), providers=["CPUExecutionProvider"])
    for tokens in (1, 2, 7):
        x = rng.normal(0, 1, (tokens, 16)).astype(np.float32)
        got = session.run(["out"], {"hidden": x})[0]
        np.testing.assert_allclose(got, _numpy_layers(weights, shape, x), atol=2e-5)
    other = _numpy_layers(weights, _shape(not tanh), x)
    assert np.abs(got - other).max() > 1e-4, "the two GELUs differ here: a wrong branch would show"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "another model's graph"])
def test_a_damaged_graph_file_is_written_again(export_dir: Path, tmp_path: Path, damage: str) -> None:
    first = QueryEncoder(export_dir, graph_cache=tmp_path)
    path = graph_path(tmp_path, export_dir, first.shape)
    vector = first.encode("农村公路养护资金怎么安排的？")
    if damage == "garbage":
        path.write_bytes(b"\x00not a graph" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_bytes(build_graph(_random_model(np.random.default_rng(1), hidden=384, heads=12, ffn=1536,
                                                   layers=first.shape.layers), first.shape))
    again = QueryEncoder(export_dir, graph_cache=tmp_path)
    assert again.engine == "onnxruntime"
    np.testing.assert_allclose(again.encode("农村公路养护资金怎么安排的？"), vector, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left behind"
