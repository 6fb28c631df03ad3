//! docs/policy.md and docs/policy.schema.json are generated from the code: this test fails when
//! the checked-in files drift. Regenerate with
//! `cargo run -p quietline-admin --example gen_policy_docs`.

use quietline_admin::policy_docs::{policy_md, schema_json};
use std::path::Path;

fn checked_in(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn policy_docs_match_the_code() {
    assert!(
        checked_in("policy.md") == policy_md(),
        "docs/policy.md is out of date: run `cargo run -p quietline-admin --example gen_policy_docs`"
    );
}

#[test]
fn policy_schema_matches_the_code() {
    assert!(
        checked_in("policy.schema.json") == schema_json(),
        "docs/policy.schema.json is out of date: run `cargo run -p quietline-admin --example gen_policy_docs`"
    );
}

#[test]
fn every_policy_field_and_guidance_rule_is_documented() {
    let md = policy_md();
    let full: serde_json::Value =
        serde_json::to_value(quietline_core::Policy::default_for(quietline_core::policy::Mode::Work)).expect("json");
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.push(path.clone());
                walk(&path, v, out);
            }
        }
    }
    let mut fields = Vec::new();
    walk("", &full, &mut fields);
    assert!(fields.len() > 40, "{fields:?}");
    for f in fields {
        assert!(md.contains(&format!("`{f}`")), "{f} is not documented");
    }
    for r in quietline_core::guidance::RULES {
        assert!(md.contains(&format!("`{}`", r.id)), "rule {} is not documented", r.id);
    }
}

#[test]
fn the_schema_accepts_every_template_and_knows_every_field() {
    let schema: serde_json::Value = serde_json::from_str(&schema_json()).expect("schema is JSON");
    let props = schema["properties"].as_object().expect("properties");
    for kind in [
        quietline_admin::cli::TemplateKind::Work,
        quietline_admin::cli::TemplateKind::Byod,
        quietline_admin::cli::TemplateKind::Hotline,
    ] {
        let t: serde_json::Value =
            serde_json::from_str(&quietline_admin::templates::template_json(kind)).expect("template");
        for k in t.as_object().expect("object").keys() {
            assert!(props.contains_key(k), "{k} missing from the schema");
        }
    }
    assert_eq!(schema["additionalProperties"], serde_json::Value::Bool(false), "unknown fields are refused");
}
