"""Without the native runtime: same API, numpy implementations, one warning."""

from __future__ import annotations

import textwrap

from conftest import run_python

SCRIPT = textwrap.dedent(
    """
    import asyncio, warnings
    import numpy as np
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        import remotemedia
        from remotemedia import (AudioResampleNode, FormatConverterNode, VADNode, Pipeline,
                                 MultiplyNode, AddNode, NativeRuntimeUnavailableError)
        assert not remotemedia.is_rust_runtime_available()
        r = AudioResampleNode(target_sample_rate=16000)
        v = VADNode(energy_threshold=0.02)
        c = FormatConverterNode(target_format="i16")
        x = np.zeros(48000, dtype=np.float32)
        assert r.process((x, 48000))[0].shape == (16000,)
        assert v.process((x, 48000))[2]["is_speech"] is False
        assert c.process((x, 48000))[0].dtype == np.int16
        p = Pipeline([MultiplyNode(factor=2), AddNode(addend=10)])
        assert asyncio.run(p.run([1, 2, 3])) == [12, 14, 16]
        try:
            VADNode(runtime_hint="rust")
        except NativeRuntimeUnavailableError as e:
            assert "runtime_hint='rust'" in str(e), e
        else:
            raise AssertionError("runtime_hint='rust' must fail without the extension")
    fallback = [w for w in caught if issubclass(w.category, RuntimeWarning) and "pure Python" in str(w.message)]
    assert len(fallback) == 1, [str(w.message) for w in caught]
    print("ok")
    """
)


def test_fallback_without_native_warns_once() -> None:
    result = run_python(SCRIPT, REMOTEMEDIA_DISABLE_NATIVE="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_remotemedia_runtime_needs_the_extension() -> None:
    ok = run_python("import remotemedia_runtime; print(remotemedia_runtime.__version__)")
    assert ok.returncode == 0 and ok.stdout.strip(), ok.stderr
