//! The README stays true: its YAML examples parse, its scenario example is a valid scenario,
//! and the commands it shows exist.

use crate::support::kgsim;

fn blocks(language: &str) -> Vec<String> {
    let readme = include_str!("../../README.md");
    let fence = format!("```{language}\n");
    readme
        .split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn every_yaml_example_parses_and_the_scenario_example_is_valid() {
    let yaml = blocks("yaml");
    assert!(yaml.len() >= 3, "expected the scenario and two CI examples");
    for block in &yaml {
        kgsim::scenario::format::yaml::parse(block)
            .unwrap_or_else(|e| panic!("{e:?} in:\n{block}"));
    }
    let scenario = yaml
        .iter()
        .find(|b| b.starts_with("name:"))
        .expect("a scenario example");
    kgsim::scenario::format::decode::decode("README.md", scenario)
        .expect("the README's scenario is valid");
}

#[test]
fn the_commands_shown_exist() {
    for command in [
        "run",
        "validate",
        "schema",
        "checks",
        "snapshots",
        "merchant",
        "sign",
        "verify",
        "crypt",
        "load",
        "openapi",
    ] {
        let help = kgsim(&[command, "--help"], None, None);
        assert_eq!(help.code, 0, "kgsim {command} --help: {}", help.stderr);
    }
    let help = kgsim(&["--help"], None, None);
    assert!(help.stdout.contains("Exit codes: 0"), "{}", help.stdout);
}

/// The kind matrix in the README is the code's table: each row's required and optional
/// interfaces, and how many scenarios pass by default against the reference merchant — the
/// eight SaaS kinds and the four License ones.
#[test]
fn the_kind_matrix_is_the_codes_table() {
    use kgsim::marketplace::kind::{ProductKind, ProductType};
    use kgsim::protocol::{BillingMode, Protocol};
    let readme = include_str!("../../README.md");
    let license_kinds = [ProductType::LicenseCode, ProductType::OnlineLicense]
        .into_iter()
        .flat_map(|product| {
            [BillingMode::Period, BillingMode::OneTime].map(|billing| ProductKind {
                protocol: Protocol::V2,
                billing,
                product,
            })
        });
    let mut rows = 0;
    for kind in ProductKind::all().chain(license_kinds) {
        let product = match kind.product {
            ProductType::Saas => String::new(),
            other => format!("{other} "),
        };
        let label = format!(
            "| {} {product}{} |",
            kind.protocol.slug().to_uppercase(),
            kind.billing
        );
        let row = readme
            .lines()
            .find(|line| line.starts_with(&label))
            .unwrap_or_else(|| panic!("no README row {label}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let names = |activities: &[kgsim::protocol::Activity]| {
            let names: Vec<&str> = activities
                .iter()
                .filter_map(|a| a.wire_name(kind.protocol))
                .collect();
            if names.is_empty() {
                "—".to_owned()
            } else {
                names.join(", ")
            }
        };
        assert_eq!(cells[2], names(kind.required()), "{label} required");
        assert_eq!(cells[3], names(kind.optional()), "{label} optional");
        let count: u64 = cells[4]
            .rsplit_once('(')
            .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
            .unwrap_or_else(|| panic!("{label}: no scenario count"));
        let (run, report) = crate::support::kgsim_json(
            &[
                "run",
                "--no-snapshots",
                "--protocol",
                kind.protocol.slug(),
                "--billing",
                &kind.billing.to_string(),
                "--product",
                kind.product.slug(),
            ],
            Some("readme-key"),
        );
        assert_eq!(run.code, 0, "{label}");
        assert_eq!(report["summary"]["passed"], count, "{label} scenario count");
        rows += 1;
    }
    assert_eq!(rows, 12);
}
