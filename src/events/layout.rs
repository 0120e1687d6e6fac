//! Recording layouts: where a file keeps its events, time index, offset and sensor size.

use serde::Serialize;

use crate::hdf5::file::Object;
use crate::hdf5::{DatasetInfo, H5File};

/// The event-camera dataset families Strobe recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutKind {
    Dsec,
    TumVie,
    Vector,
    M3ed,
    Rvt,
    /// MVSEC: `davis/{left,right}/events`, an N×4 float64 table [x, y, t s, p ±1].
    Mvsec,
    /// Prophesee Metavision HDF5: `/CD/events`, compound records {x, y, p, t}.
    Prophesee,
    Generic,
}

impl LayoutKind {
    /// Sensor size of the camera the dataset family used, when the file does not say.
    pub fn known_sensor(self) -> Option<(u32, u32)> {
        match self {
            LayoutKind::Dsec | LayoutKind::Vector => Some((640, 480)),
            LayoutKind::TumVie | LayoutKind::M3ed => Some((1280, 720)),
            LayoutKind::Mvsec => Some((346, 260)),
            LayoutKind::Rvt | LayoutKind::Prophesee | LayoutKind::Generic => None,
        }
    }

    /// Factor that turns stored float timestamps into microseconds (MVSEC stores seconds).
    pub fn float_t_scale(self) -> f64 {
        match self {
            LayoutKind::Mvsec => 1e6,
            _ => 1.0,
        }
    }
}

/// MVSEC's table columns, in its order [x, y, t, p].
const MVSEC_COLUMNS: [(&str, u64); 4] = [("x", 0), ("y", 1), ("t", 2), ("p", 3)];
/// Where Prophesee's Metavision files keep their CD events.
const PROPHESEE_EVENTS: &str = "/CD/events";

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

/// Groups holding all four event columns, as (group path, column names).
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

/// MVSEC cameras: `/davis/<camera>/events` tables of at least four columns.
fn mvsec_cameras(objects: &[Object]) -> Vec<String> {
    objects
        .iter()
        .filter(|o| {
            o.dataset
                .as_ref()
                .is_some_and(|d| d.shape.len() == 2 && d.shape[1] >= 4)
        })
        .filter_map(|o| {
            let camera = o.path.strip_prefix("/davis/")?.strip_suffix("/events")?;
            (!camera.contains('/')).then(|| camera.to_string())
        })
        .collect()
}

/// Whether the file holds Prophesee CD events: compound records with x, y, p and t.
fn has_prophesee_events(objects: &[Object]) -> bool {
    dataset_at(objects, PROPHESEE_EVENTS).is_some_and(|d| {
        ["x", "y", "p", "t"]
            .iter()
            .all(|n| d.members.iter().any(|m| m.name == *n))
    })
}

/// Cameras available (M3ED's and MVSEC's left/right), for choosing and for messages.
pub fn cameras(objects: &[Object]) -> Vec<String> {
    let mut all: Vec<String> = event_groups(objects)
        .into_iter()
        .filter_map(|g| g.strip_prefix("/prophesee/").map(str::to_string))
        .collect();
    for c in mvsec_cameras(objects) {
        if !all.contains(&c) {
            all.push(c);
        }
    }
    all
}

/// The camera a recording's columns belong to (`/prophesee/<camera>/t`,
/// `/davis/<camera>/events[:,2]`), if it is one of several.
pub fn camera_of(paths: &LayoutPaths) -> Option<String> {
    let (t, _) = split_part(&paths.t);
    t.strip_prefix("/prophesee/")
        .and_then(|r| r.strip_suffix("/t"))
        .or_else(|| {
            t.strip_prefix("/davis/")
                .and_then(|r| r.strip_suffix("/events"))
        })
        .filter(|c| !c.contains('/'))
        .map(str::to_string)
}

/// Where the default columns come from.
enum Source {
    /// A group holding `x, y, t, p` datasets.
    Group(String),
    /// An MVSEC N×4 table.
    Table(String),
    /// Prophesee compound records.
    Records(String),
}

impl Source {
    fn column(&self, name: &str) -> String {
        match self {
            Source::Group(g) => format!("{g}/{name}"),
            Source::Table(t) => {
                let k = MVSEC_COLUMNS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(0, |(_, k)| *k);
                format!("{t}[:,{k}]")
            }
            Source::Records(r) => format!("{r}[{name}]"),
        }
    }
}

