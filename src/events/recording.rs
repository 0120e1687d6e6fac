//! An opened event recording: its layout, columns and summary facts.

use std::rc::Rc;

use serde::Serialize;

use super::layout::{self, LayoutKind, LayoutOverrides, LayoutPaths, Part, Sensor, TimeBase};
use super::time_index;
use super::window::ColumnTypes;
use super::EventsError;
use crate::hdf5::chunk_index::prefetch_top;
use crate::hdf5::file::Object;
use crate::hdf5::read::{check_type, column_type, read_fields_i64, read_rows_i64};
use crate::hdf5::{Caps, DatasetInfo, Field, H5File, ValueKind};
use crate::source::RangeSource;

/// Millisecond tables up to this many rows (~17 minutes) are read whole at open.
const MS_TABLE_READ_ROWS: u64 = 1 << 20;

/// Rows scanned for the sensor size when neither the file nor the layout gives it.
const SIZE_SCAN_ROWS: u64 = 8 << 20;

/// One event column: a dataset and the value of each row it holds.
#[derive(Debug, Clone)]
pub struct Column {
    pub ds: DatasetInfo,
    pub field: Field,
}

/// The four event columns.
#[derive(Debug, Clone)]
pub struct Columns {
    pub x: Column,
    pub y: Column,
    pub t: Column,
    pub p: Column,
}

impl Columns {
    /// The distinct datasets behind the columns, in column order (MVSEC and Prophesee keep
    /// all four columns in one dataset).
    pub fn all(&self) -> Vec<&DatasetInfo> {
        let mut out: Vec<&DatasetInfo> = Vec::new();
        for d in [&self.x.ds, &self.y.ds, &self.t.ds, &self.p.ds] {
            if !out.iter().any(|o| o.path == d.path) {
                out.push(d);
            }
        }
        out
    }

    /// Each column's dataset and field, in the order x, y, t, p.
    pub fn fields(&self) -> [(&DatasetInfo, Field); 4] {
        [&self.x, &self.y, &self.t, &self.p].map(|c| (&c.ds, c.field))
    }

    /// The type each column's values are returned in, x, y, t, p.
    pub fn kinds(&self) -> [ValueKind; 4] {
        [&self.x, &self.y, &self.t, &self.p].map(|c| c.field.kind())
    }

    /// numpy names of the returned types (`uint16`, `int64`, ...).
    pub fn dtypes(&self) -> ColumnTypes {
        let [x, y, t, p] = self.kinds().map(|k| k.numpy_name().to_string());
        ColumnTypes { x, y, t, p }
    }

    /// The types as the file stores them (`u2`, `>i4`, `f8`).
    pub fn stored_dtypes(&self) -> ColumnTypes {
        let [x, y, t, p] = [&self.x, &self.y, &self.t, &self.p].map(|c| c.field.dtype.numpy());
        ColumnTypes { x, y, t, p }
    }

