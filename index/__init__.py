"""The offline side: letters in, a searchable index out — `reading` (bytes → ReplyLetter), `chunk`,
`embedding`, `storage`, run in that order by `pipeline`."""
