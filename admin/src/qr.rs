//! The enrollment bundle as a QR code: in the terminal when it fits 80 columns, otherwise (or on
//! request) as an SVG image, so a wide code is never printed wrapped and unreadable.

use crate::{AdminError, Out};
use qrcode::render::{svg, unicode::Dense1x2};
use qrcode::{EcLevel, QrCode};
use std::path::{Path, PathBuf};

/// The terminal width the printed code must fit.
pub const MAX_COLUMNS: usize = 80;
/// The light border every QR code needs, in modules, on each side.
const QUIET_ZONE: usize = 4;

fn code(text: &str) -> Result<QrCode, AdminError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).map_err(|e| AdminError::Qr(e.to_string()))
}

/// The code as Unicode half blocks, light on dark as terminals show it best.
fn terminal(code: &QrCode) -> String {
    code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build()
}

/// The code as an SVG document, at least 400 pixels wide.
pub fn svg_document(text: &str) -> Result<String, AdminError> {
    Ok(code(text)?.render::<svg::Color<'_>>().min_dimensions(400, 400).quiet_zone(true).build())
}

/// Shows `text` as IT staff asked: `terminal` prints it when it fits [`MAX_COLUMNS`] and
/// otherwise writes `BUNDLE.svg`; `svg` writes the image there in any case.
pub(crate) fn show(
    text: &str,
    terminal_wanted: bool,
    svg: Option<&Path>,
    bundle: &Path,
    out: &mut Out<'_>,
) -> Result<(), AdminError> {
    if !terminal_wanted && svg.is_none() {
        return Ok(());
    }
    let code = code(text)?;
    let columns = code.width() + 2 * QUIET_ZONE;
    let mut image: Option<PathBuf> = svg.map(Path::to_path_buf);
    if terminal_wanted {
        if columns <= MAX_COLUMNS {
            out.line(terminal(&code))?;
        } else if image.is_none() {
            let mut p = bundle.as_os_str().to_owned();
            p.push(".svg");
            image = Some(PathBuf::from(p));
        }
    }
    if let Some(path) = image {
        crate::files::write_text(&path, &svg_document(text)?)?;
        if terminal_wanted && columns > MAX_COLUMNS {
            out.line(format!(
                "the QR code is {columns} columns wide, more than an {MAX_COLUMNS}-column terminal shows: \
                 open the image {} on screen for the phone's camera",
                path.display()
            ))?;
        } else {
            out.line(format!("QR code image -> {}", path.display()))?;
        }
    }
    Ok(())
}

/// Renders text as a QR code with Unicode half blocks (two rows per line).
pub(crate) fn qr(text: &str) -> Result<String, AdminError> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| AdminError::Qr(e.to_string()))?;
    Ok(code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, dir: &Path) -> String {
        let mut buf = Vec::new();
        show(text, true, None, &dir.join("b.ql"), &mut Out::new(&mut buf)).expect("show");
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn qr_code_that_fits_is_printed_within_80_columns() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = shown("QL:a-short-object", dir.path());
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 10 && lines.iter().all(|l| l.chars().count() <= MAX_COLUMNS), "{out}");
        assert!(!dir.path().join("b.ql.svg").exists());
    }

    #[test]
    fn qr_code_wider_than_80_columns_becomes_an_svg() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = shown(&format!("QL:{}", "a".repeat(900)), dir.path());
        assert!(out.contains("columns wide") && out.lines().count() == 1, "{out}");
        assert!(std::fs::read_to_string(dir.path().join("b.ql.svg")).expect("svg").contains("<svg"));
    }
}