    /// The number of events: the rows every column holds. Columns of different lengths are
    /// refused — cutting them to the shortest would pair values of different events.
    fn events(&self, what: &str) -> Result<u64, EventsError> {
        let rows = [&self.x, &self.y, &self.t, &self.p].map(|c| c.ds.rows());
        if rows.iter().all(|&r| r == rows[0]) {
            return Ok(rows[0]);
        }
        let lengths = ["x", "y", "t", "p"]
            .iter()
            .zip(rows)
            .enumerate()
            .map(|(i, (name, n))| match i {
                0 => format!("{name} has {n} rows"),
                _ => format!("{name} has {n}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        Err(EventsError::UnequalColumns {
            what: what.to_string(),
            lengths,
        })
    }
}

/// An event recording opened for reading windows.
pub struct Recording {
    pub file: H5File,
    pub layout: LayoutKind,
    pub paths: LayoutPaths,
    pub columns: Columns,
    /// The millisecond index table, when the file has one.
    pub ms_index: Option<DatasetInfo>,
    /// Its values, read whole at open when small (they also give the event-rate curve).
    pub ms_table: Option<Vec<i64>>,
    /// Prophesee's `/CD/indexes`, read whole at open: the time index when there is no
    /// millisecond table.
    pub cd_index: Option<time_index::SampledIndex>,
    /// Number of events (the rows of each column; columns of unequal lengths are refused).
    pub events: u64,
    /// Cameras in the file (M3ED: left, right), the one opened first.
    pub cameras: Vec<String>,
    t_offset_ds: Option<DatasetInfo>,
    width_ds: Option<DatasetInfo>,
    height_ds: Option<DatasetInfo>,
}

/// What `strobe info` and the viewer's recording panel show, under the same names.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingInfo {
    pub source: String,
    pub layout: LayoutKind,
    pub paths: LayoutPaths,
    pub cameras: Vec<String>,
    pub datasets: Vec<crate::hdf5::DatasetSummary>,
    #[serde(flatten)]
    pub summary: Summary,
}

/// Facts about a recording that take a read of a few chunks (first/last timestamps, ...).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub events: u64,
    pub t_first: Option<i64>,
    pub t_last: Option<i64>,
    pub t_offset: i64,
    pub width: u32,
    pub height: u32,
}

impl Recording {
    /// Opens the file and finds its event columns: metadata only, no event data.
    pub async fn open(
        source: Rc<dyn RangeSource>,
        overrides: &LayoutOverrides,
    ) -> Result<Self, EventsError> {
        Self::open_with(source, overrides, Caps::default()).await
    }

    /// [`Self::open`] with every size the file claims held to `caps`.
    pub async fn open_with(
        source: Rc<dyn RangeSource>,
        overrides: &LayoutOverrides,
        caps: Caps,
    ) -> Result<Self, EventsError> {
        let file = H5File::open_with(source, caps).await?;
        // The event columns are often known from the head of the file alone: warm their
        // indexes in the same round as the rest of the metadata (found at the file's end).
        let held = file.objects_held().await;
        let early_layout = layout::detect(&file, &held, overrides).ok();
        let early: Vec<DatasetInfo> = early_layout
            .as_ref()
            .map(|(_, p)| {
                let mut found: Vec<DatasetInfo> = Vec::new();
                for path in [&p.x, &p.y, &p.t, &p.p] {
                    let at = layout::split_part(path).0;
                    if let Some(d) = layout::dataset_at(&held, at) {
                        if !found.iter().any(|f| f.path == d.path) {
                            found.push(d.clone());
                        }
                    }
                }
                found
            })
            .unwrap_or_default();
        let early_refs: Vec<&DatasetInfo> = early.iter().collect();
        // Prophesee's `/CD/indexes` (read whole below) is warmed with them.
        let early_cd = early_layout.and_then(|(kind, _)| time_index::cd_index_dataset(kind, &held));
        let early_whole: Vec<&DatasetInfo> = early_cd.iter().collect();
        let (objects, warmed) = futures::join!(
            file.objects(),
            prefetch_top(&file, &early_refs, &early_whole)
        );
        let objects = objects?;
        warmed?;
        let (layout, paths) = layout::detect(&file, &objects, overrides)?;
        let get = |p: &str| layout::dataset_at(&objects, p).cloned();
        let t_scale = layout.float_t_scale();
        let columns = Columns {
            x: column(&file, &objects, &paths.x, 1.0)?,
            y: column(&file, &objects, &paths.y, 1.0)?,
            t: column(&file, &objects, &paths.t, t_scale)?,
            p: column(&file, &objects, &paths.p, 1.0)?,
        };
        let events = columns.events(file.what())?;
        let opt = |p: &Option<String>| p.as_deref().and_then(get);
        let ms_index = opt(&paths.ms_index);
        // One warm-up, two rounds: index roots, then the level below and the whole ms table.
        let small_table = ms_index.as_ref().filter(|d| d.rows() <= MS_TABLE_READ_ROWS);
        let cd_table = time_index::cd_index_dataset(layout, &objects);
        let tables: Vec<&DatasetInfo> = small_table.into_iter().chain(cd_table.as_ref()).collect();
        let trees = columns.all();
        let (warmed, cd_offset) = futures::join!(
            prefetch_top(&file, &trees, &tables),
            time_index::cd_index_offset(&file, cd_table.as_ref())
        );
        warmed?;
        let ms_table = match small_table {
            Some(d) => Some(read_rows_i64(&file, &[(d, 0..d.rows())]).await?.remove(0)),
            None => None,
        };
        let cd_index = time_index::read_cd_index(&file, cd_table.as_ref(), cd_offset).await;
        Ok(Self {
            ms_table,
            cd_index,
            cameras: layout::cameras(&objects),
            t_offset_ds: opt(&paths.t_offset),
            width_ds: opt(&paths.width),
            height_ds: opt(&paths.height),
            file,
            layout,
            paths,
            columns,
            ms_index,
            events,
        })
    }

