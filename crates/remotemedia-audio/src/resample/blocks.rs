//! How the kernels group taps and outputs: the filter design rounds lengths to these, and
//! the kernels rely on them.

/// Taps are computed in groups of this many lanes (two 8-wide vectors).
pub(super) const TAP_BLOCK: usize = 16;
/// Taps per branch of the dot-product kernels come in multiples of this (a last half
/// [`TAP_BLOCK`] runs on one vector).
pub(super) const TAP_GRAIN: usize = 8;
/// Outputs per tile of the tiled kernels (five 8-lane vectors).
pub(super) const TILE: usize = 40;
/// Taps per branch phase of the tiled kernels come in multiples of this (8 lanes x 4
/// coefficients held in registers).
pub(super) const TILE_TAPS: usize = 32;
