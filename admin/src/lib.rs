//! quietline-admin: what IT staff use to govern advocates' phones. It makes keys, signs
//! policies and commands, builds enrollment bundles, and checks what phones send back.
//!
//! The phone trusts nothing about the channel, so the admin's job is only to produce objects
//! the phone's own checks accept (see docs/wire-format.md). The CLI is also a library so the
//! demo can run it in-process:
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("ql-admin-doc-{}", std::process::id()));
//! let mut out = Vec::new();
//! let args = ["quietline-admin", "keygen", "--out", dir.to_str().unwrap(), "--name", "root"];
//! quietline_admin::run(args.iter().map(|s| s.to_string()), &mut out).unwrap();
//! assert!(String::from_utf8(out).unwrap().starts_with("root: public key "));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

pub mod cli;
mod command;
mod enroll;
mod error;
pub mod files;
pub mod fleet;
mod inspect;
mod kinds;
mod lint;
mod out;
mod policy;
pub mod policy_docs;
mod precheck;
mod profile;
mod profile_android;
mod profile_apple;
mod qr;
pub mod relay;
mod rendering;
pub mod templates;
pub mod vectors;

pub use command::sign_command;
pub use error::AdminError;
pub use files::{DeviceRecord, PKCS8_V2_MIDDLE, PKCS8_V2_PREFIX};
pub(crate) use out::Out;

use clap::Parser;
use cli::{Cli, EnrollCmd, PolicyCmd, ProfileCmd, ReceiptCmd, Top};

/// Runs the CLI with `args` (including argv[0]), writing its output to `out`. `--help` and
/// `--version` are written to `out` too and succeed.
pub fn run<I: IntoIterator<Item = String>>(args: I, out: &mut dyn std::io::Write) -> Result<(), AdminError> {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    write!(out, "{}", e.render()).map_err(out::stdout_err)
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    Err(AdminError::Help(e.render().to_string().trim_end().to_string()))
                }
                _ => {
                    Err(AdminError::Usage(e.render().to_string().trim_end().trim_start_matches("error: ").to_string()))
                }
            };
        }
    };
    let mut o = Out::new(out);
    match cli.command {
        Top::Keygen(a) => policy::keygen(&a, &mut o),
        Top::Policy(PolicyCmd::Sign(a)) => policy::sign(&a, &mut o),
        Top::Policy(PolicyCmd::Show(a)) => policy::show(&a, &mut o),
        Top::Policy(PolicyCmd::Lint(a)) => lint::lint(&a, &mut o),
        Top::Policy(PolicyCmd::Template(a)) => templates::write(&a, &mut o),
        Top::Enroll(a) => match &a.accept {
            Some(EnrollCmd::Accept(acc)) => enroll::accept(acc, &mut o),
            None => enroll::bundle(&a, &mut o),
        },
        Top::Cmd(c) => command::command(&c, &mut o),
        Top::Receipt(ReceiptCmd::Verify(a)) => command::verify_receipt(&a, &mut o),
        Top::Inspect(a) => inspect::inspect(&a, &mut o),
        Top::Profile(ProfileCmd::Apple(a)) => profile::apple(&a, &mut o),
        Top::Profile(ProfileCmd::Android(a)) => profile::android(&a, &mut o),
        Top::Fleet(c) => fleet::run(&c, &mut o),
    }
}