    pub fn what(&self) -> &str {
        self.file.what()
    }

    /// Where the millisecond table's ms 0 lies in `t`: M3ED counts from the first event (one
    /// read of `t`), the other layouts from t = 0.
    pub async fn ms_base(&self) -> Result<i64, EventsError> {
        if self.layout.time_base() != TimeBase::FirstEvent || self.events == 0 {
            return Ok(0);
        }
        let t = &self.columns.t;
        let first = read_fields_i64(&self.file, &[(&t.ds, t.field, 0..1)]).await?;
        Ok(first[0].first().copied().unwrap_or(0))
    }

    /// Layout, paths and datasets with the summary read by [`Self::summary`].
    pub fn info(&self, summary: Summary) -> RecordingInfo {
        RecordingInfo {
            source: self.what().to_string(),
            layout: self.layout,
            paths: self.paths.clone(),
            cameras: self.cameras.clone(),
            datasets: self.datasets(),
            summary,
        }
    }

    /// The event columns and the time-index table, as `info` shows them.
    pub fn datasets(&self) -> Vec<crate::hdf5::DatasetSummary> {
        self.columns
            .all()
            .into_iter()
            .chain(self.ms_index.iter())
            .map(DatasetInfo::summary)
            .collect()
    }

    /// Reads first/last timestamps, offset and sensor size (one or two rounds).
    pub async fn summary(&self) -> Result<Summary, EventsError> {
        let n = self.events;
        let t = &self.columns.t;
        let mut requests: Vec<(&DatasetInfo, Field, std::ops::Range<u64>)> = Vec::new();
        if n > 0 {
            requests.push((&t.ds, t.field, 0..1));
            requests.push((&t.ds, t.field, n - 1..n));
        }
        let scalars = [&self.t_offset_ds, &self.width_ds, &self.height_ds];
        for ds in scalars.iter().copied().flatten() {
            column_type(&self.file, ds)?;
            if let Some(f) = Field::first(ds) {
                requests.push((ds, f, 0..1));
            }
        }
        let values = read_fields_i64(&self.file, &requests).await?;
        let mut it = values.into_iter().map(|v| v.first().copied());
        let (t_first, t_last) = if n > 0 {
            (it.next().flatten(), it.next().flatten())
        } else {
            (None, None)
        };
        let mut scalar = |ds: &Option<DatasetInfo>| ds.as_ref().and_then(|_| it.next().flatten());
        let t_offset = scalar(&self.t_offset_ds).unwrap_or(0);
        let width = scalar(&self.width_ds);
        let height = scalar(&self.height_ds);
        let (width, height) = match (width, height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => (w as u32, h as u32),
            _ => match self.layout.spec().sensor {
                Sensor::Known(w, h) => (w, h),
                Sensor::Attribute(name) => match self.size_attribute(name).await? {
                    Some(size) => size,
                    None => self.scan_sensor_size().await?,
                },
                Sensor::Scan => self.scan_sensor_size().await?,
            },
        };
        Ok(Summary {
            events: n,
            t_first,
            t_last,
            t_offset,
            width,
            height,
        })
    }

