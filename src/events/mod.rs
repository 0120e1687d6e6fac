//! Meaning: event recordings, their time index and windows.
