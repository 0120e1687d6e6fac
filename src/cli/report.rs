//! The commands: run them and print human or JSON output.

use serde::Serialize;
use serde_json::json;

use strobe::events::WindowReader;
use strobe::open::Opened;
use strobe::source::RangeSource;

use super::args::{InfoArgs, ServeArgs, WindowArgs, WindowsArgs};
use super::open;

/// This process's peak resident memory (Linux `VmHWM`; the process's own, unlike a parent's
/// `wait4` figure, which counts what the forking process held too): shows that reads stream.
pub(super) fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn print_json(value: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

pub async fn info(args: InfoArgs) -> Result<(), String> {
    let Opened {
        cache,
        recording: rec,
    } = open::recording(&args.source).await?;
    let summary = rec.summary().await.map_err(|e| e.to_string())?;
    let stats = cache.stats();
    let mut out = serde_json::to_value(rec.info(summary.clone())).map_err(|e| e.to_string())?;
    if let Some(map) = out.as_object_mut() {
        map.insert("requests".into(), json!(stats.requests));
        map.insert("bytes".into(), json!(stats.bytes));
        map.insert("rounds".into(), json!(stats.rounds));
    }
    if args.source.json {
        return print_json(&out);
    }
    println!("{}", cache.describe());
    println!("  layout    {}", rec.layout);
    println!("  events    {}", summary.events);
    if let (Some(a), Some(b)) = (summary.t_first, summary.t_last) {
        println!(
            "  time      {a} .. {b} µs ({:.3} s), t_offset {} µs",
            (b - a) as f64 / 1e6,
            summary.t_offset
        );
    }
    println!("  sensor    {}×{}", summary.width, summary.height);
    for d in rec.columns.all().iter().copied().chain(rec.ms_index.iter()) {
        println!(
            "  {:<24} {:<4} {:?} {} {}",
            d.path,
            d.dtype.map(|t| t.numpy()).unwrap_or_default(),
            d.shape,
            d.layout.describe(),
            d.filter_names().join(", ")
        );
    }
    println!(
        "  read      {} requests, {} bytes, {} rounds",
        stats.requests, stats.bytes, stats.rounds
    );
    Ok(())
}

pub async fn window(args: WindowArgs) -> Result<(), String> {
    // Plain µs place the window before opening (no summary read, as before); the other time
    // forms need the recording's first event or t_offset.
    let mut placed = if args.times.needs_recording() {
        None
    } else {
        Some(args.times.resolve(None, 0)?)
    };
    let mut runs_ms = Vec::new();
    let mut last = None;
    for _ in 0..args.repeat {
        let started = std::time::Instant::now();
        let Opened {
            cache,
            recording: rec,
        } = open::recording(&args.source).await?;
        let window = match placed {
            Some(w) => w,
            None => {
                let s = rec.summary().await.map_err(|e| e.to_string())?;
                let w = args.times.resolve(s.t_first, s.t_offset)?;
                placed = Some(w);
                w
            }
        };
        let reader = WindowReader::open(&rec, window)
            .await
            .map_err(|e| e.to_string())?;
        let digest = reader.digest().await.map_err(|e| e.to_string())?;
        runs_ms.push(started.elapsed().as_secs_f64() * 1e3);
        if last.as_ref().is_some_and(|(d, _)| *d != digest) {
            return Err(format!(
                "{}: two reads of the same window differ — is the file changing?",
                rec.what()
            ));
        }
        last = Some((digest, cache.stats()));
    }
    let Some((digest, stats)) = last else {
        return Err("--repeat must be at least 1".into());
    };
    if args.source.json {
        let mut value = serde_json::to_value(&digest).map_err(|e| e.to_string())?;
        if let Some(map) = value.as_object_mut() {
            map.insert("requests".into(), json!(stats.requests));
            map.insert("bytes".into(), json!(stats.bytes));
            map.insert("rounds".into(), json!(stats.rounds));
            map.insert("peak_rss_kb".into(), json!(peak_rss_kb()));
            if args.repeat > 1 {
                map.insert("runs_ms".into(), json!(runs_ms));
            }
        }
        return print_json(&value);
    }
    println!(
        "{} events in [{}, {}) µs from index {}; {} positive",
        digest.events, digest.from, digest.to, digest.first_index, digest.positive
    );
    println!(
        "read {} requests, {} bytes, {} rounds",
        stats.requests, stats.bytes, stats.rounds
    );
    Ok(())
}

pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let site_dir = args.site.or_else(|| {
        let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        here.join("index.html").exists().then_some(here)
    });
    let opts = strobe::serve::ServeOptions {
        bind: args.bind,
        port: args.port,
        data_dir: args.data,
        site_dir,
        latency: std::time::Duration::from_millis(args.latency_ms),
        faults: args.faults,
        relay: args.relay,
        ..Default::default()
    };
    strobe::serve::run(opts)
        .await
        .map_err(|e| format!("serve: {e}"))
}

pub async fn windows(args: WindowsArgs) -> Result<(), String> {
    use strobe::events::enumerate::{enumerate, Plan};
    let Opened {
        cache,
        recording: rec,
    } = open::recording(&args.source).await?;
    let plan = match args.random {
        Some(count) => Plan::Random {
            length: args.length,
            count,
            seed: args.seed,
        },
        None => Plan::Regular {
            length: args.length,
            stride: args.stride.unwrap_or(args.length),
        },
    };
    let listed = enumerate(&rec, plan).await.map_err(|e| e.to_string())?;
    let stats = cache.stats();
    if args.source.json {
        return print_json(&json!({
            "length": args.length,
            "stride": args.stride.unwrap_or(args.length),
            "random": args.random,
            "seed": args.seed,
            "span": {"from": listed.span_from, "to": listed.span_to},
            "windows": listed.windows,
            "requests": stats.requests,
            "bytes": stats.bytes,
            "rounds": stats.rounds,
        }));
    }
    for w in &listed.windows {
        println!("{:>14} {:>14} {:>12} events", w.from, w.to, w.events);
    }
    println!(
        "{} windows over [{}, {}) µs; read {} requests, {} bytes, {} rounds",
        listed.windows.len(),
        listed.span_from,
        listed.span_to,
        stats.requests,
        stats.bytes,
        stats.rounds
    );
    Ok(())
}
