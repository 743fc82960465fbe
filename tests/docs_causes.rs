//! `docs/causes.md` is the cause catalogue rendered from the table in `src/diagnose/causes/`: this test
//! fails when the file is stale, and rewrites it when `UPDATE_DOCS` is set.
#![allow(clippy::unwrap_used, clippy::panic)]

#[test]
fn docs_causes_md_is_rendered_from_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/causes.md");
    let rendered = rdpdiag::diagnose::render_catalogue();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "docs/causes.md is stale: run `UPDATE_DOCS=1 cargo test --test docs_causes`"
    );
    // Every cause is in it, under its id.
    for id in rdpdiag::diagnose::CauseId::ALL {
        assert!(rendered.contains(&format!("### `{id}`")), "{id}");
    }
}
