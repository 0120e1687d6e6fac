//! An opened event recording: its layout, columns and summary facts.

use std::rc::Rc;

use serde::Serialize;

use super::layout::{self, LayoutKind, LayoutOverrides, LayoutPaths};
use super::EventsError;
use crate::hdf5::chunk_index::prefetch_top;
use crate::hdf5::read::{column_type, read_rows_i64};
use crate::hdf5::{Caps, DatasetInfo, H5File};
use crate::source::RangeSource;

/// Millisecond tables up to this many rows (~17 minutes) are read whole at open.
const MS_TABLE_READ_ROWS: u64 = 1 << 20;

/// Rows scanned for the sensor size when neither the file nor the layout gives it.
const SIZE_SCAN_ROWS: u64 = 8 << 20;

/// The four event columns.
#[derive(Debug, Clone)]
pub struct Columns {
    pub x: DatasetInfo,
    pub y: DatasetInfo,
    pub t: DatasetInfo,
    pub p: DatasetInfo,
}

impl Columns {
    pub fn all(&self) -> [&DatasetInfo; 4] {
        [&self.x, &self.y, &self.t, &self.p]
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
    /// Number of events (rows common to all four columns).
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
        let early: Vec<DatasetInfo> = layout::detect(&file, &held, overrides)
            .map(|(_, p)| {
                [&p.x, &p.y, &p.t, &p.p]
                    .iter()
                    .filter_map(|path| layout::dataset_at(&held, path).cloned())
                    .collect()
            })
            .unwrap_or_default();
        let early_refs: Vec<&DatasetInfo> = early.iter().collect();
        let (objects, warmed) =
            futures::join!(file.objects(), prefetch_top(&file, &early_refs, &[]));
        let objects = objects?;
        warmed?;
        let (layout, paths) = layout::detect(&file, &objects, overrides)?;
        let get = |p: &str| layout::dataset_at(&objects, p).cloned();
        let need = |p: &str| {
            get(p).ok_or_else(|| EventsError::BadColumn {
                what: file.what().to_string(),
                path: p.to_string(),
                reason: "no such dataset".into(),
            })
        };
        let columns = Columns {
            x: need(&paths.x)?,
            y: need(&paths.y)?,
            t: need(&paths.t)?,
            p: need(&paths.p)?,
        };
        for ds in columns.all() {
            column_type(&file, ds)?;
            if ds.shape.is_empty() {
                return Err(EventsError::BadColumn {
                    what: file.what().to_string(),
                    path: ds.path.clone(),
                    reason: "is a scalar, not an event column".into(),
                });
            }
        }
        let events = columns.all().iter().map(|d| d.rows()).min().unwrap_or(0);
        let opt = |p: &Option<String>| p.as_deref().and_then(get);
        let ms_index = opt(&paths.ms_index);
        // One warm-up, two rounds: index roots, then the level below and the whole ms table.
        let small_table = ms_index.as_ref().filter(|d| d.rows() <= MS_TABLE_READ_ROWS);
        prefetch_top(&file, &columns.all(), small_table.as_slice()).await?;
        let ms_table = match small_table {
            Some(d) => Some(read_rows_i64(&file, &[(d, 0..d.rows())]).await?.remove(0)),
            None => None,
        };
        Ok(Self {
            ms_table,
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
        if self.layout != LayoutKind::M3ed || self.events == 0 {
            return Ok(0);
        }
        let first = read_rows_i64(&self.file, &[(&self.columns.t, 0..1)]).await?;
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
            .iter()
            .copied()
            .chain(self.ms_index.iter())
            .map(DatasetInfo::summary)
            .collect()
    }

    /// Reads first/last timestamps, offset and sensor size (one or two rounds).
    pub async fn summary(&self) -> Result<Summary, EventsError> {
        let n = self.events;
        let t = &self.columns.t;
        let mut requests: Vec<(&DatasetInfo, std::ops::Range<u64>)> = Vec::new();
        if n > 0 {
            requests.push((t, 0..1));
            requests.push((t, n - 1..n));
        }
        let scalars = [&self.t_offset_ds, &self.width_ds, &self.height_ds];
        for ds in scalars.iter().copied().flatten() {
            requests.push((ds, 0..1));
        }
        let values = read_rows_i64(&self.file, &requests).await?;
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
            _ => match self.layout.known_sensor() {
                Some(size) => size,
                None => self.scan_sensor_size().await?,
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

    /// Sensor size from the data: largest x and y plus one, over the first rows.
    async fn scan_sensor_size(&self) -> Result<(u32, u32), EventsError> {
        let rows = 0..self.events.min(SIZE_SCAN_ROWS);
        let values = read_rows_i64(
            &self.file,
            &[(&self.columns.x, rows.clone()), (&self.columns.y, rows)],
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
