"""Storage: Chroma holds the chunks and letter records (`chroma`, `connection`, `writes`, `reads`,
composed into `store.ChunkStore`; `records` is what they hold); `bm25` is the Chinese keyword
index derived from it."""
