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
    ] {
        let help = kgsim(&[command, "--help"], None, None);
        assert_eq!(help.code, 0, "kgsim {command} --help: {}", help.stderr);
    }
    let help = kgsim(&["--help"], None, None);
    assert!(help.stdout.contains("Exit codes: 0"), "{}", help.stdout);
}
