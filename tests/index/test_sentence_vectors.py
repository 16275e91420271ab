"""Every sentence of an ingested letter is embedded once, stored with the letter, and read back
by the assistant's snapshot: the vectors the answer model compares questions with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from assistant.library import Library
from index.embedding.embedder import Embedder
from index.pipeline import ingest
from index.reading.letter import letter_id_for, parse_file
from index.sentence_vectors import PAYLOAD_KEY, SentenceVectors
from index.sentences import letter_sentences
from index.settings import Settings
from index.storage.store import ChunkStore
from index.tokenizer import ChineseTokenizer

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "letters"


def test_ingest_stores_every_sentence_vector_and_the_snapshot_reads_them(
    tmp_path: Path, embedder: Embedder, models_dir: Path
) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    source = SAMPLES / "lj-sl-2022-015.txt"
    shutil.copy(source, folder / source.name)
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir)
    store = ChunkStore.open(settings, model_id=embedder.model_id, dimension=embedder.dimension)
    report = ingest([folder], settings, store, embedder)
    assert report.count("added") == 1

    letter = parse_file(folder / source.name, letter_id_for(folder / source.name))
    spans = letter_sentences(letter)
    record = store.letter(letter.id)
    assert record is not None
    stored = SentenceVectors.from_json(json.loads(record.payload or "{}")[PAYLOAD_KEY])
    assert stored is not None
    assert [tuple(s) for s in stored.spans.tolist()] == spans
    norms = np.linalg.norm(stored.vectors.astype(np.float32), axis=1)
    assert np.allclose(norms, 1.0, atol=5e-3)
    # the stored vector is that sentence's own embedding, not its chunk's
    a, b = spans[len(spans) // 2]
    alone = embedder.embed_documents([letter.text[a:b]])[0]
    vector = stored.vector(a, b)
    assert vector is not None and float(vector @ alone) > 0.99

    library = Library(settings, store, ChineseTokenizer())
    snapshot = library.snapshot()
    read = snapshot.sentence_vectors(letter.id)
    assert read is not None and np.array_equal(read.spans, stored.spans)
    assert snapshot.letter(letter.id).text == letter.text  # the letter itself still reads whole
    assert snapshot.sentence_vectors("no-such-letter") is None
