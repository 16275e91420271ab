"""Questions in, cited answers out. `pipeline` is the one path every question takes:

    conversation → question → retrieve → letter_fields | evidence (candidates, signals,
    features, calibration) → extractive / listing, or llm/ → answer (citation)

`facts` checks what an LLM writes against its sources; `spans` cuts text into quotable sentences;
`vocab/` and `model/` are data (word lists, the fitted answer model).
"""
