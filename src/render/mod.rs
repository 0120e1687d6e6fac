//! Pixels: a window's events counted per pixel and polarity (with each pixel's latest time and
//! a point sample for the x-y-t cloud). The page uploads these counts to WebGL; `strobe export
//! --out x.png` colours them on the CPU with the same formulas.

pub mod frame;

pub use frame::{Frame, MAX_POINTS};
