//! Rewrites tests/vectors/ from the fixed seeds: `cargo run -p quietline-admin --example gen_vectors`.

fn main() -> std::process::ExitCode {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    match quietline_admin::vectors::write_all(&dir) {
        Ok(()) => {
            println!("wrote {}", dir.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
