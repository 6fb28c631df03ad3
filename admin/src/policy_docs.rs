//! docs/policy.md and docs/policy.schema.json, generated from the code: the policy's JSON
//! Schema (schemars, from the types and their `///` docs), the guidance rules and the templates.
//! `admin/tests/policy_docs.rs` fails when the checked-in files drift;
//! `cargo run -p quietline-admin --example gen_policy_docs` writes them again.

use crate::cli::TemplateKind;
use crate::templates::template_json;
use quietline_core::guidance::{Level, RULES};
use quietline_core::Policy;
use serde_json::{Map, Value};

/// The policy's JSON Schema (draft 2020-12), pretty-printed, for editors and validators.
pub fn schema_json() -> String {
    let mut schema = serde_json::to_value(schemars::schema_for!(Policy)).unwrap_or_default();
    if let Some(o) = schema.as_object_mut() {
        o.insert("$id".into(), Value::String("https://quietline.invalid/policy.schema.json".into()));
    }
    format!("{}\n", serde_json::to_string_pretty(&schema).unwrap_or_default())
}

const INTRO: &str = "\
# The policy

<!-- Generated from the code by `cargo run -p quietline-admin --example gen_policy_docs`.
     Do not edit: admin/tests/policy_docs.rs fails when this file drifts from the code. -->

A policy is what an organisation asks of an advocate's phone, one section per rule of the field's
guidance. IT staff write it as JSON, sign it with `quietline-admin policy sign`, and the phone
enforces it. Every section has defaults that follow the guidance, so `{\"schema\":1,\"mode\":\"byod\"}`
is a complete, safe policy. Unknown fields and values outside their range are refused with an
error that names the field.

Start from a template: `quietline-admin policy template work|byod|hotline --out rules.json`
(shown at the end of this page). Check a policy with `quietline-admin policy lint rules.json`.

The same fields are published as a JSON Schema, [`policy.schema.json`](policy.schema.json), so an
editor can complete and check a rules file: add `\"$schema\": \"./policy.schema.json\"` in the
editor's settings for `*.rules.json` (the policy itself refuses unknown fields, `$schema` included).

## Errors and warnings

The policy's values are first checked against their ranges. Then the policy is checked against the
field's guidance (the rules below, from `core/src/guidance.rs`):

- An **error** is a policy no program could want: a caller-ID prefix that shows the advocate's
  number, a personal phone without a secure lock or cleanup, a hotline that promises anonymity and
  keeps numbers, no way to wipe a lost phone, a version 0 or a policy that never expires. The
  core refuses it wherever a policy is accepted: `policy sign` and `policy lint` refuse it, and a
  phone refuses it even when it is validly signed.
- A **warning** is a policy weaker than the guidance recommends that a program may still choose
  for its reasons. `policy lint` and `policy sign` print each warning with its rule; the phone
  accepts the policy.

A phone checks a policy against the rules when it is installed. A policy already installed is not
checked again when the phone starts, so a phone whose policy predates a new rule keeps working
until IT signs a new one.
";

/// docs/policy.md.
pub fn policy_md() -> String {
    let schema = serde_json::to_value(schemars::schema_for!(Policy)).unwrap_or_default();
    let empty = Map::new();
    let defs = schema.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let mut md = String::from(INTRO);
    md.push_str("\n| rule | level | field | what the guidance asks |\n| --- | --- | --- | --- |\n");
    for r in RULES {
        let level = if r.level == Level::Error { "error" } else { "warning" };
        md.push_str(&format!("| `{}` | {level} | `{}` | {} |\n", r.id, r.field, cell(r.guidance)));
    }
    md.push_str(SIGNED_TERMS);
    md.push_str(CHECKLIST);
    md.push_str("\n## Fields\n\n| field | type | default | meaning |\n| --- | --- | --- | --- |\n");
    let props = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut names: Vec<&String> = props.keys().collect();
    names.sort_by_key(|n| (!required.contains(&n.as_str()), n.as_str()));
    for name in names {
        field_rows(&mut md, name, &props[name.as_str()], defs, required.contains(&name.as_str()));
    }
    md.push_str("\n## Templates\n");
    for (kind, what) in [
        (TemplateKind::Work, "Advocates on org-owned phones: working hours set, numbers shown on direct calls to clients outside the helpline (helpline calls stay hidden), full wipe allowed."),
        (TemplateKind::Byod, "Advocates on their personal phones: every survivor call hidden and cleaned up, texts to survivors blocked, selective wipe only."),
        (TemplateKind::Hotline, "A hotline that promises anonymity, on org-owned phones: no caller numbers are registered or kept."),
    ] {
        md.push_str(&format!("\n### `{}`\n\n{what}\n\n```json\n{}\n```\n", format!("{kind:?}").to_lowercase(), template_json(kind)));
    }
    md
}

