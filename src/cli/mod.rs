//! The `strobe` command line: `info`, `window`, `serve`.

pub mod args;
mod demo;
mod open;
mod report;

use std::process::ExitCode;

use args::{Cli, Command};

/// Runs the command line; prints one line on failure and returns a non-zero exit code.
pub fn main_with(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strobe: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Info(a) => report::info(a).await,
            Command::Window(a) => report::window(a).await,
            Command::Serve(a) => report::serve(a).await,
            Command::Demo(a) => demo::demo(a).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("strobe: {}", message.lines().next().unwrap_or("failed"));
            ExitCode::FAILURE
        }
    }
}
