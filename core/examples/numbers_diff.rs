//! The Rust side of the differential number test (tests/numbers/, scripts/test.d/15-numbers.sh).
//!
//! Reads `region<TAB>input` lines on stdin and writes, for each, `registration<TAB>lookup`:
//! the E.164 form, `special` (emergency number or short code) or `error`, from
//! [`numbers::classify`] and [`numbers::classify_for_lookup`]. With `--lengths REGION...` it
//! writes each region's derived possible and local-only lengths instead.

use quietline_core::numbers::{self, Classified, NumberError, Region};
use std::io::{self, BufRead, BufWriter, Write};

fn show(r: Result<Classified, NumberError>) -> String {
    match r {
        Ok(Classified::Number(n)) => n.expose().to_string(),
        Ok(Classified::Special) => "special".into(),
        Err(_) => "error".into(),
    }
}

fn join(v: &[u16]) -> String {
    v.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = BufWriter::new(io::stdout().lock());
    if args.first().map(String::as_str) == Some("--lengths") {
        for code in &args[1..] {
            let lengths = Region::parse(code).ok().and_then(numbers::possible_lengths);
            match lengths {
                Some((full, local)) => writeln!(out, "{code}\t{}\t{}", join(&full), join(&local))?,
                None => writeln!(out, "{code}\tnone\tnone")?,
            }
        }
        return out.flush();
    }
    for line in io::stdin().lock().lines() {
        let line = line?;
        let Some((region, input)) = line.split_once('\t') else {
            writeln!(out, "error\terror")?;
            continue;
        };
        match Region::parse(region) {
            Ok(r) => writeln!(
                out,
                "{}\t{}",
                show(numbers::classify(input, r)),
                show(numbers::classify_for_lookup(input, r))
            )?,
            Err(_) => writeln!(out, "error\terror")?,
        }
    }
    out.flush()
}
