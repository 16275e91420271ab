"""The Chroma store against a real embedded Chroma and a real Chroma server (no mocks).

Vectors are small deterministic unit vectors: these tests are about versioning and visibility,
not about the embedding model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from index.chunk import Chunk
from index.settings import Settings
from index.storage.records import LetterRecord, MetaValue, ModelMismatchError, StoreError
from index.storage.store import ChunkStore

DIM = 8
MODEL = "test-model"
REPO = Path(__file__).resolve().parents[3]


def unit_vectors(n: int, key: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    vectors = rng.normal(size=(n, DIM))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_chunks(letter_id: str, version: str, texts: Sequence[str]) -> list[Chunk]:
    chunks: list[Chunk] = []
    pos = 0
    for i, text in enumerate(texts):
        path = ["一", "（二）"] if i else []
        chunks.append(
            Chunk(
                letter_id=letter_id,
                version=version,
                ordinal=i,
                section_path=path,
                section_heading="推进5G网络建设" if i else "",
                paragraph=i,
                start=pos,
                end=pos + len(text),
                text=text,
                embed_text=f"关于{letter_id}的答复 {text}",
            )
        )
        pos += len(text) + 1
    return chunks


def make_record(
    letter_id: str, version: str, chunks: Sequence[Chunk], **fields: object
) -> LetterRecord:
    values: dict[str, object] = {
        "id": letter_id,
        "version": version,
        "source": f"/letters/{letter_id}.txt",
        "title": f"关于{letter_id}的答复",
        "issuer": "山东省工业和信息化厅",
        "date": "2020-08-28",
        "year": 2020,
        "channel": "NPC",
        "n_chunks": len(chunks),
        "content_hash": f"hash-{version}",
        "payload": json.dumps({"id": letter_id, "sections": []}, ensure_ascii=False),
        "text": "\n".join(c.text for c in chunks),
    }
    values.update(fields)
    return LetterRecord.model_validate(values)


def ingest(
    store: ChunkStore,
    letter_id: str,
    version: str,
    texts: Sequence[str],
    *,
    vectors: np.ndarray | None = None,
    meta: dict[str, MetaValue] | None = None,
    commit: bool = True,
) -> list[Chunk]:
    chunks = make_chunks(letter_id, version, texts)
    if vectors is None:
        vectors = unit_vectors(len(chunks), f"{letter_id}/{version}")
    letter_meta = meta or {"issuer": "山东省工业和信息化厅", "year": 2020, "channel": "NPC"}
    store.put_chunks(chunks, vectors, letter_meta=letter_meta)
    if commit:
        record = make_record(letter_id, version, chunks, **letter_meta)
        store.commit_letter(record, unit_vectors(1, f"{letter_id}/{version}/letter")[0])
    return chunks


def visible_ids(store: ChunkStore) -> list[str]:
    return [c.id for c in store.committed_chunks()]


@pytest.fixture
def store(store_settings: Settings) -> Iterator[ChunkStore]:
    with ChunkStore.open(store_settings, model_id=MODEL, dimension=DIM) as opened:
        yield opened


TEXTS = ["2019年全省共建成5G基站超1万个。", "加快5G网络建设。", "推进5G产业布局。"]


def test_commit_makes_letter_visible_with_all_fields(store: ChunkStore) -> None:
    chunks = ingest(store, "045", "v1", TEXTS)

    stored = store.committed_chunks()
    assert [c.id for c in stored] == [c.id for c in chunks]
    second = stored[1]
    assert second.id == "045::v1::0001"
    assert (second.letter_id, second.version, second.ordinal) == ("045", "v1", 1)
    assert second.section_path == ["一", "（二）"]
    assert stored[0].section_path == []
    assert second.section_heading == "推进5G网络建设"
    assert (second.start, second.end) == (chunks[1].start, chunks[1].end)
    assert second.text == TEXTS[1]
    assert second.embed_text == chunks[1].embed_text
    assert second.meta == {"issuer": "山东省工业和信息化厅", "year": 2020, "channel": "NPC"}

    [listed] = store.letters()
    assert listed.id == "045" and listed.version == "v1" and listed.text is None
    assert listed.n_chunks == 3 and listed.year == 2020 and listed.date == "2020-08-28"
    assert listed.payload is None, "the lean listing never reads the section trees"
    assert listed.committed_at > 0
    assert store.records()["045"].model_copy(update={"committed_at": 0}) == listed.model_copy(
        update={"committed_at": 0}
    )
    assert listed.chunk_ids() == [c.id for c in chunks]
    full = store.letter("045")
    assert full is not None and full.text == "\n".join(TEXTS)
    assert json.loads(full.payload or "") == {"id": "045", "sections": []}
    assert store.letters(with_text=True)[0].text == full.text
    assert [c.id for c in store.letter_chunks("045")] == [c.id for c in chunks]
    assert store.letter_chunks("none") == []
    found = store.find_by_source("/letters/045.txt")
    assert found is not None and found.id == "045"
    assert store.find_by_source("/letters/none.txt") is None
    assert store.letter("none") is None


def test_uncommitted_chunks_are_invisible(store: ChunkStore) -> None:
    ingest(store, "A", "v1", TEXTS)
    pending = ingest(store, "B", "v1", ["未提交的分块。", "另一个未提交的分块。"], commit=False)

    assert store.count_chunks() == 5
    assert all(c.letter_id == "A" for c in store.committed_chunks())
    hits = store.query(unit_vectors(2, "B/v1")[0], k=10)
    assert hits and all(chunk.letter_id == "A" for chunk, _ in hits)
    assert pending[0].id not in {chunk.id for chunk, _ in hits}
    assert [r.id for r in store.letters()] == ["A"]


def test_reput_same_version_does_not_duplicate(store: ChunkStore) -> None:
    ingest(store, "A", "v1", TEXTS, commit=False)
    ingest(store, "A", "v1", TEXTS)
    assert store.count_chunks("A") == 3
    assert len(visible_ids(store)) == 3


def test_new_version_replaces_old_after_commit_and_drop(store: ChunkStore) -> None:
    ingest(store, "A", "v1", TEXTS)
    ingest(store, "A", "v2", ["新版本第一段。", "新版本第二段。"], commit=False)
    assert visible_ids(store) == ["A::v1::0000", "A::v1::0001", "A::v1::0002"]

    with pytest.raises(StoreError):
        store.drop_stale_chunks("A", keep_version="v2")  # v1 is still the committed one

    ingest(store, "A", "v2", ["新版本第一段。", "新版本第二段。"])
    assert visible_ids(store) == ["A::v2::0000", "A::v2::0001"]
    assert store.drop_stale_chunks("A", keep_version="v2") == 3
    assert store.count_chunks("A") == 2
    assert store.drop_stale_chunks("A", keep_version="v2") == 0


def test_commit_refuses_a_partially_written_letter(store: ChunkStore) -> None:
    chunks = make_chunks("A", "v1", TEXTS)
    store.put_chunks(chunks[:2], unit_vectors(2, "A"))
    with pytest.raises(StoreError, match="应有 3 个分块"):
        store.commit_letter(make_record("A", "v1", chunks), unit_vectors(1, "A/letter")[0])
    assert store.letters() == []
    assert visible_ids(store) == []


def test_remove_letter(store: ChunkStore) -> None:
    ingest(store, "A", "v1", TEXTS)
    ingest(store, "B", "v1", ["另一封信。"])
    assert store.remove_letter("A") is True
    assert store.letter("A") is None
    assert store.count_chunks("A") == 0
    assert visible_ids(store) == ["B::v1::0000"]
    assert store.remove_letter("A") is False


def test_collect_garbage_removes_uncommitted_versions(store: ChunkStore) -> None:
    ingest(store, "A", "v1", TEXTS)
    ingest(store, "A", "v2", ["中断的新版本。"], commit=False)
    ingest(store, "B", "v1", ["中断的导入。", "中断的导入二。"], commit=False)
    assert store.collect_garbage() == 3
    assert store.count_chunks() == 3
    assert visible_ids(store) == ["A::v1::0000", "A::v1::0001", "A::v1::0002"]
    assert store.collect_garbage() == 0


def test_large_writes_are_batched_and_reads_paged(store: ChunkStore) -> None:
    store.max_batch_size = 7
    texts = [f"第{i}段内容。" for i in range(30)]
    ingest(store, "A", "v1", texts)
    ingest(store, "A", "v2", texts[:20])
    assert [c.ordinal for c in store.committed_chunks()] == list(range(20))
    assert store.drop_stale_chunks("A", keep_version="v2") == 30
    ingest(store, "B", "v1", texts, commit=False)
    assert store.collect_garbage() == 30
    assert store.count_chunks() == 20


def test_reset_empties_everything(store: ChunkStore) -> None:
    ingest(store, "A", "v1", TEXTS)
    store.reset()
    assert store.count_chunks() == 0
    assert store.letters() == []
    assert store.query(unit_vectors(1, "q")[0], k=5) == []
    ingest(store, "A", "v1", TEXTS)
    assert len(visible_ids(store)) == 3


def test_model_mismatch_is_refused_with_a_rebuild_hint(
    store: ChunkStore, store_settings: Settings
) -> None:
    ingest(store, "A", "v1", TEXTS)
    with pytest.raises(ModelMismatchError) as caught:
        ChunkStore.open(store_settings, model_id="other-model", dimension=DIM)
    message = str(caught.value)
    assert MODEL in message and "other-model" in message
    assert "replyqa ingest --rebuild <目录>" in message
    assert isinstance(caught.value, StoreError)

    with pytest.raises(ModelMismatchError, match="16 维"):
        ChunkStore.open(store_settings, model_id=MODEL, dimension=16)


def test_an_empty_index_adopts_a_new_model(store_settings: Settings) -> None:
    with ChunkStore.open(store_settings, model_id=MODEL, dimension=DIM) as first:
        ingest(first, "A", "v1", TEXTS)
        first.remove_letter("A")
    with ChunkStore.open(store_settings, model_id="bigger", dimension=16) as second:
        chunks = make_chunks("A", "v1", TEXTS)
        second.put_chunks(chunks, np.eye(16)[:3])
        second.commit_letter(make_record("A", "v1", chunks), np.eye(16)[0])
        assert len(second.committed_chunks()) == 3


def test_fingerprint_follows_visible_content(store: ChunkStore, store_settings: Settings) -> None:
    empty = store.fingerprint()
    ingest(store, "A", "v1", TEXTS, commit=False)
    assert store.fingerprint() == empty
    ingest(store, "A", "v1", TEXTS)
    one = store.fingerprint()
    assert one != empty
    ingest(store, "A", "v1", TEXTS)
    assert store.fingerprint() == one
    ingest(store, "A", "v2", TEXTS)
    two = store.fingerprint()
    assert two not in {empty, one}
    store.remove_letter("A")
    assert store.fingerprint() == empty

    ingest(store, "A", "v1", TEXTS)
    reopened = ChunkStore.open(store_settings, model_id=MODEL, dimension=DIM)
    try:
        assert reopened.fingerprint() == one
    finally:
        reopened.close()


def test_query_returns_cosine_similarity_in_order_with_filters(store: ChunkStore) -> None:
    def at(cos: float) -> np.ndarray:
        return np.array([cos, np.sqrt(1 - cos**2), 0, 0, 0, 0, 0, 0])

    jia = {"issuer": "甲厅", "year": 2020, "channel": "NPC"}
    yi = {"issuer": "乙局", "year": 2021, "channel": "CPPCC"}
    ingest(store, "A", "v1", ["甲一", "甲二"], vectors=np.stack([at(0.9), at(0.5)]), meta=jia)
    ingest(store, "B", "v1", ["乙一", "乙二"], vectors=np.stack([at(0.8), at(-0.2)]), meta=yi)
    # A stale, uncommitted chunk nearest of all must not show up.
    ingest(store, "B", "v2", ["乙新"], vectors=at(1.0)[None, :], meta=yi, commit=False)
    query = np.eye(DIM)[0]

    hits = store.query(query, k=10)
    assert [c.id for c, _ in hits] == ["A::v1::0000", "B::v1::0000", "A::v1::0001", "B::v1::0001"]
    assert [s for _, s in hits] == pytest.approx([0.9, 0.8, 0.5, -0.2], abs=1e-5)
    assert [c.id for c, _ in store.query(query, k=2)] == ["A::v1::0000", "B::v1::0000"]

    by_issuer = store.query(query, k=10, where={"issuer": "乙局"})
    assert [c.id for c, _ in by_issuer] == ["B::v1::0000", "B::v1::0001"]
    assert by_issuer[0][0].meta["issuer"] == "乙局"
    by_year = store.query(query, k=10, where={"year": {"$lte": 2020}})
    assert [c.id for c, _ in by_year] == ["A::v1::0000", "A::v1::0001"]
    both = store.query(query, k=10, where={"$and": [{"year": 2021}, {"channel": "NPC"}]})
    assert both == []


def test_bad_input_is_refused(store: ChunkStore) -> None:
    chunks = make_chunks("A", "v1", TEXTS)
    with pytest.raises(StoreError, match="向量形状"):
        store.put_chunks(chunks, unit_vectors(2, "x"))
    with pytest.raises(StoreError, match="重名"):
        store.put_chunks(chunks, unit_vectors(3, "x"), letter_meta={"version": "x"})
    with pytest.raises(StoreError, match="值必须"):
        store.put_chunks(chunks, unit_vectors(3, "x"), letter_meta={"date": None})  # type: ignore[dict-item]
    assert store.count_chunks() == 0


def test_chroma_never_computes_embeddings_itself(store: ChunkStore) -> None:
    """Chroma 1.5 would otherwise fall back to downloading its default ONNX model."""
    ingest(store, "A", "v1", TEXTS)
    collection = store._chunks
    with pytest.raises(StoreError):
        collection.query(query_texts=["5G基站"], n_results=1)
    with pytest.raises(StoreError):
        collection.add(ids=["x"], documents=["没有向量的文本"])


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from index.chunk import Chunk
    from index.settings import Settings
    from index.storage.records import LetterRecord
    from index.storage.store import ChunkStore

    store = ChunkStore.open(Settings(), model_id=sys.argv[1], dimension=int(sys.argv[2]))
    chunk = Chunk(letter_id="Z", version="v1", ordinal=0, section_path=[], section_heading="",
                  paragraph=0, start=0, end=4, text="别处写入", embed_text="别处写入")
    vector = np.zeros((1, int(sys.argv[2])))
    vector[0, 3] = 1.0
    store.put_chunks([chunk], vector, letter_meta={"issuer": "丙"})
    store.commit_letter(LetterRecord(id="Z", version="v1", source="z.txt", title="Z",
                                     n_chunks=1, text="别处写入"), vector[0])
    store.remove_letter("A")
    store.close()
    """
)


def test_refresh_sees_another_process(store: ChunkStore, store_settings: Settings) -> None:
    ingest(store, "A", "v1", TEXTS)
    query = np.eye(DIM)[3]
    assert store.query(query, k=1)[0][0].letter_id == "A"

    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "REPLYQA_DATA_DIR": str(store_settings.data_dir),
        "REPLYQA_COLLECTION": store_settings.collection,
        "REPLYQA_CHROMA_HOST": store_settings.chroma_host or "",
        "REPLYQA_CHROMA_PORT": str(store_settings.chroma_port),
    }
    subprocess.run(
        [sys.executable, "-c", WRITER, MODEL, str(DIM)], env=env, cwd=REPO, check=True, timeout=120
    )

    before = store.fingerprint()
    assert store.refresh() is True
    assert store.fingerprint() != before
    [(chunk, score)] = store.query(query, k=1)
    assert chunk.id == "Z::v1::0000" and score == pytest.approx(1.0, abs=1e-5)
    assert visible_ids(store) == ["Z::v1::0000"]
    assert store.refresh() is False
