//! What Strobe needs to know about one dataset, lifted out of its object header.

use hdf5_reader::messages::HdfMessage;
use hdf5_reader::object_header::ObjectHeader;
use hdf5_reader::Datatype;
use serde::Serialize;

use super::filters::FilterStep;
use super::layout::DataLayout;

/// Element type of an event column. Event data is integers in every known layout except
/// MVSEC's float64 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ElementType {
    Int {
        size: u8,
        signed: bool,
        big_endian: bool,
    },
    Float {
        size: u8,
        big_endian: bool,
    },
}

impl ElementType {
    pub fn size(&self) -> usize {
        match *self {
            ElementType::Int { size, .. } | ElementType::Float { size, .. } => size as usize,
        }
    }

    /// NumPy-style name (`u2`, `<i8`, `f8`), as users of these files know them.
    pub fn numpy(&self) -> String {
        match *self {
            ElementType::Int {
                size,
                signed,
                big_endian,
            } => {
                format!(
                    "{}{}{}",
                    if big_endian { ">" } else { "" },
                    if signed { 'i' } else { 'u' },
                    size
                )
            }
            ElementType::Float { size, big_endian } => {
                format!("{}f{}", if big_endian { ">" } else { "" }, size)
            }
        }
    }
}

/// What `info` shows of a dataset (CLI JSON and the viewer's panel alike).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatasetSummary {
    pub path: String,
    pub dtype: Option<String>,
    pub shape: Vec<u64>,
    /// Members of a compound record (Prophesee's `{x, y, p, t}`), empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    pub layout: String,
    pub chunks: Option<Vec<u64>>,
    pub filters: Vec<String>,
}

/// A numeric member of a compound record: its name, byte offset in the record and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub offset: usize,
    pub dtype: ElementType,
}

/// A dataset as the read path sees it.
#[derive(Debug, Clone)]
pub struct DatasetInfo {
    pub path: String,
    pub shape: Vec<u64>,
    pub max_shape: Option<Vec<u64>>,
    /// `None` for types events are never stored as whole (strings, compounds, ...).
    pub dtype: Option<ElementType>,
    /// Numeric members of a compound record type, empty for other types.
    pub members: Vec<Member>,
    pub element_size: usize,
    pub layout: DataLayout,
    pub filters: Vec<FilterStep>,
    /// The bytes of one element that storage never written reads as: the dataset's defined
    /// fill value, `None` for zeros (no value, or an undefined one — libhdf5 reads those as
    /// zeros too).
    pub fill: Option<Vec<u8>>,
}

impl DatasetInfo {
    /// Builds the description from a parsed object header; `None` when the header is not a
    /// dataset's (no layout message).
    pub fn from_header(path: &str, header: &ObjectHeader) -> Option<Self> {
        let mut shape = None;
        let mut max_shape = None;
        let mut dtype = None;
        let mut members = Vec::new();
        let mut element_size = 0;
        let mut layout = None;
        let mut filters = Vec::new();
        // The old (type 4) and new (type 5) fill value messages carry the same value when
        // both are written; the first defined one is taken.
        let mut fill: Option<Vec<u8>> = None;
        for message in &header.messages {
            match message {
                HdfMessage::Dataspace(space) => {
                    shape = Some(space.dims.clone());
                    max_shape = space.max_dims.clone();
                }
                HdfMessage::Datatype(t) => {
                    element_size = t.size as usize;
                    dtype = element_type(&t.datatype);
                    members = compound_members(&t.datatype);
                }
                HdfMessage::DataLayout(l) => layout = Some(l.layout.clone()),
                HdfMessage::FillValue(f) if f.defined && fill.is_none() => {
                    fill = f.value.clone().filter(|v| v.iter().any(|&b| b != 0));
                }
                HdfMessage::FilterPipeline(p) => {
                    filters = p
                        .filters
                        .iter()
                        .map(|f| FilterStep {
                            id: f.id,
                            name: f.name.clone(),
                            cd_values: f.client_data.clone(),
                            optional: false,
                        })
                        .collect();
                }
                _ => {}
            }
        }
        let shape = shape.unwrap_or_default();
        let mut layout = DataLayout::from_message(layout?);
        // Version 4 layout messages list the element size as one more chunk dimension.
        if let DataLayout::Chunked {
            chunk,
            element_size,
            ..
        } = &mut layout
        {
            if chunk.len() == shape.len() + 1 {
                *element_size = chunk.pop();
            }
        }
        Some(DatasetInfo {
            path: path.to_string(),
            shape,
            max_shape,
            dtype,
            members,
            element_size,
            layout,
            filters,
            fill,
        })
    }

