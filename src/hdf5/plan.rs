//! A read planned once: the pieces of some rows of several columns, located by one index walk,
//! and the stored bytes of the first of them, fetched in one round — handed to the reads that
//! decode those rows batch by batch, so that no batch walks the index or fetches again.

use std::collections::HashMap;
use std::ops::Range;

use bytes::Bytes;

use super::chunk_index::{locate, Piece};
use super::dataset::DatasetInfo;
use super::file::H5File;
use super::read::{fetch_pieces, piece_key, PieceKey};
use super::Hdf5Error;

/// The located pieces of `rows` of each planned column and the stored bytes fetched for them.
/// Bytes leave the plan as the batches decode them, so it holds less as a window goes on.
#[derive(Default)]
pub struct ChunkPlan {
    /// Per column: dataset path, column, rows planned (within the dataset) and their pieces.
    columns: Vec<PlannedColumn>,
    /// Stored bytes fetched up front, by piece.
    stored: HashMap<PieceKey, Bytes>,
}

struct PlannedColumn {
    path: String,
    column: u64,
    rows: Range<u64>,
    pieces: Vec<Piece>,
}

impl ChunkPlan {
    /// Locates the pieces of every request (dataset, column, rows) in one index walk and
    /// fetches, in one round, the stored bytes of as many of them (in row order, a piece shared
    /// by columns once) as fit in `fetch_bytes`; later pieces are fetched by the batches
    /// that reach them.
    pub async fn build(
        file: &H5File,
        requests: &[(&DatasetInfo, u64, Range<u64>)],
        fetch_bytes: u64,
    ) -> Result<Self, Hdf5Error> {
        let located = locate(file, requests).await?;
        let mut wanted: Vec<(u64, PieceKey, &Piece)> = requests
            .iter()
            .zip(&located)
            .flat_map(|((ds, ..), pieces)| {
                pieces.iter().map(|p| (p.first_row, piece_key(ds, p), p))
            })
            .filter(|(_, _, p)| p.disk_range().is_some())
            .collect();
        wanted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        // Columns of one dataset (compound records, a row-chunked table) share their pieces.
        wanted.dedup_by(|a, b| a.1 == b.1);
        let mut budget = 0u64;
        wanted.retain(|(_, _, p)| {
            budget = budget.saturating_add(p.disk_range().map_or(0, |r| r.len()));
            budget <= fetch_bytes
        });
        let pieces: Vec<&Piece> = wanted.iter().map(|(_, _, p)| *p).collect();
        let fetched = fetch_pieces(file, &pieces).await?;
        let stored = wanted
            .into_iter()
            .zip(fetched)
            .filter_map(|((_, k, _), b)| Some((k, b?)))
            .collect();
        let columns = requests
            .iter()
            .zip(located)
            .map(|((ds, column, rows), pieces)| PlannedColumn {
                path: ds.path.clone(),
                column: *column,
                rows: rows.start.min(ds.rows())..rows.end.min(ds.rows()),
                pieces,
            })
            .collect();
        Ok(Self { columns, stored })
    }

    /// The pieces of every request, as [`locate`] would give them, when the plan covers all of
    /// their rows (`None` otherwise: the caller locates them itself).
    pub(crate) fn pieces(
        &self,
        requests: &[(&DatasetInfo, u64, Range<u64>)],
    ) -> Option<Vec<Vec<Piece>>> {
        if requests.len() != self.columns.len() {
            return None;
        }
        requests
            .iter()
            .zip(&self.columns)
            .map(|((ds, column, rows), planned)| {
                let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
                let inside = rows.is_empty()
                    || (planned.rows.start <= rows.start && rows.end <= planned.rows.end);
                if planned.path != ds.path || planned.column != *column || !inside {
                    return None;
                }
                if rows.is_empty() {
                    return Some(Vec::new());
                }
                // Pieces are in row order: those overlapping `rows` are one run.
                let from = planned
                    .pieces
                    .partition_point(|p| p.first_row.saturating_add(p.rows) <= rows.start);
                let to = planned.pieces.partition_point(|p| p.first_row < rows.end);
                Some(planned.pieces.get(from..to.max(from))?.to_vec())
            })
            .collect()
    }

    /// The stored bytes of piece `key`, if the plan fetched them; they leave the plan.
    pub(crate) fn take_stored(&mut self, key: &PieceKey) -> Option<Bytes> {
        self.stored.remove(key)
    }

    /// The stored bytes of piece `key`, if the plan fetched them; they stay in the plan (the
    /// page's decode workers get a copy ahead of the read that takes them).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn stored(&self, key: &PieceKey) -> Option<Bytes> {
        self.stored.get(key).cloned()
    }

    /// Stored bytes the plan still holds.
    pub fn held_bytes(&self) -> u64 {
        self.stored.values().map(|b| b.len() as u64).sum()
    }
}
