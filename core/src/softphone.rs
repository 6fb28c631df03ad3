//! The organisation's calling app ("softphone"), named in the signed policy
//! (`caller_id.softphone`). On a personal phone's work profile the personal dialer would show the
//! advocate's number and log the survivor's in the personal call log, so helpline calls are handed
//! to the organisation's calling app, which places them over the organisation's VoIP service. The
//! policy names it with a URI template that has exactly one `{number}`, where the phone puts the
//! agent's dial string (`acmevoice://call?to={number}`), and, for Android, the app's package.
//!
//! Only calls the agent allowed are handed over, with the agent's dial string, and only through a
//! template that stays in a calling app: schemes that the platform or another app turns into a
//! plain cellular call, a text, a FaceTime call, a web page or a generic link are refused here,
//! when the policy is parsed, so a phone never receives such a template in a valid policy. The
//! same check serves the apps' fallback, a template set in the app's managed configuration.

use serde::{Deserialize, Serialize};

/// Where the dial string goes in the template.
pub const PLACEHOLDER: &str = "{number}";
/// The longest template accepted, in bytes.
pub const MAX_CALL_URI_BYTES: usize = 256;
/// The longest Android package name accepted (AOSP `FrameworkParsingPackageUtils.validateName`,
/// `MAX_FILE_NAME_SIZE`).
pub const MAX_PACKAGE_BYTES: usize = 223;

/// Schemes refused in a template, lower case. Each would not reach the organisation's calling app
/// or would not place a call through it:
/// - `tel`, `sip`, `sips`, `voicemail`: Telecom's call schemes (`PhoneAccount.SCHEME_*`); in a
///   work profile with no handler they are forwarded to the personal dialer (AOSP
///   `DefaultCrossProfileIntentFiltersUtils`, `DIAL_DATA`), and `sip:` is claimed by most VoIP apps
///   (Acrobits "Call URIs"), so it need not reach the organisation's;
/// - `sms`, `smsto`, `mms`, `mmsto`: texts, always forwarded to the personal profile (`SMS_MMS`);
/// - `telprompt`: iOS's Phone app, which dials the cellular line; `facetime`, `facetime-audio`:
///   FaceTime, which shows the advocate's Apple ID or number (Apple URL Scheme Reference, "Phone
///   Links", "FaceTime Links"); `callto`: the generic calling link of desktop and VoIP clients;
/// - `http`, `https`, `ftp`, `mailto`, `data`, `javascript`, `file`, `content`, `intent`,
///   `market`, `android-app`: web pages, mail, documents and generic Android links, not a call.
pub const REFUSED_SCHEMES: &[&str] = &[
    "tel",
    "sip",
    "sips",
    "voicemail",
    "sms",
    "smsto",
    "mms",
    "mmsto",
    "telprompt",
    "facetime",
    "facetime-audio",
    "callto",
    "http",
    "https",
    "ftp",
    "mailto",
    "data",
    "javascript",
    "file",
    "content",
    "intent",
    "market",
    "android-app",
];

/// The organisation's calling app, which places helpline calls from a personal phone (and the
/// calls the agent sends through the organisation's VoIP service) with the organisation's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Softphone {
    /// URI template the calling app opens to place a call, with exactly one `{number}` where the
    /// phone puts the agent's dial string (`acmevoice://call?to={number}`): at most 256 bytes of
    /// printable ASCII (RFC 3986 characters), with the app's own scheme. `tel`, `sip`, `sms`,
    /// `facetime`, web and similar schemes are refused: they would not stay in the calling app.
    pub call_uri: String,
    /// The calling app's Android package (`com.acme.voice`): the hand-off then goes only to that
    /// app inside the work profile. Optional; iOS opens the URI with whatever app claims the scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android_package: Option<String>,
}

