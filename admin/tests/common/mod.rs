//! Running the built `quietline-admin` binary, shared by the CLI test files.

use std::process::Command as Proc;

/// What one run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with `args`.
pub fn admin(args: &[&str]) -> Run {
    let out = Proc::new(env!("CARGO_BIN_EXE_quietline-admin")).args(args).output().expect("run quietline-admin");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
