"""Pure-Python (numpy) implementations of the audio nodes, used when the
native runtime is missing, for ``runtime_hint="python"`` and for
``Pipeline.run(use_rust=False)``.

- ``convert``: bit-exact with the native converter.
- ``resample``: a Kaiser-windowed sinc polyphase resampler with the native
  node's contract (exact length, delay compensated); a different filter, so
  samples agree within a stated tolerance, not bit for bit.
- ``vad``: energy mode is exact (same frames, decisions, segments); speech
  mode is a simpler approximation (see its docstring).
"""
