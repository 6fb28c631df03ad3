//! The `quietline-admin` binary: runs the CLI, prints errors as `error: ...` on stderr and
//! exits non-zero on failure.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = quietline_admin::run(std::env::args(), &mut out);
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(quietline_admin::AdminError::Help(help)) => {
            eprintln!("{help}");
            ExitCode::from(2)
        }
        Err(quietline_admin::AdminError::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
