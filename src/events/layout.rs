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
    Generic,
}

impl LayoutKind {
    /// Sensor size of the camera the dataset family used, when the file does not say.
    pub fn known_sensor(self) -> Option<(u32, u32)> {
        match self {
            LayoutKind::Dsec | LayoutKind::Vector => Some((640, 480)),
            LayoutKind::TumVie | LayoutKind::M3ed => Some((1280, 720)),
            LayoutKind::Rvt | LayoutKind::Generic => None,
        }
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

/// Cameras available (M3ED's left/right), for choosing and for messages.
pub fn cameras(objects: &[Object]) -> Vec<String> {
    event_groups(objects)
        .into_iter()
        .filter_map(|g| g.strip_prefix("/prophesee/").map(str::to_string))
        .collect()
}

/// Picks the layout and its dataset paths from the object list.
pub fn detect(
    file: &H5File,
    objects: &[Object],
    overrides: &LayoutOverrides,
) -> Result<(LayoutKind, LayoutPaths), super::EventsError> {
    let what = file.what().to_string();
    let groups = event_groups(objects);
    let exists = |p: &str| dataset_at(objects, p).is_some();
    let group = match &overrides.camera {
        Some(camera) => {
            let g = format!("/prophesee/{camera}");
            if !groups.contains(&g) {
                return Err(super::EventsError::NoCamera {
                    what,
                    camera: camera.clone(),
                    available: cameras(objects).join(", "),
                });
            }
            Some(g)
        }
        None => ["/events", "/prophesee/left", "/CD"]
            .iter()
            .map(|s| s.to_string())
            .find(|g| groups.contains(g))
            .or_else(|| groups.first().cloned()),
    };
    let explicit = overrides.x.is_some()
        && overrides.y.is_some()
        && overrides.t.is_some()
        && overrides.p.is_some();
    let Some(group) = group.or_else(|| explicit.then(String::new)) else {
        return Err(super::EventsError::NoEvents { what });
    };
    let col =
        |name: &str, o: &Option<String>| o.clone().unwrap_or_else(|| format!("{group}/{name}"));
    let mut paths = LayoutPaths {
        x: col("x", &overrides.x),
        y: col("y", &overrides.y),
        t: col("t", &overrides.t),
        p: col("p", &overrides.p),
        ..Default::default()
    };
    for p in [&paths.x, &paths.y, &paths.t, &paths.p] {
        if !exists(p) {
            return Err(super::EventsError::BadColumn {
                what,
                path: p.clone(),
                reason: "no such dataset".into(),
            });
        }
    }
    let first_existing = |cands: &[String]| cands.iter().find(|c| exists(c)).cloned();
    let kind;
    if group.starts_with("/prophesee/") {
        kind = LayoutKind::M3ed;
        paths.ms_index =
            first_existing(&[format!("{group}/ms_map_idx"), format!("{group}/ms_to_idx")]);
    } else {
        paths.ms_index = first_existing(&[
            "/ms_to_idx".to_string(),
            format!("{group}/ms_to_idx"),
            format!("{group}/ms_map_idx"),
        ]);
        paths.t_offset = first_existing(&["/t_offset".to_string(), format!("{group}/t_offset")]);
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
    if let Some(p) = &overrides.ms_index {
        paths.ms_index = Some(p.clone());
    }
    if let Some(p) = &overrides.t_offset {
        paths.t_offset = Some(p.clone());
    }
    Ok((kind, paths))
}
