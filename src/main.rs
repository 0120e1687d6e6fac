//! The `strobe` command line (native only).

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use clap::Parser;
    cli::main_with(cli::args::Cli::parse())
}

#[cfg(target_arch = "wasm32")]
fn main() {}
