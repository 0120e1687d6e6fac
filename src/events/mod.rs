//! Meaning: event recordings, their time index and windows.

pub mod enumerate;
mod error;
pub mod layout;
pub mod rate;
pub mod recording;
pub mod time_index;
pub mod time_spec;
pub mod window;

pub use error::EventsError;
pub use layout::{LayoutKind, LayoutOverrides, LayoutPaths};
pub use recording::{Recording, RecordingInfo, Summary};
pub use time_spec::{TimeForm, TimeSpec};
pub use window::{ColumnTypes, EventBatch, Window, WindowDigest, WindowReader};
