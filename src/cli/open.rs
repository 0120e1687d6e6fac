//! Turning a path or URL into a cached range source and an opened recording.

use std::rc::Rc;

use strobe::events::{LayoutOverrides, Recording};
use strobe::source::file::FileSource;
use strobe::source::http::HttpSource;
use strobe::source::{RangeCache, RangeSource};

use super::args::SourceArgs;

pub type Cache = RangeCache<Box<dyn RangeSource>>;

/// Opens the source behind a range cache.
pub fn source(args: &SourceArgs) -> Result<Rc<Cache>, String> {
    let spec = args.source.as_str();
    let inner: Box<dyn RangeSource> = if spec.starts_with("http://") || spec.starts_with("https://")
    {
        Box::new(
            HttpSource::new(spec)
                .map_err(|e| e.to_string())?
                .with_whole_file_limit(args.whole_file_mb.saturating_mul(1 << 20)),
        )
    } else {
        Box::new(FileSource::open(spec).map_err(|e| e.to_string())?)
    };
    Ok(Rc::new(RangeCache::new(
        inner,
        args.cache_mb.saturating_mul(1 << 20),
    )))
}

pub fn overrides(args: &SourceArgs) -> LayoutOverrides {
    LayoutOverrides {
        x: args.x.clone(),
        y: args.y.clone(),
        t: args.t.clone(),
        p: args.p.clone(),
        ms_index: args.ms_index.clone(),
        t_offset: args.t_offset.clone(),
        camera: args.camera.clone(),
    }
}

/// Opens the recording named on the command line.
pub async fn recording(args: &SourceArgs) -> Result<(Rc<Cache>, Recording), String> {
    let cache = source(args)?;
    let rec = Recording::open_with(
        cache.clone() as Rc<dyn RangeSource>,
        &overrides(args),
        args.caps(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok((cache, rec))
}