const CHECKLIST: &str = "
## What the app cannot enforce

Some of the guidance lives outside the phone: the phone system may transcribe voicemail into
email or texts, the carrier's online account and bills list every call, free VoIP services are
less secure and may use the data for marketing, and a VoIP number reused with several survivors
links them. No app can check these, so the policy carries a `checklist`: IT staff check each item
by hand and write the date they confirmed it (`\"2026-11-20\"`). The phone's compliance report
lists every item with that date, or as unconfirmed, and `policy lint` warns about the items not
yet confirmed (`checklist-unconfirmed`). Confirm them again when the phone system, the carrier or
the VoIP provider changes: the date shows how old each confirmation is.
";

const SIGNED_TERMS: &str = "
The rules `policy-version-zero`, `policy-lifetime`, `no-staff-key`, `no-wipe-role` and
`policy-lifetime-long` look at the signed policy around the rules (`--version`,
`--expires-in-days`, `--staff`), not at the rules JSON. `policy sign` also refuses to sign with a
key that the policy names as a staff key without the `update_policy` role, and, given
`--root-pub`, with any key that is not one of the org's root keys: the phone would refuse either.
";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn resolve<'a>(v: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    // An optional section (`Option<T>`) is `anyOf: [{$ref}, {type: null}]`: documented as `T`.
    if let Some(alts) = v.get("anyOf").and_then(Value::as_array) {
        if let Some(r) = alts.iter().find(|a| a.get("$ref").is_some()) {
            return resolve(r, defs);
        }
    }
    match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => defs.get(name).unwrap_or(v),
        None => v,
    }
}

fn type_of(v: &Value, defs: &Map<String, Value>) -> String {
    let t = resolve(v, defs);
    if let Some(alts) = t.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = alts.iter().filter_map(|a| a.get("const")).map(|c| format!("`{c}`")).collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(vals) = t.get("enum").and_then(Value::as_array) {
        return format!("one of {}", vals.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "));
    }
    if t.get("pattern").is_some() && t.get("type").and_then(Value::as_str) == Some("string") {
        return "`\"HH:MM\"`".into();
    }
    match t.get("type") {
        Some(Value::String(s)) if s == "array" => match t.get("items") {
            Some(items) => format!("list of {}", type_of(items, defs)),
            None => "list".into(),
        },
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "object".into(),
    }
}

fn field_rows(md: &mut String, path: &str, v: &Value, defs: &Map<String, Value>, required: bool) {
    let t = resolve(v, defs);
    // A section's own default (e.g. `offline.check_in`) overrides its type's defaults.
    let own_default = v.get("default");
    let doc = v.get("description").or_else(|| t.get("description")).and_then(Value::as_str).unwrap_or("");
    if let Some(props) = t.get("properties").and_then(Value::as_object) {
        let optional = if v.get("anyOf").is_some() { " absent " } else { " " };
        md.push_str(&format!("| **`{path}`** | section |{optional}| {} |\n", cell(doc)));
        let required: Vec<&str> =
            t.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for (name, p) in props {
            let mut p = p.clone();
            if let (Some(d), Some(o)) = (own_default.and_then(|d| d.get(name)), p.as_object_mut()) {
                o.insert("default".into(), d.clone());
            }
            field_rows(md, &format!("{path}.{name}"), &p, defs, required.contains(&name.as_str()));
        }
        return;
    }
    let mut meaning = cell(doc);
    if let Some(alts) = t.get("oneOf").and_then(Value::as_array) {
        for a in alts {
            let (Some(c), Some(d)) = (a.get("const"), a.get("description").and_then(Value::as_str)) else { continue };
            meaning.push_str(&format!("<br>`{c}`: {}", cell(d)));
        }
    }
    let default =
        if required { "required".to_string() } else { own_default.map(|d| format!("`{d}`")).unwrap_or_default() };
    md.push_str(&format!("| `{path}` | {} | {default} | {meaning} |\n", type_of(v, defs)));
}
