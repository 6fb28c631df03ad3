//! Where the CLI writes: the output, with write errors mapped to `AdminError`.

use crate::error::AdminError;

/// The output, with errors mapped.
pub(crate) struct Out<'a>(&'a mut dyn std::io::Write);

impl<'a> Out<'a> {
    /// Wraps the output the CLI writes to.
    pub(crate) fn new(w: &'a mut dyn std::io::Write) -> Self {
        Out(w)
    }

    /// Writes one line.
    pub(crate) fn line(&mut self, s: impl AsRef<str>) -> Result<(), AdminError> {
        writeln!(self.0, "{}", s.as_ref()).map_err(stdout_err)
    }
}

/// A failed write to the output.
pub(crate) fn stdout_err(e: std::io::Error) -> AdminError {
    AdminError::Io { path: "<output>".into(), reason: e.to_string() }
}
