"""Reading letters: bytes → text (`load`) → the letter's own sentences (`clean`) → a `ReplyLetter`
with its fields and section tree (`letter`, `fields`, `outline`, `dates`)."""
