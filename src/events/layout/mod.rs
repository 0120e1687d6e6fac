//! Recording layouts: where a file keeps its events, time index, offset and sensor size.
//!
//! Each dataset family is one declarative [`LayoutSpec`] in [`families::LAYOUTS`]; this module
//! is the machinery that matches a file against them and resolves the chosen family's paths.

use serde::Serialize;

use crate::hdf5::file::Object;
use crate::hdf5::{DatasetInfo, H5File};

pub mod families;

pub use families::LAYOUTS;

/// Where a family keeps its four event columns.
#[derive(Debug, Clone, Copy)]
pub enum EventsAt {
    /// One group holding `x, y, t, p` datasets.
    Group(&'static str),
    /// One such group per camera: `<prefix><camera>` (M3ED's `/prophesee/left`).
    CameraGroup(&'static str),
    /// One 2-D table per camera, `<prefix><camera><suffix>`, with the x, y, t, p columns at
    /// these indexes (MVSEC's N×4 float64 tables).
    CameraTable {
        prefix: &'static str,
        suffix: &'static str,
        columns: [u64; 4],
    },
    /// Compound records with members `x, y, p, t` (Prophesee's `/CD/events`).
    Records(&'static str),
    /// Any group holding `x, y, t, p`: these first, else the first found.
    AnyGroup(&'static [&'static str]),
}

/// Where ms 0 of a family's millisecond table lies in `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBase {
    /// At t = 0 (DSEC's `ms_to_idx`).
    Zero,
    /// At the first event (M3ED's `ms_map_idx`): finding it is one read of `t`.
    FirstEvent,
}

/// Where the sensor size comes from when the file has no width/height datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensor {
    /// The family's camera (DSEC: 640×480).
    Known(u32, u32),
    /// A root attribute `"WIDTHxHEIGHT"` (Prophesee's `geometry`).
    Attribute(&'static str),
    /// Largest x and y seen in the first rows, plus one.
    Scan,
}

/// What detection found in a file for one family, for its `matches` test.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub ms_index: Option<String>,
    pub t_offset: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
    /// HDF5 filter ids of the x column's dataset.
    pub x_filters: Vec<u16>,
}

/// One dataset family, declared: everything Strobe needs to know to read it.
#[derive(Debug)]
pub struct LayoutSpec {
    /// Its name, as `info`, the JSON and the page show it.
    pub name: &'static str,
    pub events: EventsAt,
    /// What else must hold for a file to be of this family (tried after `events` is found).
    pub matches: fn(&Found) -> bool,
    /// Candidate paths of the millisecond table, first existing wins; `{g}` is the events'
    /// group. Likewise `t_offset`, `width` and `height` (scalars).
    pub ms_index: &'static [&'static str],
    pub t_offset: &'static [&'static str],
    pub width: &'static [&'static str],
    pub height: &'static [&'static str],
    pub time_base: TimeBase,
    /// A table of `(id, ts)` samples of the events (Prophesee's `/CD/indexes`), used as the
    /// time index when there is no millisecond table.
    pub sampled_index: Option<&'static str>,
    /// Factor that turns stored float timestamps into microseconds (MVSEC stores seconds).
    pub float_t_scale: f64,
    pub sensor: Sensor,
}

impl LayoutSpec {
    /// The defaults of a group-of-columns family; entries override what differs.
    pub const GROUP: LayoutSpec = LayoutSpec {
        name: "",
        events: EventsAt::AnyGroup(&[]),
        matches: |_| true,
        ms_index: &["/ms_to_idx", "{g}/ms_to_idx", "{g}/ms_map_idx"],
        t_offset: &["/t_offset", "{g}/t_offset"],
        width: &["{g}/width", "/width"],
        height: &["{g}/height", "/height"],
        time_base: TimeBase::Zero,
        sampled_index: None,
        float_t_scale: 1.0,
        sensor: Sensor::Scan,
    };
}

/// A recording's family: a handle on its [`LayoutSpec`], compared and serialised by name.
#[derive(Clone, Copy)]
pub struct LayoutKind(&'static LayoutSpec);

impl LayoutKind {
    /// The family called `name` (as in [`families::LAYOUTS`]).
    pub fn named(name: &str) -> Option<Self> {
        LAYOUTS.iter().find(|s| s.name == name).map(LayoutKind)
    }

    pub fn spec(self) -> &'static LayoutSpec {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Sensor size of the camera the family used, when the file does not say.
    pub fn known_sensor(self) -> Option<(u32, u32)> {
        match self.0.sensor {
            Sensor::Known(w, h) => Some((w, h)),
            _ => None,
        }
    }

    /// Factor that turns stored float timestamps into microseconds.
    pub fn float_t_scale(self) -> f64 {
        self.0.float_t_scale
    }

    pub fn time_base(self) -> TimeBase {
        self.0.time_base
    }
}

impl PartialEq for LayoutKind {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for LayoutKind {}

impl std::fmt::Debug for LayoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name)
    }
}