/// Why a softphone setting was refused. The messages quote IT's setting at most by its scheme or
/// length, never a dial string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoftphoneError {
    /// The template is longer than [`MAX_CALL_URI_BYTES`].
    #[error("is {0} bytes, more than the {MAX_CALL_URI_BYTES} allowed")]
    TooLong(usize),
    /// `{number}` is missing or repeated.
    #[error("must contain {{number}} exactly once (found {0})")]
    Placeholder(usize),
    /// A character that is not a printable ASCII URI character (whitespace and control characters
    /// included), or a `%` not followed by two hex digits.
    #[error("may hold only printable ASCII URI characters (RFC 3986; percent-encode anything else), no spaces or control characters")]
    NotUriCharacters,
    /// No RFC 3986 scheme (`letter *( letter / digit / "+" / "-" / "." ) ":"`) before `{number}`.
    #[error("does not start with a URI scheme (such as \"acmevoice:\")")]
    NoScheme,
    /// A scheme in [`REFUSED_SCHEMES`].
    #[error("uses \"{0}:\", which would not stay in the organisation's calling app")]
    RefusedScheme(String),
    /// Not an Android package name.
    #[error("is not an Android package name (letter-led segments of letters, digits and _, separated by dots, at most {MAX_PACKAGE_BYTES} characters)")]
    BadPackage,
}

impl SoftphoneError {
    /// The field of [`Softphone`] it is about (`call_uri` or `android_package`).
    pub fn field(&self) -> &'static str {
        match self {
            SoftphoneError::BadPackage => "android_package",
            _ => "call_uri",
        }
    }
}

fn is_uri_char(c: char) -> bool {
    // RFC 3986 unreserved, reserved and `%`.
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// The template's scheme, lower case, if it starts with one (RFC 3986 section 3.1).
fn scheme_of(template: &str) -> Option<String> {
    let (scheme, _) = template.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    Some(scheme.to_ascii_lowercase())
}

/// Checks a URI template (see [`Softphone::call_uri`]).
pub fn check_call_uri(template: &str) -> Result<(), SoftphoneError> {
    if template.len() > MAX_CALL_URI_BYTES {
        return Err(SoftphoneError::TooLong(template.len()));
    }
    let count = template.matches(PLACEHOLDER).count();
    if count != 1 {
        return Err(SoftphoneError::Placeholder(count));
    }
    let rest = template.replace(PLACEHOLDER, "");
    if !rest.chars().all(is_uri_char) {
        return Err(SoftphoneError::NotUriCharacters);
    }
    let bytes = rest.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%' && !(bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))) {
            return Err(SoftphoneError::NotUriCharacters);
        }
    }
    let scheme = scheme_of(template).ok_or(SoftphoneError::NoScheme)?;
    if REFUSED_SCHEMES.contains(&scheme.as_str()) {
        return Err(SoftphoneError::RefusedScheme(scheme));
    }
    Ok(())
}

