"""The call-flow language and its pure engine: YAML in (``loader``), an immutable ``Flow``
out (``model``), and ``(state, event) -> (state, actions)`` (``engine``). No I/O but the
loader's reading of the file (README.md)."""
