//! The `strobe` command line (native only).
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("strobe: being written");
}

#[cfg(target_arch = "wasm32")]
fn main() {}
