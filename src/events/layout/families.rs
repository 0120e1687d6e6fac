//! The event-camera dataset families Strobe recognises, one entry each.
//!
//! Adding a layout is one entry here (and a fixture + test): where its events are, what else
//! tells it apart, where its time index, offset and sensor size live, and how its time counts.
//! Entries are tried in order; the first whose events are present and whose `matches` holds
//! is the file's layout, so put specific families before general ones.

use super::{EventsAt, LayoutSpec, Sensor, TimeBase};

/// Every family, most specific first; `generic` (any group of x, y, t, p) is last.
pub static LAYOUTS: &[LayoutSpec] = &[
    // RVT / eTraM / Gen1: DSEC-like names plus scalar `events/width`, `events/height`.
    LayoutSpec {
        name: "rvt",
        events: EventsAt::Group("/events"),
        matches: |f| f.width.is_some(),
        ..LayoutSpec::GROUP
    },
    // VECtor: DSEC names and dtypes, but the Zstd filter (32015) instead of Blosc.
    LayoutSpec {
        name: "vector",
        events: EventsAt::Group("/events"),
        matches: |f| f.ms_index.is_some() && f.t_offset.is_some() && f.x_filters.contains(&32015),
        sensor: Sensor::Known(640, 480),
        ..LayoutSpec::GROUP
    },
    LayoutSpec {
        name: "dsec",
        events: EventsAt::Group("/events"),
        matches: |f| f.ms_index.is_some() && f.t_offset.is_some(),
        sensor: Sensor::Known(640, 480),
        ..LayoutSpec::GROUP
    },
    // TUM-VIE: DSEC names without `t_offset`.
    LayoutSpec {
        name: "tumvie",
        events: EventsAt::Group("/events"),
        matches: |f| f.ms_index.is_some(),
        sensor: Sensor::Known(1280, 720),
        ..LayoutSpec::GROUP
    },
    // M3ED: one group per camera; `ms_map_idx` counts milliseconds from the first event.
    LayoutSpec {
        name: "m3ed",
        events: EventsAt::CameraGroup("/prophesee/"),
        ms_index: &["{g}/ms_map_idx", "{g}/ms_to_idx"],
        t_offset: &[],
        width: &[],
        height: &[],
        time_base: TimeBase::FirstEvent,
        sensor: Sensor::Known(1280, 720),
        ..LayoutSpec::GROUP
    },
    // MVSEC: `davis/<camera>/events`, an N×4 float64 table [x, y, t seconds, p ±1].
    LayoutSpec {
        name: "mvsec",
        events: EventsAt::CameraTable {
            prefix: "/davis/",
            suffix: "/events",
            columns: [0, 1, 2, 3],
        },
        ms_index: &[],
        t_offset: &[],
        width: &[],
        height: &[],
        float_t_scale: 1e6,
        sensor: Sensor::Known(346, 260),
        ..LayoutSpec::GROUP
    },
    // Prophesee Metavision HDF5: `/CD/events` compound records {x, y, p, t}, sensor size in
    // the root attribute `geometry` ("1280x720").
    LayoutSpec {
        name: "prophesee",
        events: EventsAt::Records("/CD/events"),
        ms_index: &[],
        t_offset: &[],
        width: &[],
        height: &[],
        sampled_index: Some("/CD/indexes"),
        sensor: Sensor::Attribute("geometry"),
        ..LayoutSpec::GROUP
    },
    LayoutSpec {
        name: "generic",
        events: EventsAt::AnyGroup(&["/events", "/CD"]),
        ..LayoutSpec::GROUP
    },
];