/// Checks an Android package name as AOSP's `FrameworkParsingPackageUtils.validateName` does for
/// an application package (at least one `.`, each segment a letter then letters, digits and `_`,
/// at most 223 characters), and refuses empty segments too.
pub fn check_android_package(name: &str) -> Result<(), SoftphoneError> {
    let ok = name.len() <= MAX_PACKAGE_BYTES
        && name.contains('.')
        && name.split('.').all(|seg| {
            let mut c = seg.chars();
            c.next().is_some_and(|f| f.is_ascii_alphabetic()) && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(SoftphoneError::BadPackage)
    }
}

impl Softphone {
    /// A checked softphone setting (from the policy, or from an app's managed configuration).
    pub fn new(call_uri: &str, android_package: Option<&str>) -> Result<Self, SoftphoneError> {
        let s = Softphone { call_uri: call_uri.to_string(), android_package: android_package.map(str::to_string) };
        s.check()?;
        Ok(s)
    }

    /// Checks the template and the package.
    pub fn check(&self) -> Result<(), SoftphoneError> {
        check_call_uri(&self.call_uri)?;
        if let Some(p) = &self.android_package {
            check_android_package(p)?;
        }
        Ok(())
    }

    /// The template's scheme, lower case (`acmevoice`).
    pub fn scheme(&self) -> String {
        scheme_of(&self.call_uri).unwrap_or_default()
    }

    /// The URI that asks the calling app to dial `dial_string`: only its digits, `+`, `*` and `#`
    /// are kept, percent-encoded into the template. `None` when no digit is left. Holds the
    /// number: for the hand-off only, never for a log or an error.
    pub fn call_uri_for(&self, dial_string: &str) -> Option<String> {
        let mut encoded = String::new();
        let mut digits = 0;
        for c in dial_string.chars() {
            match c {
                '0'..='9' => {
                    digits += 1;
                    encoded.push(c);
                }
                '+' => encoded.push_str("%2B"),
                '*' => encoded.push_str("%2A"),
                '#' => encoded.push_str("%23"),
                _ => {}
            }
        }
        (digits > 0).then(|| self.call_uri.replacen(PLACEHOLDER, &encoded, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_scheme_with_one_placeholder_is_accepted() {
        let s = Softphone::new("acmevoice://call?to={number}", Some("com.acme.voice")).expect("valid");
        assert_eq!(s.scheme(), "acmevoice");
        assert_eq!(s.call_uri_for("*67 (202) 555-0143").as_deref(), Some("acmevoice://call?to=%2A672025550143"));
        assert_eq!(s.call_uri_for("+12025550143").as_deref(), Some("acmevoice://call?to=%2B12025550143"));
        assert_eq!(s.call_uri_for("*#"), None);
        assert!(Softphone::new("x-acme.voice+v2:{number}", None).is_ok());
    }

    #[test]
    fn every_refused_scheme_is_refused_in_any_case() {
        for scheme in REFUSED_SCHEMES {
            for s in [scheme.to_string(), scheme.to_ascii_uppercase()] {
                assert_eq!(
                    check_call_uri(&format!("{s}:{{number}}")),
                    Err(SoftphoneError::RefusedScheme(scheme.to_string())),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn malformed_templates_are_refused_with_the_reason() {
        assert_eq!(check_call_uri("acmevoice://call"), Err(SoftphoneError::Placeholder(0)));
        assert_eq!(check_call_uri("acmevoice://{number}/{number}"), Err(SoftphoneError::Placeholder(2)));
        assert_eq!(check_call_uri("acmevoice://call?to={number} "), Err(SoftphoneError::NotUriCharacters));
        assert_eq!(check_call_uri("acmevoice://call?to=\n{number}"), Err(SoftphoneError::NotUriCharacters));
        assert_eq!(check_call_uri("acmevoice://café?to={number}"), Err(SoftphoneError::NotUriCharacters));
        assert_eq!(check_call_uri("acmevoice://c?to={number}&x={y}"), Err(SoftphoneError::NotUriCharacters));
        assert_eq!(check_call_uri("acmevoice://c?to={number}%2"), Err(SoftphoneError::NotUriCharacters));
        assert_eq!(check_call_uri("//call?to={number}"), Err(SoftphoneError::NoScheme));
        assert_eq!(check_call_uri("{number}:call"), Err(SoftphoneError::NoScheme));
        assert_eq!(check_call_uri("1voice:{number}"), Err(SoftphoneError::NoScheme));
        let long = format!("acmevoice://call?to={{number}}&pad={}", "a".repeat(MAX_CALL_URI_BYTES));
        assert_eq!(check_call_uri(&long), Err(SoftphoneError::TooLong(long.len())));
        assert!(check_call_uri("acmevoice://c?to={number}%2B").is_ok());
    }

    #[test]
    fn package_names_follow_android() {
        for ok in ["com.acme.voice", "a.b", "Org.Example_1.x9"] {
            assert_eq!(check_android_package(ok), Ok(()), "{ok}");
        }
        let long = format!("com.{}", "a".repeat(MAX_PACKAGE_BYTES));
        for bad in
            ["acme", "com..acme", ".com.acme", "com.acme.", "com.1acme", "com.ac me", "com.acme-voice", "", &long]
        {
            assert_eq!(check_android_package(bad), Err(SoftphoneError::BadPackage), "{bad}");
        }
        assert_eq!(SoftphoneError::BadPackage.field(), "android_package");
        assert_eq!(SoftphoneError::NoScheme.field(), "call_uri");
    }
}
