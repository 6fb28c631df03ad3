//! The command line, as clap reads it. The doc comments are the `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Quietline admin: the IT staff's tool to govern advocates' phones.
///
/// Everything it makes is a signed `QL:` object that the phone checks itself, so it may travel
/// by any channel: QR code, SMS, push, or a plain HTTP relay. Private keys stay in files
/// created with mode 0600 and are never printed.
#[derive(Debug, Parser)]
#[command(name = "quietline-admin", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Top,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Top {
    /// Create an Ed25519 key pair: an org root key or a staff key.
    ///
    /// Writes DIR/NAME.key (PKCS#8, mode 0600; keep it offline for a root key) and
    /// DIR/NAME.pub (hex). Never overwrites an existing key.
    Keygen(KeygenArgs),
    /// Sign or show a policy.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Create an enrollment bundle for a phone (shown as a QR code with --qr), or accept the
    /// phone's enrollment response with `enroll accept`.
    Enroll(EnrollArgs),
    /// Sign a command for one device: lock, wipe, purge or ping.
    ///
    /// Prints the command as one SMS text (at most 160 characters) and as JSON for a relay.
    #[command(name = "command", subcommand)]
    Cmd(CommandCmd),
    /// Check a device's signed receipt.
    #[command(subcommand)]
    Receipt(ReceiptCmd),
    /// Decode any `QL:` object, show its fields, and verify what the given keys allow,
    /// saying why it is rejected if it is.
    Inspect(InspectArgs),
    /// Render a policy for an existing MDM or EMM: an Apple configuration profile or an
    /// Android Management API policy. Says which rules have no equivalent and stay with the app.
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// What the relay knows about the phones: fleet status, receipts (verified here), pending
    /// enrollments, and a short-lived read-only link to the fleet page.
    #[command(subcommand)]
    Fleet(FleetCmd),
}

/// `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Directory for NAME.key and NAME.pub (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The key's name, e.g. `root` or `alex-it`.
    #[arg(long)]
    pub name: String,
}

/// `policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Sign a policy with one or more root keys (or a staff key with the update_policy role).
    Sign(PolicySignArgs),
    /// Show a signed policy's body and who signed it.
    Show(PolicyShowArgs),
    /// Check rules (JSON) or a signed policy against the field's guidance: errors (phones refuse
    /// the policy) and warnings, each naming its guidance rule. Fails when there is an error.
    Lint(PolicyLintArgs),
    /// Write a starting policy for a kind of line: `work` (org-owned phone), `byod` (personal
    /// phone) or `hotline` (an anonymous hotline on org-owned phones). docs/policy.md explains
    /// every field.
    Template(PolicyTemplateArgs),
}

/// `policy lint`.
#[derive(Debug, Args)]
pub struct PolicyLintArgs {
    /// Rules JSON, or a signed policy (a `QL:` file or the text itself).
    #[arg(value_name = "RULES.json|POLICY.ql")]
    pub policy: String,
}

/// The kinds of line a template is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateKind {
    /// Advocates on org-owned phones: working hours, full wipe allowed.
    Work,
    /// Advocates on their personal phones: selective wipe only.
    Byod,
    /// An anonymous hotline on org-owned phones: no caller numbers kept.
    Hotline,
}

/// `policy template`.
#[derive(Debug, Args)]
pub struct PolicyTemplateArgs {
    /// Which kind of line.
    #[arg(value_enum)]
    pub kind: TemplateKind,
    /// Where to write the rules JSON; stdout if not given. Never overwrites a file.
    #[arg(long, value_name = "RULES.json")]
    pub out: Option<PathBuf>,
}

