"""``remotemedia.convert_samples``: values, ``out=`` and its errors; the
nodes' numpy implementation against it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import remotemedia
from remotemedia import convert_samples
from remotemedia._numpy import convert as numpy_convert


@pytest.fixture
def path() -> Iterator[str]:
    """The native kernels (the only implementation of ``convert_samples``;
    the numpy one of the nodes is compared in
    ``test_numpy_implementation_is_bit_exact``)."""
    assert remotemedia.is_rust_runtime_available()
    yield "native"


def pcm(n: int = 10_001) -> np.ndarray:
    return np.random.default_rng(5).integers(-32768, 32768, n).astype(np.int16)


def floats(n: int = 10_001) -> np.ndarray:
    x = np.random.default_rng(6).standard_normal(n).astype(np.float32) * np.float32(0.6)
    x[:6] = [1.0, -1.0, 1.5, np.nan, np.inf, 0.5 / 32768]
    return x


def test_values_match_the_documented_arithmetic(path: str) -> None:
    a = pcm()
    np.testing.assert_array_equal(convert_samples(a, "f32"), a.astype(np.float32) / np.float32(32768))
    f = floats()
    expected = np.rint(np.clip(np.nan_to_num(f * np.float32(32768), nan=0.0), -32768, 32767)).astype(np.int16)
    got = convert_samples(f, "i16")
    np.testing.assert_array_equal(got, expected)
    assert got[:6].tolist() == [32767, -32768, 32767, 0, 32767, 0]


def test_out_receives_the_result_and_is_returned(path: str) -> None:
    a = pcm().reshape(1, -1)
    out = np.full(a.shape, 7.0, dtype=np.float32)
    assert convert_samples(a, "f32", out=out) is out
    np.testing.assert_array_equal(out, convert_samples(a, "f32"))
    f = floats()
    out16 = np.zeros(f.shape, dtype=np.int16)
    assert convert_samples(f, "i16", out=out16) is out16
    np.testing.assert_array_equal(out16, convert_samples(f, "i16"))
    same = np.zeros(a.shape, dtype=np.int16)
    assert convert_samples(a, "i16", out=same) is same
    np.testing.assert_array_equal(same, a)


def test_same_format_without_out_returns_the_input(path: str) -> None:
    a = pcm()
    assert convert_samples(a, "i16") is a


def test_non_contiguous_and_byte_swapped_samples_are_converted(path: str) -> None:
    a = pcm()
    np.testing.assert_array_equal(convert_samples(a[::2], "f32"), a[::2] / np.float32(32768))
    swapped = a.astype(">i2")
    np.testing.assert_array_equal(convert_samples(swapped, "f32"), a / np.float32(32768))


def test_out_of_the_wrong_dtype_is_a_type_error(path: str) -> None:
    with pytest.raises(TypeError, match=r"out: dtype float64 does not match target_format 'f32': expected float32"):
        convert_samples(pcm(), "f32", out=np.zeros(10_001))
    with pytest.raises(TypeError, match="out: expected a numpy array, got list"):
        convert_samples(pcm(3), "f32", out=[0.0, 0.0, 0.0])  # type: ignore[arg-type]


def test_out_of_the_wrong_shape_is_a_value_error(path: str) -> None:
    with pytest.raises(ValueError, match=r"out: shape \(10000,\) does not match the shape of samples \(10001,\)"):
        convert_samples(pcm(), "f32", out=np.zeros(10_000, np.float32))
    with pytest.raises(ValueError, match="out: shape"):
        convert_samples(pcm(), "f32", out=np.zeros((1, 10_001), np.float32))


def test_non_contiguous_out_is_a_value_error(path: str) -> None:
    out = np.zeros(20_002, np.float32)[::2]
    with pytest.raises(ValueError, match="out: must be a C-contiguous array"):
        convert_samples(pcm(), "f32", out=out)


def test_read_only_out_is_a_value_error(path: str) -> None:
    out = np.zeros(10_001, np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out: array is read-only"):
        convert_samples(pcm(), "f32", out=out)
    assert not out.any()


def test_out_sharing_memory_with_samples_is_a_value_error(path: str) -> None:
    buf = np.zeros(10_001, np.float32)
    with pytest.raises(ValueError, match="out: must not share memory with samples"):
        convert_samples(buf, "f32", out=buf)
    with pytest.raises(ValueError, match="out: must not share memory with samples"):
        convert_samples(buf, "i32", out=buf.view(np.int32))


def test_bad_samples_and_format_are_clear_errors(path: str) -> None:
    with pytest.raises(TypeError, match="samples: dtype float64 is not supported"):
        convert_samples(np.zeros(4), "i16")
    with pytest.raises(ValueError, match="target_format: expected 'f32', 'i16' or 'i32', got 'u8'"):
        convert_samples(pcm(4), "u8")


def test_numpy_implementation_is_bit_exact() -> None:
    ints32 = np.random.default_rng(7).integers(-(2**31), 2**31, 10_001).astype(np.int32)
    for samples in (pcm(), floats(), ints32):
        for target in ("f32", "i16", "i32"):
            np.testing.assert_array_equal(numpy_convert.convert(samples, target), convert_samples(samples, target))
