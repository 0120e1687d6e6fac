//! The command line's source flags as the library's [`OpenOptions`]; opening itself is the
//! library's one front door ([`strobe::open`]).

use strobe::events::LayoutOverrides;
use strobe::open::{OpenOptions, Opened};

use super::args::SourceArgs;

/// What the source flags ask for.
pub fn options(args: &SourceArgs) -> OpenOptions {
    OpenOptions {
        layout: LayoutOverrides {
            x: args.x.clone(),
            y: args.y.clone(),
            t: args.t.clone(),
            p: args.p.clone(),
            ms_index: args.ms_index.clone(),
            t_offset: args.t_offset.clone(),
            camera: args.camera.clone(),
        },
        cache_bytes: args.cache_mb.saturating_mul(1 << 20),
        whole_file_limit: args.whole_file_mb.saturating_mul(1 << 20),
        caps: args.caps(),
        headers: args.headers.clone(),
        // `--threads N` sizes the process's pool itself (see `cli::main_with`).
        threads: None,
    }
}

/// Opens the recording named on the command line.
pub async fn recording(args: &SourceArgs) -> Result<Opened, String> {
    strobe::open::open(&args.source, &options(args))
        .await
        .map_err(|e| e.to_string())
}
