"""The online side: questions in, cited answers out (chat → retrieve → answer → citation), plus the CLI and page."""
