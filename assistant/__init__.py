"""The online side: questions in, cited answers out. `ask/` answers (one pipeline for the
extractive and the LLM path), `library` is the index as the assistant sees it, `service` the one
object the page (`web/`) and the command line (`cli/`) share; `evaluation/` measures it all."""