impl std::fmt::Display for LayoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name)
    }
}

impl Serialize for LayoutKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

/// Which part of a dataset a column path names: `/a/events` (whole), `/davis/left/events[:,2]`
/// (column 2 of a 2-D table) or `/CD/events[t]` (member `t` of compound records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Whole,
    Column(u64),
    Member(String),
}

/// Splits a column path into its dataset path and the part of each row it names.
pub fn split_part(path: &str) -> (&str, Part) {
    let Some(inner) = path.strip_suffix(']') else {
        return (path, Part::Whole);
    };
    let Some(open) = inner.rfind('[') else {
        return (path, Part::Whole);
    };
    let (dataset, spec) = (&inner[..open], inner[open + 1..].trim());
    match spec.strip_prefix(':') {
        Some(rest) => match rest.trim_start().strip_prefix(',').map(str::trim) {
            Some(k) => match k.parse() {
                Ok(k) => (dataset, Part::Column(k)),
                Err(_) => (path, Part::Whole),
            },
            None => (path, Part::Whole),
        },
        None if !spec.is_empty() => (dataset, Part::Member(spec.to_string())),
        None => (path, Part::Whole),
    }
}

/// Dataset paths of a recording; any of them can be given explicitly to override detection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LayoutPaths {
    pub x: String,
    pub y: String,
    pub t: String,
    pub p: String,
    /// Millisecond → first event index table (`ms_to_idx`, M3ED's `ms_map_idx`).
    pub ms_index: Option<String>,
    pub t_offset: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
}

/// Explicit overrides from the user (`--x /a/b ...`, `--camera right`).
#[derive(Debug, Clone, Default)]
pub struct LayoutOverrides {
    pub x: Option<String>,
    pub y: Option<String>,
    pub t: Option<String>,
    pub p: Option<String>,
    pub ms_index: Option<String>,
    pub t_offset: Option<String>,
    pub camera: Option<String>,
}

/// Groups holding all four event columns.
fn event_groups(objects: &[Object]) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for o in objects.iter().filter(|o| o.dataset.is_none()) {
        let has = |name: &str| dataset_at(objects, &format!("{}/{name}", o.path)).is_some();
        if ["x", "y", "t", "p"].iter().all(|n| has(n)) {
            groups.push(o.path.clone());
        }
    }
    groups
}

pub fn dataset_at<'a>(objects: &'a [Object], path: &str) -> Option<&'a DatasetInfo> {
    objects
        .iter()
        .find(|o| o.path == path)
        .and_then(|o| o.dataset.as_ref())
}

/// Where a file's default columns were found.
#[derive(Debug, Clone)]
enum Located {
    /// A group holding `x, y, t, p` datasets.
    Group(String),
    /// A 2-D table and the columns of x, y, t, p in it.
    Table(String, [u64; 4]),
    /// Compound records.
    Records(String),
}

impl Located {
    fn column(&self, name: &str) -> String {
        match self {
            Located::Group(g) => format!("{g}/{name}"),
            Located::Table(t, columns) => {
                let k = ["x", "y", "t", "p"]
                    .iter()
                    .position(|n| *n == name)
                    .map_or(0, |i| columns[i]);
                format!("{t}[:,{k}]")
            }
            Located::Records(r) => format!("{r}[{name}]"),
        }
    }

    /// What `{g}` stands for in a family's candidate paths.
    fn group(&self) -> &str {
        match self {
            Located::Group(g) => g,
            Located::Table(t, _) | Located::Records(t) => t.rsplit_once('/').map_or("", |(g, _)| g),
        }
    }
}

/// Compound records with x, y, p and t members at `path`.
fn has_records(objects: &[Object], path: &str) -> bool {
    dataset_at(objects, path).is_some_and(|d| {
        ["x", "y", "p", "t"]
            .iter()
            .all(|n| d.members.iter().any(|m| m.name == *n))
    })
}

