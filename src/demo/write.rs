//! Writing the demo recording with libhdf5 (`hdf5-metno`), DSEC layout.

use std::path::Path;

use hdf5_metno as h5;

use super::scene::Events;
use super::{CHUNK, DEFLATE_LEVEL, EVENTS_ATTR, T_OFFSET_US, VERSION, VERSION_ATTR};

fn err<'a>(what: &str, path: &'a Path) -> impl Fn(h5::Error) -> String + 'a {
    let what = what.to_string();
    move |e| format!("{}: {what}: {e}", path.display())
}

/// One chunked, shuffled, deflated 1-D dataset.
fn column<T: h5::H5Type>(
    group: &h5::Group,
    name: &str,
    data: &[T],
    path: &Path,
) -> Result<(), String> {
    let chunk = CHUNK.min(data.len()).max(1);
    group
        .new_dataset_builder()
        .chunk(chunk)
        .shuffle()
        .deflate(DEFLATE_LEVEL)
        .obj_track_times(false)
        .with_data(data)
        .create(name)
        .map_err(err(&format!("write {name}"), path))?;
    Ok(())
}

/// Writes `events` to a new file at `path` (replacing any file there).
pub fn write_recording(path: &Path, events: &Events) -> Result<(), String> {
    let file = h5::File::create(path).map_err(err("create", path))?;
    let group = file.create_group("events").map_err(err("group", path))?;
    column(&group, "x", &events.x, path)?;
    column(&group, "y", &events.y, path)?;
    column(&group, "t", &events.t, path)?;
    column(&group, "p", &events.p, path)?;
    let root = file.group("/").map_err(err("root", path))?;
    column(&root, "ms_to_idx", &events.ms_to_idx(), path)?;
    file.new_dataset::<i64>()
        .obj_track_times(false)
        .create("t_offset")
        .and_then(|d| d.write_scalar(&T_OFFSET_US))
        .map_err(err("write t_offset", path))?;
    file.new_attr::<u32>()
        .create(VERSION_ATTR)
        .and_then(|a| a.write_scalar(&VERSION))
        .map_err(err("write version", path))?;
    file.new_attr::<u64>()
        .create(super::EVENTS_ATTR)
        .and_then(|a| a.write_scalar(&(events.len() as u64)))
        .map_err(err("write event count", path))?;
    file.close().map_err(err("close", path))
}

/// The event count of a complete demo file of the current version, or why it is not one.
pub fn read_stamp(path: &Path) -> Result<u64, String> {
    let file = h5::File::open(path).map_err(err("open", path))?;
    let version: u32 = file
        .attr(VERSION_ATTR)
        .and_then(|a| a.read_scalar())
        .map_err(err("version", path))?;
    if version != VERSION {
        return Err(format!(
            "{}: demo version {version}, current {VERSION}",
            path.display()
        ));
    }
    let events: u64 = file
        .attr(EVENTS_ATTR)
        .and_then(|a| a.read_scalar())
        .map_err(err("event count", path))?;
    for name in ["events/x", "events/y", "events/t", "events/p"] {
        let ds = file.dataset(name).map_err(err(name, path))?;
        if ds.shape() != [events as usize] {
            return Err(format!(
                "{}: {name} has shape {:?}",
                path.display(),
                ds.shape()
            ));
        }
    }
    file.dataset("ms_to_idx").map_err(err("ms_to_idx", path))?;
    file.dataset("t_offset").map_err(err("t_offset", path))?;
    Ok(events)
}