/// Picks the layout and its dataset paths from the object list.
pub fn detect(
    file: &H5File,
    objects: &[Object],
    overrides: &LayoutOverrides,
) -> Result<(LayoutKind, LayoutPaths), super::EventsError> {
    let what = file.what().to_string();
    let groups = event_groups(objects);
    let tables = mvsec_cameras(objects);
    let exists = |p: &str| dataset_at(objects, p).is_some();
    let source = match &overrides.camera {
        Some(camera) => {
            let g = format!("/prophesee/{camera}");
            if groups.contains(&g) {
                Some(Source::Group(g))
            } else if tables.contains(camera) {
                Some(Source::Table(format!("/davis/{camera}/events")))
            } else {
                return Err(super::EventsError::NoCamera {
                    what,
                    camera: camera.clone(),
                    available: cameras(objects).join(", "),
                });
            }
        }
        None => ["/events", "/prophesee/left", "/CD"]
            .iter()
            .map(|s| s.to_string())
            .find(|g| groups.contains(g))
            .map(Source::Group)
            .or_else(|| {
                let left = tables.iter().find(|c| *c == "left").or(tables.first());
                left.map(|c| Source::Table(format!("/davis/{c}/events")))
            })
            .or_else(|| {
                has_prophesee_events(objects).then(|| Source::Records(PROPHESEE_EVENTS.into()))
            })
            .or_else(|| groups.first().cloned().map(Source::Group)),
    };
    let explicit = overrides.x.is_some()
        && overrides.y.is_some()
        && overrides.t.is_some()
        && overrides.p.is_some();
    let Some(source) = source.or_else(|| explicit.then(|| Source::Group(String::new()))) else {
        return Err(super::EventsError::NoEvents { what });
    };
    let col = |name: &str, o: &Option<String>| o.clone().unwrap_or_else(|| source.column(name));
    let mut paths = LayoutPaths {
        x: col("x", &overrides.x),
        y: col("y", &overrides.y),
        t: col("t", &overrides.t),
        p: col("p", &overrides.p),
        ..Default::default()
    };
    for p in [&paths.x, &paths.y, &paths.t, &paths.p] {
        if !exists(split_part(p).0) {
            return Err(super::EventsError::BadColumn {
                what,
                path: p.clone(),
                reason: "no such dataset".into(),
            });
        }
    }
    let first_existing = |cands: &[String]| cands.iter().find(|c| exists(c)).cloned();
    let kind;
    match &source {
        Source::Table(_) => kind = LayoutKind::Mvsec,
        Source::Records(_) => kind = LayoutKind::Prophesee,
        Source::Group(group) if group.starts_with("/prophesee/") => {
            kind = LayoutKind::M3ed;
            paths.ms_index =
                first_existing(&[format!("{group}/ms_map_idx"), format!("{group}/ms_to_idx")]);
        }
        Source::Group(group) => {
            paths.ms_index = first_existing(&[
                "/ms_to_idx".to_string(),
                format!("{group}/ms_to_idx"),
                format!("{group}/ms_map_idx"),
            ]);
            paths.t_offset =
                first_existing(&["/t_offset".to_string(), format!("{group}/t_offset")]);
            paths.width = first_existing(&[format!("{group}/width"), "/width".to_string()]);
            paths.height = first_existing(&[format!("{group}/height"), "/height".to_string()]);
            let x_filters: Vec<u16> = dataset_at(objects, &paths.x)
                .map(|d| d.filters.iter().map(|f| f.id).collect())
                .unwrap_or_default();
            kind = if group == "/events" && paths.width.is_some() {
                LayoutKind::Rvt
            } else if group == "/events" && paths.ms_index.is_some() {
                match (&paths.t_offset, x_filters.contains(&32015)) {
                    (Some(_), true) => LayoutKind::Vector,
                    (Some(_), false) => LayoutKind::Dsec,
                    (None, _) => LayoutKind::TumVie,
                }
            } else {
                LayoutKind::Generic
            };
        }
    }
    if let Some(p) = &overrides.ms_index {
        paths.ms_index = Some(p.clone());
    }
    if let Some(p) = &overrides.t_offset {
        paths.t_offset = Some(p.clone());
    }
    Ok((kind, paths))
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
