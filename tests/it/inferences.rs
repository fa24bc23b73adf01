//! `docs/inferences.md` and the code agree: every `[I:slug]` tag in `src/` has its section
//! (`### slug`) and every section is tagged somewhere; no anonymous `[I]` is left.

use std::collections::BTreeSet;
use std::path::Path;

use crate::house::rust_files;

/// The slugs of `[I:slug]` tags in a text, and the spellings of `[I` that are not tags.
fn tags(text: &str) -> (BTreeSet<String>, Vec<String>) {
    let mut slugs = BTreeSet::new();
    let mut malformed = Vec::new();
    for (at, _) in text.match_indices("[I") {
        let rest = &text[at + 2..];
        match rest.chars().next() {
            Some(':') => {
                let slug: String = rest[1..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                    .collect();
                if !slug.is_empty() && rest[1 + slug.len()..].starts_with(']') {
                    slugs.insert(slug);
                } else if !rest.starts_with(":…]") {
                    malformed.push(rest.chars().take(30).collect());
                }
            }
            Some(']' | ' ') => malformed.push(rest.chars().take(30).collect()),
            _ => {}
        }
    }
    (slugs, malformed)
}

#[test]
fn every_inference_tag_has_its_section_and_every_section_a_tag() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut tagged = BTreeSet::new();
    let mut malformed = Vec::new();
    for file in &files {
        let (slugs, bad) = tags(&std::fs::read_to_string(file).unwrap());
        tagged.extend(slugs);
        malformed.extend(
            bad.into_iter()
                .map(|b| format!("{}: [I{b}", file.display())),
        );
    }
    assert!(malformed.is_empty(), "untagged inferences: {malformed:#?}");
    let doc = std::fs::read_to_string(root.join("docs/inferences.md")).unwrap();
    let sections: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(str::to_owned)
        .collect();
    let undocumented: Vec<_> = tagged.difference(&sections).collect();
    let untagged: Vec<_> = sections.difference(&tagged).collect();
    assert!(
        undocumented.is_empty() && untagged.is_empty(),
        "tags without a section in docs/inferences.md: {undocumented:?}; sections without a tag in src/: {untagged:?}"
    );
    assert!(tagged.len() >= 40, "{} tags", tagged.len());
}

#[test]
fn tags_are_read_exactly() {
    let (slugs, bad) = tags("a [I:kit-sign-case]. b [I] c [I: free text] d [Instance] e [I:…]");
    assert_eq!(slugs, BTreeSet::from(["kit-sign-case".to_owned()]));
    assert_eq!(bad.len(), 2, "{bad:?}");
}