    /// Sensor size from a root attribute such as Prophesee's `geometry` ("1280x720").
    async fn size_attribute(&self, name: &str) -> Result<Option<(u32, u32)>, EventsError> {
        let text = self.file.root_attribute_text(name).await?;
        Ok(text.as_deref().and_then(parse_geometry))
    }

    /// Sensor size from the data: largest x and y plus one, over the first rows.
    async fn scan_sensor_size(&self) -> Result<(u32, u32), EventsError> {
        let rows = 0..self.events.min(SIZE_SCAN_ROWS);
        let (x, y) = (&self.columns.x, &self.columns.y);
        let values = read_fields_i64(
            &self.file,
            &[(&x.ds, x.field, rows.clone()), (&y.ds, y.field, rows)],
        )
        .await?;
        let max = |v: &Vec<i64>| {
            v.iter()
                .copied()
                .max()
                .map_or(0, |m| (m + 1).clamp(0, u32::MAX as i64) as u32)
        };
        Ok((max(&values[0]), max(&values[1])))
    }
}

/// Resolves a column path (`/events/x`, `/davis/left/events[:,2]`, `/CD/events[t]`) to its
/// dataset and field, with a clear error for anything that is not one value per event.
fn column(
    file: &H5File,
    objects: &[Object],
    path: &str,
    float_scale: f64,
) -> Result<Column, EventsError> {
    let bad = |reason: String| EventsError::BadColumn {
        what: file.what().to_string(),
        path: path.to_string(),
        reason,
    };
    let (at, part) = layout::split_part(path);
    let ds = layout::dataset_at(objects, at)
        .cloned()
        .ok_or_else(|| bad("no such dataset".into()))?;
    if ds.shape.is_empty() {
        return Err(bad("is a scalar, not an event column".into()));
    }
    let (column, member_offset, dtype) = match &part {
        Part::Whole => (0, 0, column_type(file, &ds)?),
        Part::Column(k) => {
            let columns = match ds.shape.as_slice() {
                [_, c] => *c,
                _ => return Err(bad(format!("is not a 2-D table (shape {:?})", ds.shape))),
            };
            if *k >= columns {
                return Err(bad(format!("has {columns} columns, not {}", k + 1)));
            }
            (*k, 0, column_type(file, &ds)?)
        }
        Part::Member(name) => {
            let member = ds
                .members
                .iter()
                .find(|m| &m.name == name)
                .ok_or_else(|| bad(format!("has no numeric member {name}")))?;
            if ds.shape.len() != 1 {
                return Err(bad(format!(
                    "compound records must be 1-D (shape {:?})",
                    ds.shape
                )));
            }
            let dtype = check_type(Some(member.dtype)).ok_or_else(|| {
                bad(format!(
                    "member {name} is not an integer or float of 1, 2, 4 or 8 bytes"
                ))
            })?;
            (0, member.offset, dtype)
        }
    };
    Ok(Column {
        field: Field {
            column,
            member_offset,
            dtype,
            scale: float_scale,
        },
        ds,
    })
}

/// "WIDTHxHEIGHT" (both positive) as numbers.
fn parse_geometry(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.trim().split_once(['x', 'X'])?;
    let (w, h) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::parse_geometry;

    #[test]
    fn geometry_attribute_text() {
        assert_eq!(parse_geometry("1280x720"), Some((1280, 720)));
        assert_eq!(parse_geometry(" 640X480 "), Some((640, 480)));
        assert_eq!(parse_geometry("0x720"), None);
        assert_eq!(parse_geometry("1280"), None);
    }
}
