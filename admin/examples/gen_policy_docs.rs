//! Writes docs/policy.md and docs/policy.schema.json from the code (run from the workspace root
//! or anywhere: the paths are relative to this crate).

fn main() -> std::io::Result<()> {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::write(docs.join("policy.md"), quietline_admin::policy_docs::policy_md())?;
    std::fs::write(docs.join("policy.schema.json"), quietline_admin::policy_docs::schema_json())?;
    println!("wrote docs/policy.md and docs/policy.schema.json");
    Ok(())
}