/// `policy sign`.
#[derive(Debug, Args)]
pub struct PolicySignArgs {
    /// The rules, as policy JSON (`{"schema":1,"mode":"work", ...}`).
    #[arg(long, value_name = "RULES.json")]
    pub rules: PathBuf,
    /// The organisation id the phones were enrolled with.
    #[arg(long)]
    pub org: String,
    /// The policy version: higher than the one installed, never reused for other content.
    #[arg(long)]
    pub version: u64,
    /// Days until the policy expires. After that phones keep enforcing it, report it stale,
    /// and lock after the grace period.
    #[arg(long, value_name = "D")]
    pub expires_in_days: u32,
    /// Hours after expiry before a stale policy locks the phone.
    #[arg(long, value_name = "H", default_value_t = 72)]
    pub grace_hours: u32,
    /// Which devices: `*` for the whole fleet (the default) or a device id (16 hex digits);
    /// repeat for several devices.
    #[arg(long = "targets", value_name = "'*'|HEXID")]
    pub targets: Vec<String>,
    /// A staff key and its roles: NAME=PUBFILE=role1,role2. Roles: lock, wipe_selective,
    /// wipe_full, purge_survivor_data, update_policy. Repeat for each staff member.
    #[arg(long, value_name = "NAME=PUBFILE=ROLES")]
    pub staff: Vec<String>,
    /// A signing key file; repeat to sign with several root keys for a threshold.
    #[arg(long = "key", value_name = "KEYFILE", required = true)]
    pub keys: Vec<PathBuf>,
    /// The org root public key(s) the phones pinned: the signing keys are checked against them,
    /// so a policy signed with the wrong key is caught here rather than by the phone.
    #[arg(long, value_name = "ROOT.pub")]
    pub root_pub: Vec<PathBuf>,
    /// Where to write the signed policy (`QL:` text).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also queue it on the relay: the organisation's base URL there (https://HOST/o/ORG).
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
}

/// `policy show`.
#[derive(Debug, Args)]
pub struct PolicyShowArgs {
    /// A signed policy: a file, or the `QL:` text itself.
    #[arg(value_name = "FILE")]
    pub file: String,
}

/// Phone ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Organisation-owned: may be wiped whole; never shared.
    Work,
    /// The advocate's own phone: selective wipe only.
    Byod,
}

/// `enroll`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EnrollArgs {
    /// `accept`: take the phone's enrollment response.
    #[command(subcommand)]
    pub accept: Option<EnrollCmd>,
    /// The organisation id.
    #[arg(long, required = true)]
    pub org: Option<String>,
    /// The org root public key file the phone will pin.
    #[arg(long, value_name = "ROOT.pub", required = true)]
    pub root_pub: Option<PathBuf>,
    /// `work` (org-owned) or `byod` (personal phone).
    #[arg(long, value_enum, required = true)]
    pub mode: Option<ModeArg>,
    /// The initial signed policy for this phone (from `policy sign`).
    #[arg(long, value_name = "POLICY.ql", required = true)]
    pub policy: Option<PathBuf>,
    /// The device id (16 hex digits); random if not given.
    #[arg(long, value_name = "HEX16")]
    pub device_id: Option<String>,
    /// Where the phone polls for policies and commands.
    #[arg(long, value_name = "URL")]
    pub relay_url: Option<String>,
    /// Where to write the bundle (`QL:` text).
    #[arg(long, value_name = "BUNDLE.ql", required = true)]
    pub out: Option<PathBuf>,
    /// Also show the bundle as a QR code for the phone's camera: in the terminal when it fits 80
    /// columns, otherwise written as an SVG image next to the bundle (BUNDLE.ql.svg).
    #[arg(long)]
    pub qr: bool,
    /// Write the QR code as an SVG image to this file (whatever its size).
    #[arg(long, value_name = "FILE.svg")]
    pub qr_svg: Option<PathBuf>,
    /// Announce the enrollment on the relay (https://HOST/o/ORG), so it accepts the phone's
    /// response; also the bundle's relay URL unless --relay-url is given. Needs --relay-key.
    #[arg(long, value_name = "URL", requires = "relay_key")]
    pub relay: Option<String>,
    /// The staff (or root) key that signs requests to the relay.
    #[arg(long, value_name = "KEYFILE")]
    pub relay_key: Option<PathBuf>,
}

