//! `strobe demo`: write the demo recording if needed, serve it with the viewer, print the link.

use std::path::PathBuf;

use strobe::demo;

use super::args::DemoArgs;

pub async fn demo(args: DemoArgs) -> Result<(), String> {
    let dir = args.data.clone().unwrap_or_else(demo::default_dir);
    let path = dir.join(demo::FILE_NAME);
    if demo::read_stamp(&path).is_err() {
        eprintln!(
            "strobe demo: writing {} (12 s of synthetic events, a few seconds)…",
            path.display()
        );
    }
    let made = demo::ensure(&dir)?;
    let mb = made.bytes as f64 / 1e6;
    if made.written {
        eprintln!(
            "strobe demo: wrote {} events, {mb:.1} MB in {:.1} s",
            made.events, made.seconds
        );
    } else {
        eprintln!(
            "strobe demo: using {} ({} events, {mb:.1} MB)",
            made.path.display(),
            made.events
        );
    }
    if args.no_serve {
        println!("{}", made.path.display());
        return Ok(());
    }
    let site_dir = {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        here.join("index.html").exists().then_some(here)
    };
    let has_site = site_dir.is_some();
    let opts = strobe::serve::ServeOptions {
        bind: args.bind,
        port: args.port,
        data_dir: Some(dir),
        site_dir,
        ..Default::default()
    };
    let server = strobe::serve::bind(&opts)
        .await
        .map_err(|e| format!("demo: {e}"))?;
    let addr = server.local_addr();
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let base = format!("http://{host}:{}", addr.port());
    if !has_site {
        eprintln!(
            "strobe demo: no viewer found (index.html beside {}); serving the data only",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    println!("{}", demo::viewer_link(&base));
    eprintln!(
        "strobe demo: serving {base}/data/{} — Ctrl-C to stop",
        demo::FILE_NAME
    );
    server
        .serve_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("demo: {e}"))
}