    /// Number of rows: events are 1-D, or (N, 1) / (N, k) tables indexed by row.
    pub fn rows(&self) -> u64 {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Bytes of one row (a row of an (N, k) table holds k elements); saturates rather than
    /// overflow, so a file claiming absurd dimensions fails the chunk-size cap instead.
    pub fn row_bytes(&self) -> u64 {
        let per_row = self
            .shape
            .iter()
            .skip(1)
            .fold(1u64, |acc, &d| acc.saturating_mul(d));
        (self.element_size as u64).saturating_mul(per_row.max(1))
    }

    /// Bytes of one row of a decoded piece: a chunk of a table chunked across its columns
    /// holds only the chunk's columns of each row.
    pub fn piece_row_bytes(&self) -> u64 {
        match &self.layout {
            DataLayout::Chunked { chunk, .. } => {
                let per_row = chunk
                    .iter()
                    .skip(1)
                    .fold(1u64, |acc, &d| acc.saturating_mul(d));
                (self.element_size as u64).saturating_mul(per_row.max(1))
            }
            _ => self.row_bytes(),
        }
    }

    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    pub fn summary(&self) -> DatasetSummary {
        DatasetSummary {
            path: self.path.clone(),
            dtype: self.dtype.map(|t| t.numpy()),
            shape: self.shape.clone(),
            members: self
                .members
                .iter()
                .map(|m| format!("{}: {}", m.name, m.dtype.numpy()))
                .collect(),
            layout: self.layout.describe(),
            chunks: match &self.layout {
                DataLayout::Chunked { chunk, .. } => Some(chunk.clone()),
                _ => None,
            },
            filters: self.filter_names(),
        }
    }

    /// Filter ids with names, for `info`.
    pub fn filter_names(&self) -> Vec<String> {
        self.filters
            .iter()
            .map(|f| format!("{} ({})", f.id, filter_name(f.id)))
            .collect()
    }
}

fn element_type(datatype: &Datatype) -> Option<ElementType> {
    use hdf5_reader::ByteOrder;
    match datatype {
        Datatype::FixedPoint {
            size,
            signed,
            byte_order,
        } => Some(ElementType::Int {
            size: *size,
            signed: *signed,
            big_endian: matches!(byte_order, ByteOrder::BigEndian),
        }),
        Datatype::FloatingPoint { size, byte_order } => Some(ElementType::Float {
            size: *size,
            big_endian: matches!(byte_order, ByteOrder::BigEndian),
        }),
        Datatype::Enum { base, .. } => element_type(base),
        _ => None,
    }
}

/// Numeric members of a compound type (members of other types are left out: events never
/// need them).
fn compound_members(datatype: &Datatype) -> Vec<Member> {
    match datatype {
        Datatype::Compound { fields, .. } => fields
            .iter()
            .filter_map(|f| {
                Some(Member {
                    name: f.name.clone(),
                    offset: f.byte_offset as usize,
                    dtype: element_type(&f.datatype)?,
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Common names of registered HDF5 filters, for messages and `info`.
pub fn filter_name(id: u16) -> &'static str {
    match id {
        1 => "deflate",
        2 => "shuffle",
        3 => "fletcher32",
        4 => "szip",
        5 => "nbit",
        6 => "scaleoffset",
        307 => "bzip2",
        32000 => "lzf",
        32001 => "blosc",
        32004 => "lz4",
        32008 => "bitshuffle",
        32013 => "zfp",
        32015 => "zstd",
        32017 => "sz",
        32026 => "blosc2",
        36559 => "Prophesee ECF",
        _ => "unknown",
    }
}