/// `enroll accept`.
#[derive(Debug, Subcommand)]
pub enum EnrollCmd {
    /// Verify a phone's enrollment response and write the device record for commands.
    Accept(EnrollAcceptArgs),
}

/// `enroll accept`.
#[derive(Debug, Args)]
pub struct EnrollAcceptArgs {
    /// The enrollment response: a file, or the `QL:` text itself.
    #[arg(value_name = "RESPONSE_FILE")]
    pub response: String,
    /// The bundle this phone was enrolled from (`enroll --out`): the response must prove it
    /// knows the bundle's secret, so a relay cannot substitute its own device key.
    #[arg(long, value_name = "BUNDLE_FILE")]
    pub bundle: PathBuf,
    /// Where to write the device record (JSON).
    #[arg(long, value_name = "DEVICE.json")]
    pub out: PathBuf,
    /// Tell the relay (https://HOST/o/ORG) that this device key is the accepted one. Needs --relay-key.
    #[arg(long, value_name = "URL", requires = "relay_key")]
    pub relay: Option<String>,
    /// The staff (or root) key that signs requests to the relay.
    #[arg(long, value_name = "KEYFILE")]
    pub relay_key: Option<PathBuf>,
}

/// `command ...`.
#[derive(Debug, Subcommand)]
pub enum CommandCmd {
    /// Lock the phone's screen now.
    Lock(CommandArgs),
    /// Wipe the phone: selective (the agent's data and the work profile) or full (work phones
    /// only; a personal phone performs the selective wipe and its receipt says so).
    Wipe(WipeArgs),
    /// Purge survivor data from the phone (before it is handed to someone else).
    Purge(CommandArgs),
    /// Ask the phone for a signed receipt, to see that it is alive and enrolled.
    Ping(CommandArgs),
}

/// What every command needs.
#[derive(Debug, Args)]
pub struct CommandArgs {
    /// The device record (from `enroll accept`); its next_seq is advanced.
    #[arg(long, value_name = "DEVICE.json")]
    pub device: PathBuf,
    /// The staff key file that signs (its role must allow the command).
    #[arg(long, value_name = "STAFFKEY")]
    pub key: PathBuf,
    /// Minutes until the command expires (at most 7 days).
    #[arg(long, value_name = "M", default_value_t = 60)]
    pub expires_in_mins: u32,
    /// The sequence number; by default the device record's next_seq (with --relay, also after
    /// anything other IT laptops queued there).
    #[arg(long, value_name = "N")]
    pub seq: Option<u32>,
    /// The device's current signed policy: the command is checked against its staff keys,
    /// roles and wipe scopes before it is signed, and refused with the reason the phone would give.
    #[arg(long, value_name = "POLICY.ql")]
    pub policy: Option<String>,
    /// Queue the command on the relay: the organisation's base URL there (https://HOST/o/ORG).
    /// The request is signed with --key.
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// For a phone with no data connection: show an `sms:` link to NUMBER (the phone's own
    /// number, +E.164) with the command as its text, as a QR code to scan with IT's phone.
    #[arg(long, value_name = "NUMBER")]
    pub sms_qr: Option<String>,
}

/// Wipe scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// The agent's data and the work profile.
    Selective,
    /// The whole phone (work phones).
    Full,
}

/// `command wipe`.
#[derive(Debug, Args)]
pub struct WipeArgs {
    /// Common arguments.
    #[command(flatten)]
    pub common: CommandArgs,
    /// Which wipe.
    #[arg(long, value_enum, default_value_t = ScopeArg::Selective)]
    pub scope: ScopeArg,
}

/// `receipt ...`.
#[derive(Debug, Subcommand)]
pub enum ReceiptCmd {
    /// Verify a receipt's signature with the device key and print what it says.
    Verify(ReceiptVerifyArgs),
}

