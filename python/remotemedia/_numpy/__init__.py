"""The built-in audio nodes' CPython (numpy) implementations.

They run inside the engine like any Python node: for
``Pipeline.run(use_rust=False)`` / ``process(..., use_rust=False)``, for
nodes built with ``runtime_hint="python"``, and for direct calls of such
nodes. Their params come from the engine's own definition (see
``remotemedia._runtime.resolve_params``). Against the native kernels:

- ``convert``: bit-exact.
- ``resample``: a Kaiser-windowed sinc polyphase resampler with the native
  node's contract (exact length, delay compensated); a different filter, so
  samples agree within 1e-3 (max abs) away from the clip's edges, not bit
  for bit (``tests/test_audio_nodes.py``).
- ``vad``: energy mode is exact (same frames, decisions, segments); speech
  mode is a simpler approximation (see its docstring) that agrees with the
  native detector on speech in silence and light noise only.
"""
