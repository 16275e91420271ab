"""The offline side: letters in, a searchable index out (load → clean → letter → chunk → embed → store)."""