/// `receipt verify`.
#[derive(Debug, Args)]
pub struct ReceiptVerifyArgs {
    /// The receipt: a file, or the `QL:` text itself.
    #[arg(value_name = "RECEIPT_FILE_OR_TEXT")]
    pub receipt: String,
    /// The device record of the phone that sent it.
    #[arg(long, value_name = "DEVICE.json")]
    pub device: PathBuf,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Any `QL:` object: a file, or the text itself.
    #[arg(value_name = "TEXT_OR_FILE")]
    pub object: String,
    /// Org root public key file(s): policies, root rotations and bundles are checked against them.
    #[arg(long, value_name = "FILE")]
    pub root_pub: Vec<PathBuf>,
    /// How many of the --root-pub keys must have signed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threshold: u32,
    /// A device record: commands are checked as this device would, receipts and enrollment
    /// responses against its key.
    #[arg(long, value_name = "DEVICE.json")]
    pub device: Option<PathBuf>,
    /// A staff public key file a command may be signed with (repeatable).
    #[arg(long, value_name = "FILE")]
    pub staff_pub: Vec<PathBuf>,
    /// A signed policy whose staff keys and roles a command is checked against.
    #[arg(long, value_name = "POLICY.ql")]
    pub policy: Option<String>,
}

/// `profile ...`.
#[derive(Debug, Subcommand)]
pub enum ProfileCmd {
    /// An Apple configuration profile (.mobileconfig): Passcode and lock-screen Restrictions payloads.
    ///
    /// Written to --out, or to stdout with the notes on stderr. Unsigned: the MDM signs it.
    Apple(ProfileAppleArgs),
    /// An Android Management API `Policy` (JSON): lock timeout, password policy, keyguard features.
    ///
    /// Written to --out, or to stdout with the notes on stderr, so the JSON stays a valid Policy.
    Android(ProfileAndroidArgs),
}

/// `profile apple`.
#[derive(Debug, Args)]
pub struct ProfileAppleArgs {
    /// A signed policy (`QL:` file or text) or a rules JSON file.
    #[arg(value_name = "POLICY")]
    pub policy: String,
    /// Where to write the .mobileconfig; stdout if not given.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The organisation name shown on the phone; by default the signed policy's org.
    #[arg(long)]
    pub org: Option<String>,
    /// The profile's reverse-DNS PayloadIdentifier; by default org.quietline.policy.ORG.
    #[arg(long, value_name = "ID")]
    pub identifier: Option<String>,
}

/// `profile android`.
#[derive(Debug, Args)]
pub struct ProfileAndroidArgs {
    /// A signed policy (`QL:` file or text) or a rules JSON file.
    #[arg(value_name = "POLICY")]
    pub policy: String,
    /// Where to write the Policy JSON; stdout if not given.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `fleet ...`.
#[derive(Debug, Subcommand)]
pub enum FleetCmd {
    /// List every device: mode, last check-in, policy version and staleness, compliance
    /// findings, commands queued/delivered/acknowledged, and receipts verified locally.
    Status(FleetArgs),
    /// Fetch receipts from the relay and verify each against its device record.
    Receipts(FleetArgs),
    /// Print enrollment responses waiting to be accepted (`enroll accept`), one per line.
    Enrollments(FleetArgs),
    /// Print a read-only link to the relay's fleet page, valid for a few minutes. The link
    /// carries a short-lived view grant signed by --key, nothing else.
    Link(LinkArgs),
}

/// What every `fleet` command needs.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// The organisation's base URL on the relay (https://HOST/o/ORG).
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// A staff (or root) key file that signs the request.
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// Device records (`enroll accept` output) to verify receipts with: files or directories
    /// of *.json. Repeatable.
    #[arg(long = "device", value_name = "DEVICE.json|DIR")]
    pub devices: Vec<PathBuf>,
}

/// `fleet link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The organisation's base URL on the relay.
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// The staff key that signs the grant.
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// Minutes the link works (at most 60).
    #[arg(long, value_name = "M", default_value_t = 15)]
    pub minutes: u32,
}
