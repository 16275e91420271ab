"""replyqa's pieces offered to other frameworks (today: a llama-index retriever)."""
