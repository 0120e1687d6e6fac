//! Format: reading HDF5 datasets through a [`crate::source::RangeSource`].
pub mod filters;
