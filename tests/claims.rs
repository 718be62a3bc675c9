//! Tables over seeds and claims, end to end through the real binary: command
//! stages write metric rows whose values the test knows, a `table` shows
//! their mean with its 95% interval and a `claims` stage tests findings on
//! them, with the interval and the verdict worked out by hand below.

mod common;

use common::Project;

/// Two arms over five seeds; arm 2 minus arm 1 is 1 + seed (1..5): mean 3,
/// std sqrt(2.5), t(4) = 2.776445, so the interval is 3 ± 1.9632.
const PIPELINE: &str = r#"
name: arms
params:
  grid:
    arm: [1, 2]
    seed: [0, 1, 2, 3, 4]
stages:
  score:
    kind: command
    params:
      run: "printf 'arm,seed,metric,value,std,n\n${arm},${seed},m,${arm * (1 + seed) + seed * seed / 4},,1\n' > {out}/metrics.csv"
  means:
    kind: table
    inputs: {metrics: score}
    aggregate: all
    params: {metric: m, rows: arm, columns: metric, average_over: [seed], spread: ci95}
  tested:
    kind: claims
    inputs: {metrics: score}
    aggregate: all
    params:
      decimals: 3
      labels: {arm: the arm}
      claims:
        - {text: Arm 2 scores more, metric: m, compare: {a: {arm: 2}, b: {arm: 1}, expect: greater}}
        - {text: Arm 2 scores less, metric: m, compare: {a: {arm: 2}, b: {arm: 1}, expect: less}}
        - {text: The score grows with the arm, metric: m, trend: {over: arm, expect: greater}}
"#;

#[test]
fn tables_show_intervals_and_claims_get_verdicts() {
    let p = Project::new();
    p.file("arms.yaml", PIPELINE);
    p.nrun(&["arms.yaml"]).ok();
    // Arm 1: 1, 2.25, 4, 6.25, 9 (mean 4.5, std 3.1966, half width 3.9692);
    // arm 2: 2, 4.25, 7, 10.25, 14 (mean 7.5, std 4.7663, half width 5.9182).
    assert_eq!(
        p.read("results/arms/means/_/table.md"),
        "\
|     |           m |
| --- | ----------: |
| 1   | 4.50 ± 3.97 |
| 2   | 7.50 ± 5.92 |
"
    );
    // The trend: slope 3 (the difference of the arms' means), residual sum
    // of squares 131.75 over 8 df, sxx 2.5: se 2.56661, t(8) = 2.306004.
    assert_eq!(
        p.read("results/arms/tested/_/claims.md"),
        "\
| claim | where | statistic | estimate | 95% CI | runs | holds |
| --- | --- | --- | ---: | :---: | ---: | --- |
| Arm 2 scores more |  | (the arm = 2) − (the arm = 1) | 3.000 | [1.037, 4.963] | 5 | yes |
| Arm 2 scores less |  | (the arm = 2) − (the arm = 1) | 3.000 | [1.037, 4.963] | 5 | no: the opposite holds |
| The score grows with the arm |  | slope over the arm | 3.000 | [−2.919, 8.919] | 10 | not significant |
"
    );
    let csv = p.read("results/arms/tested/_/claims.csv");
    assert!(
        csv.starts_with("claim,where,statistic,estimate,ci_low,ci_high,runs,diverged,holds\n"),
        "{csv}"
    );
}

/// A claim naming a param the rows lack is the pipeline's mistake, known
/// once the rows exist: exit 2 at the stage's line.
#[test]
fn a_claim_on_a_param_no_run_has_exits_2_naming_it() {
    let p = Project::new();
    p.file(
        "arms.yaml",
        &PIPELINE.replace("trend: {over: arm,", "trend: {over: arn,"),
    );
    let run = p.nrun(&["arms.yaml"]).code(2);
    assert!(
        run.stdout.contains(
            "arms.yaml:17:3: stages.tested: claim `The score grows with the arm`: no run has the param `arn` (params: arm, seed)"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_claim_without_a_test_is_an_error_before_anything_runs() {
    let p = Project::new();
    p.file(
        "arms.yaml",
        &PIPELINE.replace(", trend: {over: arm, expect: greater}", ""),
    );
    let run = p.nrun(&["arms.yaml"]).code(2);
    assert!(
        run.stderr.contains("arms.yaml:")
            && run.stderr.contains("stages.tested.params.claims[2]")
            && run
                .stderr
                .contains("give a test: `compare` (two cells) or `trend` (a slope)"),
        "{}",
        run.stderr
    );
    assert!(p.cache_entries().is_empty(), "nothing ran");
}
