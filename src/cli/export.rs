//! `strobe export`: a window's events to `.npz`, `.csv`, `.h5` or `.png`, batch by batch.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use serde_json::json;

use strobe::events::{Recording, Window, WindowReader};
use strobe::export::csv::CsvWriter;
use strobe::export::h5::H5Writer;
use strobe::export::npz::write_window;
use strobe::export::png::{Mode, Palette, Picture, Style};
use strobe::export::{convert, ExportOptions, Format, Polarity, TimeBase};
use strobe::open::Opened;

use super::args::{ExportArgs, ModeArg, PaletteArg, PolarityArg};
use super::open;

/// Output buffer: few system calls without holding much.
const WRITE_BUFFER: usize = 1 << 20;

pub async fn export(args: ExportArgs) -> Result<(), String> {
    let out_path = args.out.clone();
    let format = Format::from_path(&out_path.display().to_string()).map_err(|e| e.to_string())?;
    let options = ExportOptions {
        polarity: match args.polarity {
            PolarityArg::Stored => Polarity::Stored,
            PolarityArg::Binary => Polarity::Binary,
            PolarityArg::Signed => Polarity::Signed,
        },
        normalize: args.normalize,
        absolute_time: args.absolute_time,
    };
    format.check(&options).map_err(|e| e.to_string())?;
    if !args.times.needs_recording() {
        args.times.resolve(None, 0)?; // a reversed window is refused before any read
    }
    check_destination(&out_path)?;
    let Opened {
        cache,
        recording: rec,
    } = open::recording(&args.source).await?;
    let summary = rec.summary().await.map_err(|e| e.to_string())?;
    let window = args.times.resolve(summary.t_first, summary.t_offset)?;
    let base = TimeBase::new(&summary, window.from);
    let written = match write(&args, window, format, &options, &base, &rec).await {
        Ok(n) => n,
        Err(e) => {
            // A half-written file would look like a short window: leave none.
            let _ = std::fs::remove_file(&out_path);
            return Err(e);
        }
    };
    let bytes = std::fs::metadata(&out_path).map(|m| m.len()).unwrap_or(0);
    let stats = cache.stats();
    if args.source.json {
        let text = serde_json::to_string_pretty(&json!({
            "path": out_path.display().to_string(),
            "format": format.name(),
            "from": window.from,
            "to": window.to,
            "events": written,
            "bytes": bytes,
            "requests": stats.requests,
            "read_bytes": stats.bytes,
            "rounds": stats.rounds,
            "peak_rss_kb": super::report::peak_rss_kb(),
        }))
        .map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        println!(
            "wrote {written} events of [{}, {}) µs, {bytes} bytes, to {}",
            window.from,
            window.to,
            out_path.display()
        );
    }
    Ok(())
}

/// Fails early, before any reading, when the file cannot be written where asked.
fn check_destination(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "{}: is a directory — give a file name with --out",
            path.display()
        ));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(format!(
            "{}: no such directory — create it first",
            parent.display()
        ));
    }
    Ok(())
}

fn create(path: &Path) -> Result<BufWriter<File>, String> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(WRITE_BUFFER, f))
        .map_err(|e| format!("{}: cannot create: {e}", path.display()))
}

/// Streams the window into the format's writer; returns the events written.
async fn write(
    args: &ExportArgs,
    window: Window,
    format: Format,
    options: &ExportOptions,
    base: &TimeBase,
    rec: &Recording,
) -> Result<u64, String> {
    let text = |e: strobe::export::ExportError| e.to_string();
    let events_err = |e: strobe::events::EventsError| e.to_string();
    let path = args.out.as_path();
    if format == Format::Npz {
        // Counted through the time index first: the .npy headers need the length.
        let (_, n) = write_window(create(path)?, rec, window.to, options, base)
            .await
            .map_err(text)?;
        return Ok(n);
    }
    let mut reader = WindowReader::open(rec, window).await.map_err(events_err)?;
    let mut written = 0u64;
    match format {
        Format::Npz => {} // written above
        Format::Csv => {
            let mut w = CsvWriter::create(create(path)?).map_err(text)?;
            while let Some(batch) = reader.next_batch().await.map_err(events_err)? {
                w.write_batch(&convert(&batch, options, base).map_err(text)?)
                    .map_err(text)?;
                written += batch.len() as u64;
            }
            w.finish().map_err(text)?;
        }
        Format::H5 => {
            let types = strobe::export::output_types(rec.columns.kinds(), options);
            let mut w = H5Writer::create(path, base.t_offset, types).map_err(text)?;
            while let Some(batch) = reader.next_batch().await.map_err(events_err)? {
                w.write_batch(&convert(&batch, options, base).map_err(text)?)
                    .map_err(text)?;
                written += batch.len() as u64;
            }
            w.finish().map_err(text)?;
        }
        Format::Png => {
            let mut picture = Picture::new(base.width, base.height, window.from, window.to);
            while let Some(batch) = reader.next_batch().await.map_err(events_err)? {
                picture.add(&batch);
                written += batch.len() as u64;
            }
            let style = Style {
                mode: match args.mode {
                    ModeArg::Polarity => Mode::Polarity,
                    ModeArg::Heatmap => Mode::Heatmap,
                    ModeArg::Timesurface => Mode::TimeSurface,
                },
                palette: match args.palette {
                    PaletteArg::Dsec => Palette::Dsec,
                    PaletteArg::Dark => Palette::Dark,
                },
                tau: args.tau as f32,
            };
            picture.write_png(create(path)?, &style).map_err(text)?;
        }
    }
    Ok(written)
}
