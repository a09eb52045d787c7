//! CPU feature tokens: values that can only be obtained by detecting an instruction set
//! on the running CPU, so a kernel taking one by value may use that instruction set
//! without trusting its caller. Every kernel compiled with `#[target_feature]` in this
//! crate is reached only through a safe function that takes one of these tokens.

/// Proof that the running CPU supports AVX2 and FMA (x86-64 only).
///
/// The only constructor is [`Avx2Fma::detect`]; kernels compiled with
/// `#[target_feature(enable = "avx2,fma")]` take the token as an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct Avx2Fma {
    _private: (),
}

impl Avx2Fma {
    /// The token when the CPU has AVX2 and FMA; `None` on other CPUs and architectures.
    /// Detection is cached by the standard library after the first call.
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some(Self { _private: () });
        }
        None
    }
}

/// Proof that the running CPU supports AVX2 (x86-64 only).
///
/// The speech detector's kernels need AVX2 alone: they do no fused multiply-add, so that
/// their results are bit-identical to the portable build. The only constructor is
/// [`Avx2::detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct Avx2 {
    _private: (),
}

impl Avx2 {
    /// The token when the CPU has AVX2; `None` on other CPUs and architectures.
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            return Some(Self { _private: () });
        }
        None
    }
}