impl EventsAt {
    /// Every camera this place holds in `objects`, in file order.
    fn cameras(&self, objects: &[Object]) -> Vec<String> {
        match *self {
            EventsAt::CameraGroup(prefix) => event_groups(objects)
                .into_iter()
                .filter_map(|g| g.strip_prefix(prefix).map(str::to_string))
                .filter(|c| !c.contains('/'))
                .collect(),
            EventsAt::CameraTable { prefix, suffix, .. } => objects
                .iter()
                .filter(|o| {
                    o.dataset
                        .as_ref()
                        .is_some_and(|d| d.shape.len() == 2 && d.shape[1] >= 4)
                })
                .filter_map(|o| {
                    let camera = o.path.strip_prefix(prefix)?.strip_suffix(suffix)?;
                    (!camera.contains('/')).then(|| camera.to_string())
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The events of `camera`, when this place has cameras and that one is in the file.
    fn camera(&self, objects: &[Object], camera: &str) -> Option<Located> {
        if !self.cameras(objects).iter().any(|c| c == camera) {
            return None;
        }
        match *self {
            EventsAt::CameraGroup(prefix) => Some(Located::Group(format!("{prefix}{camera}"))),
            EventsAt::CameraTable {
                prefix,
                suffix,
                columns,
            } => Some(Located::Table(format!("{prefix}{camera}{suffix}"), columns)),
            _ => None,
        }
    }

    /// The default events of this place in `objects` (the left camera where there are several).
    fn locate(&self, objects: &[Object]) -> Option<Located> {
        match *self {
            EventsAt::Group(g) => event_groups(objects)
                .iter()
                .any(|x| x == g)
                .then(|| Located::Group(g.to_string())),
            EventsAt::CameraGroup(_) | EventsAt::CameraTable { .. } => {
                let cameras = self.cameras(objects);
                let camera = cameras.iter().find(|c| *c == "left").or(cameras.first())?;
                self.camera(objects, camera)
            }
            EventsAt::Records(r) => {
                has_records(objects, r).then(|| Located::Records(r.to_string()))
            }
            EventsAt::AnyGroup(preferred) => {
                let groups = event_groups(objects);
                preferred
                    .iter()
                    .map(|g| g.to_string())
                    .find(|g| groups.contains(g))
                    .or_else(|| groups.first().cloned())
                    .map(Located::Group)
            }
        }
    }
}

/// Cameras available (M3ED's and MVSEC's left/right), for choosing and for messages.
pub fn cameras(objects: &[Object]) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for spec in LAYOUTS {
        for c in spec.events.cameras(objects) {
            if !all.contains(&c) {
                all.push(c);
            }
        }
    }
    all
}

/// The camera a recording's columns belong to (`/prophesee/<camera>/t`,
/// `/davis/<camera>/events[:,2]`), if it is one of several.
pub fn camera_of(paths: &LayoutPaths) -> Option<String> {
    let (t, _) = split_part(&paths.t);
    LAYOUTS
        .iter()
        .find_map(|spec| match spec.events {
            EventsAt::CameraGroup(prefix) => t.strip_prefix(prefix)?.strip_suffix("/t"),
            EventsAt::CameraTable { prefix, suffix, .. } => {
                t.strip_prefix(prefix)?.strip_suffix(suffix)
            }
            _ => None,
        })
        .filter(|c| !c.contains('/'))
        .map(str::to_string)
}

/// Picks the layout and its dataset paths from the object list: the first family of
/// [`LAYOUTS`] whose events are in the file and whose `matches` holds.
pub fn detect(
    file: &H5File,
    objects: &[Object],
    overrides: &LayoutOverrides,
) -> Result<(LayoutKind, LayoutPaths), super::EventsError> {
    detect_in(LAYOUTS, file, objects, overrides)
}

/// [`detect`] against another table of families (a test's made-up ones).
pub fn detect_in(
    layouts: &'static [LayoutSpec],
    file: &H5File,
    objects: &[Object],
    overrides: &LayoutOverrides,
) -> Result<(LayoutKind, LayoutPaths), super::EventsError> {
    let what = file.what().to_string();
    let mut candidates: Vec<(&'static LayoutSpec, Located)> = Vec::new();
    match &overrides.camera {
        Some(camera) => {
            candidates.extend(
                layouts
                    .iter()
                    .filter_map(|spec| Some((spec, spec.events.camera(objects, camera)?))),
            );
            if candidates.is_empty() {
                return Err(super::EventsError::NoCamera {
                    what,
                    camera: camera.clone(),
                    available: cameras(objects).join(", "),
                });
            }
        }
        None => candidates.extend(
            layouts
                .iter()
                .filter_map(|spec| Some((spec, spec.events.locate(objects)?))),
        ),
    }
    let explicit = overrides.x.is_some()
        && overrides.y.is_some()
        && overrides.t.is_some()
        && overrides.p.is_some();
    if candidates.is_empty() && explicit {
        if let Some(generic) = layouts.last() {
            candidates.push((generic, Located::Group(String::new())));
        }
    }
    let exists = |p: &str| dataset_at(objects, p).is_some();
    for (spec, at) in candidates {
        let col = |name: &str, o: &Option<String>| o.clone().unwrap_or_else(|| at.column(name));
        let mut paths = LayoutPaths {
            x: col("x", &overrides.x),
            y: col("y", &overrides.y),
            t: col("t", &overrides.t),
            p: col("p", &overrides.p),
            ..Default::default()
        };
        // A damaged candidate is never skipped as "absent": that would silently change the
        // layout, the offset or the sensor. Its damage is the answer instead.
        let first_existing = |cands: &[&str]| -> Result<Option<String>, super::EventsError> {
            for c in cands.iter().map(|c| c.replace("{g}", at.group())) {
                if let Some(damage) = damage_at(objects, &c) {
                    return Err(super::EventsError::Format(damage));
                }
                if exists(&c) {
                    return Ok(Some(c));
                }
            }
            Ok(None)
        };
        paths.ms_index = first_existing(spec.ms_index)?;
        paths.t_offset = first_existing(spec.t_offset)?;
        paths.width = first_existing(spec.width)?;
        paths.height = first_existing(spec.height)?;
        let found = Found {
            ms_index: paths.ms_index.clone(),
            t_offset: paths.t_offset.clone(),
            width: paths.width.clone(),
            height: paths.height.clone(),
            x_filters: dataset_at(objects, split_part(&paths.x).0)
                .map(|d| d.filters.iter().map(|f| f.id).collect())
                .unwrap_or_default(),
        };
        if !(spec.matches)(&found) {
            continue;
        }
        for p in [&paths.x, &paths.y, &paths.t, &paths.p] {
            if let Some(damage) = damage_at(objects, split_part(p).0) {
                return Err(super::EventsError::Format(damage));
            }
            if !exists(split_part(p).0) {
                return Err(super::EventsError::BadColumn {
                    what,
                    path: p.clone(),
                    reason: "no such dataset".into(),
                });
            }
        }
        if let Some(p) = &overrides.ms_index {
            paths.ms_index = Some(p.clone());
        }
        if let Some(p) = &overrides.t_offset {
            paths.t_offset = Some(p.clone());
        }
        return Ok((LayoutKind(spec), paths));
    }
    // No events found: if the file is damaged somewhere, that is the likelier reason.
    match objects.iter().find_map(|o| o.damaged.clone()) {
        Some(damage) => Err(super::EventsError::Format(damage)),
        None => Err(super::EventsError::NoEvents { what }),
    }
}

/// The damage recorded for the object at `path`, if its header could not be read.
fn damage_at(objects: &[Object], path: &str) -> Option<crate::hdf5::Hdf5Error> {
    objects
        .iter()
        .find(|o| o.path == path)
        .and_then(|o| o.damaged.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_paths_name_their_part() {
        assert_eq!(split_part("/events/t"), ("/events/t", Part::Whole));
        assert_eq!(
            split_part("/davis/left/events[:,2]"),
            ("/davis/left/events", Part::Column(2))
        );
        assert_eq!(
            split_part("/davis/left/events[: , 3]"),
            ("/davis/left/events", Part::Column(3))
        );
        assert_eq!(
            split_part("/CD/events[t]"),
            ("/CD/events", Part::Member("t".into()))
        );
        // Not a part: left as a (strange) dataset name.
        assert_eq!(split_part("/a[]"), ("/a[]", Part::Whole));
        assert_eq!(split_part("/a[:,x]"), ("/a[:,x]", Part::Whole));
    }

    #[test]
    fn cameras_come_from_column_paths() {
        let paths = |t: &str| LayoutPaths {
            t: t.into(),
            ..Default::default()
        };
        assert_eq!(
            camera_of(&paths("/prophesee/right/t")).as_deref(),
            Some("right")
        );
        assert_eq!(
            camera_of(&paths("/davis/left/events[:,2]")).as_deref(),
            Some("left")
        );
        assert_eq!(camera_of(&paths("/events/t")), None);
    }
}
