"""One call in progress: the engine, the use cases, and what happened (the transcript)."""
