//! End to end: metric CSVs written to a temporary directory, read, pivoted
//! and rendered.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read(files: &[&str]) -> Result<Vec<Row>, TableError> {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, text)| write(&dir, &format!("metrics{i}.csv"), text))
        .collect();
    read_rows(&paths)
}

fn by_seed(metric: &str, rows: &str, columns: &str) -> PivotSpec {
    PivotSpec {
        average_over: vec!["seed".to_string()],
        ..PivotSpec::new(metric, rows, columns)
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Three seeds of one cell, one seed of another, and a second metric.
const SEEDS: &str = "\
cost,gamma,seed,metric,value,std,n
weak_quadratic,0,1,psnr,22.0,1.5,100
weak_quadratic,0,2,psnr,23.0,1.4,100
weak_quadratic,0,3,psnr,24.5,1.6,100
weak_quadratic,1,1,psnr,20.0,1.0,100
weak_quadratic,0,1,ssim,0.8,0.1,100
";

#[test]
fn cells_average_their_runs_over_seeds() {
    let rows = read(&[SEEDS]).unwrap();
    assert_eq!(rows.len(), 5);
    let table = pivot(&rows, &by_seed("psnr", "cost", "gamma")).unwrap();
    let three = table.cells[0][0].ours.unwrap();
    assert_eq!(three.n, 3);
    assert!((three.mean - 23.166_666_666_666_668).abs() < 1e-12);
    // Sample std of 22, 23, 24.5: sqrt(((-7/6)² + (-1/6)² + (4/3)²) / 2).
    assert!((three.std.unwrap() - 1.258_305_739_211_791_7).abs() < 1e-12);
    let one = table.cells[0][1].ours.unwrap();
    assert_eq!((one.mean, one.std, one.n), (20.0, None, 1));
    assert_eq!(one.half_width, None);
    assert_eq!(
        to_markdown(&table),
        "\
|                 |            0 |     1 |
| --------------- | -----------: | ----: |
| weak\\_quadratic | 23.17 ± 1.26 | 20.00 |
"
    );
}

#[test]
fn numeric_keys_sort_by_value_and_equal_numbers_are_one_key() {
    let rows = read(&[
        "gamma,cost,seed,metric,value,std,n\n1,a,1,w2,1,0,9\n0.50,a,1,w2,2,0,9\n0,a,1,w2,3,0,9\n",
        "gamma,cost,seed,metric,value,std,n\n0.25,a,1,w2,4,0,9\n0.5,a,2,w2,6,0,9\n",
    ])
    .unwrap();
    let table = pivot(&rows, &by_seed("w2", "cost", "gamma")).unwrap();
    let keys: Vec<&str> = table.columns.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["0", "0.25", "0.5", "1"]);
    let half = table.cells[0][2].ours.unwrap();
    assert_eq!((half.mean, half.n), (4.0, 2));
}

#[test]
fn text_keys_keep_their_order_of_first_appearance() {
    let rows = read(&[
        "cost,gamma,metric,value,std,n\nweak_quadratic,0,psnr,1,0,9\nkernel,0,psnr,2,0,9\nweak_quadratic,1,psnr,3,0,9\n",
    ])
    .unwrap();
    let table = pivot(&rows, &PivotSpec::new("psnr", "cost", "gamma")).unwrap();
    let keys: Vec<&str> = table.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["weak_quadratic", "kernel"]);
}

#[test]
fn missing_combinations_are_empty_cells_in_every_format() {
    let rows =
        read(&["cost,gamma,metric,value,std,n\nNOT,0,psnr,22.5,1,9\nKNOT,1,psnr,23.25,1,9\n"])
            .unwrap();
    let table = pivot(&rows, &PivotSpec::new("psnr", "cost", "gamma")).unwrap();
    assert_eq!(table.cells[0][1], Cell::default());
    assert_eq!(table.cells[1][0], Cell::default());
    assert_eq!(
        to_markdown(&table),
        "\
|      |     0 |     1 |
| ---- | ----: | ----: |
| NOT  | 22.50 |     — |
| KNOT |     — | 23.25 |
"
    );
    assert_eq!(
        to_csv(&table),
        "\
row,column,mean,std,ci95,runs,reference,difference,diverged
NOT,0,22.5,,,1,,,
NOT,1,,,,,,,
KNOT,0,,,,,,,
KNOT,1,23.25,,,1,,,
"
    );
    assert!(to_latex(&table).contains("NOT & 22.50 & -- \\\\\nKNOT & -- & 23.25 \\\\\n"));
}

#[test]
fn a_column_one_file_lacks_reads_as_empty() {
    let rows = read(&[
        "cost,gamma,seed,metric,value,std,n\nNOT,0,1,psnr,20,1,9\n",
        "cost,gamma,metric,value,std,n\nNOT,0,psnr,22,1,9\n",
    ])
    .unwrap();
    assert_eq!(rows[1].params["seed"], "");
    // The runs differ only in seed ("1" and ""), so averaging over it pools them.
    let table = pivot(&rows, &by_seed("psnr", "cost", "gamma")).unwrap();
    assert_eq!(table.cells[0][0].ours.unwrap().mean, 21.0);
}

/// The paper's values for two of three columns, and a row we did not run.
fn reference() -> Reference {
    let row = |pairs: &[(&str, f64)]| -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    Reference {
        title: "paper".to_string(),
        values: BTreeMap::from([
            (
                "weak_quadratic".to_string(),
                row(&[("0.0", 22.6), ("1", 19.5)]),
            ),
            ("kernel".to_string(), row(&[("0", 24.0)])),
        ]),
    }
}

#[test]
fn a_reference_adds_its_value_and_our_difference() {
    let rows = read(&[SEEDS]).unwrap();
    let spec = PivotSpec {
        row_labels: labels(&[("weak_quadratic", "NOT"), ("kernel", "KNOT")]),
        column_labels: labels(&[("0", "γ = 0"), ("1.0", "γ = 1")]),
        reference: Some(reference()),
        ..by_seed("psnr", "cost", "gamma")
    };
    let table = pivot(&rows, &spec).unwrap();
    assert_eq!(table.cells[0][0].reference, Some(22.6));
    assert!((table.cells[0][1].difference().unwrap() - 0.5).abs() < 1e-12);
    assert_eq!(table.cells[1][0].difference(), None);
    assert_eq!(
        to_markdown(&table),
        "\
|                   |        γ = 0 | γ = 1 |
| ----------------- | -----------: | ----: |
| NOT (ours)        | 23.17 ± 1.26 | 20.00 |
| NOT (paper)       |        22.60 | 19.50 |
| NOT (difference)  |        +0.57 | +0.50 |
| KNOT (ours)       |            — |     — |
| KNOT (paper)      |        24.00 |     — |
| KNOT (difference) |            — |     — |
"
    );
}

#[test]
fn a_row_the_reference_lacks_is_one_line_under_its_plain_label() {
    let rows = read(&[SEEDS]).unwrap();
    let mut reference = reference();
    reference.values.remove("weak_quadratic");
    let spec = PivotSpec {
        reference: Some(reference),
        ..by_seed("psnr", "cost", "gamma")
    };
    let table = pivot(&rows, &spec).unwrap();
    assert_eq!(
        to_markdown(&table),
        "\
|                     |            0 |     1 |
| ------------------- | -----------: | ----: |
| weak\\_quadratic     | 23.17 ± 1.26 | 20.00 |
| kernel (ours)       |            — |     — |
| kernel (paper)      |        24.00 |     — |
| kernel (difference) |            — |     — |
"
    );
}

/// A cell whose every run diverged says so, with the steps; a cell where
/// some runs diverged averages the others and counts those that did not.
#[test]
fn diverged_runs_show_as_diverged_not_as_numbers() {
    let rows = read(&["\
cost,gamma,seed,metric,value,std,n,diverged
NOT,1.25,0,energy,9.5,1,9,1648
NOT,1.25,1,energy,8.5,1,9,1702
NOT,1,0,energy,0.5,1,9,
NOT,1,1,energy,0.7,1,9,2100
KNOT,1,0,energy,0.25,1,9,
"])
    .unwrap();
    let spec = PivotSpec {
        average_over: vec!["seed".into()],
        ..PivotSpec::new("energy", "cost", "gamma")
    };
    let table = pivot(&rows, &spec).unwrap();
    assert_eq!(table.cells[0][1].diverged, vec![1648, 1702]);
    assert_eq!(table.cells[0][1].ours, None);
    assert_eq!(
        to_markdown(&table),
        "\
|      |                 1 |                        1.25 |
| ---- | ----------------: | --------------------------: |
| NOT  | 0.50 (1 diverged) | diverged (steps 1648, 1702) |
| KNOT |              0.25 |                           — |
"
    );
    assert!(
        to_csv(&table).contains("NOT,1,0.5,,,1,,,2100\nNOT,1.25,,,,,,,1648 1702\n"),
        "{}",
        to_csv(&table)
    );
    assert!(
        to_latex(&table).contains("diverged (steps 1648, 1702)"),
        "{}",
        to_latex(&table)
    );
}

#[test]
fn a_negative_difference_uses_a_minus_sign() {
    let rows = read(&["cost,gamma,metric,value,std,n\nweak_quadratic,0,psnr,22.31,1,9\n"]).unwrap();
    let spec = PivotSpec {
        reference: Some(reference()),
        ..PivotSpec::new("psnr", "cost", "gamma")
    };
    let table = pivot(&rows, &spec).unwrap();
    assert!(
        to_markdown(&table).contains("| −0.29 |"),
        "{}",
        to_markdown(&table)
    );
    assert!(to_latex(&table).contains("weak\\_quadratic (difference) & $-$0.29 & --"));
    assert!(to_csv(&table).starts_with(
        "row,column,mean,std,ci95,runs,reference,difference,diverged\nweak_quadratic,0,22.31,,,1,22.6,-0.29"
    ));
}

#[test]
fn a_param_varying_within_a_cell_must_be_averaged_over() {
    let csv = "\
cost,gamma,seed,lr,metric,value,std,n
NOT,0,1,0.001,psnr,20,1,9
NOT,0,2,0.0010,psnr,21,1,9
NOT,1,1,0.001,psnr,22,1,9
NOT,1,2,0.01,psnr,23,1,9
";
    let rows = read(&[csv]).unwrap();
    let err = pivot(&rows, &by_seed("psnr", "cost", "gamma")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric `psnr`: param `lr` varies within cell cost=NOT, gamma=1 (values: 0.001, 0.01); \
         add it to average_over, or pivot on it"
    );
    let spec = PivotSpec {
        average_over: vec!["seed".to_string(), "lr".to_string()],
        ..PivotSpec::new("psnr", "cost", "gamma")
    };
    assert_eq!(pivot(&rows, &spec).unwrap().cells[0][1].ours.unwrap().n, 2);
}

#[test]
fn a_param_that_varies_only_between_cells_needs_no_averaging() {
    let csv =
        "cost,gamma,lr,metric,value,std,n\nNOT,0,0.001,psnr,20,1,9\nKNOT,0,0.01,psnr,21,1,9\n";
    let rows = read(&[csv]).unwrap();
    assert!(pivot(&rows, &PivotSpec::new("psnr", "cost", "gamma")).is_ok());
}

#[test]
fn the_same_file_read_twice_is_an_error() {
    let rows = read(&[SEEDS, SEEDS]).unwrap();
    let err = pivot(&rows, &by_seed("psnr", "cost", "gamma")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric `psnr`: cell cost=weak_quadratic, gamma=0 has 2 rows with the same params \
         (cost=weak_quadratic, gamma=0, seed=1); was a file read twice?"
    );
}

#[test]
fn errors_name_the_metric_or_param_at_fault() {
    let rows = read(&[SEEDS]).unwrap();
    let message = |spec| pivot(&rows, &spec).unwrap_err().to_string();
    assert_eq!(
        message(by_seed("fid", "cost", "gamma")),
        "no rows of metric `fid` (metrics present: psnr, ssim)"
    );
    assert_eq!(
        message(by_seed("psnr", "cost", "gama")),
        "columns param `gama` is not a column of the metric rows (params: cost, gamma, seed)"
    );
    let mut seeds = by_seed("psnr", "cost", "gamma");
    seeds.average_over = vec!["seeds".to_string()];
    assert_eq!(
        message(seeds),
        "average_over param `seeds` is not a column of the metric rows (params: cost, gamma, seed)"
    );
    let rows = read(&["cost,gamma,metric,value,std,n\n,0,psnr,1,0,9\n"]).unwrap();
    assert_eq!(
        pivot(&rows, &PivotSpec::new("psnr", "cost", "gamma"))
            .unwrap_err()
            .to_string(),
        "metric `psnr`: 1 row(s) have no value for rows param `cost`"
    );
}

#[test]
fn bad_files_are_reported_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        &dir,
        "bad.csv",
        "cost,metric,value,std,n\nNOT,psnr,1,0,9\nNOT,psnr,high,0,9\n",
    );
    let err = read_rows([&bad]).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:3: column `value`: `high` is not a number",
            bad.display()
        )
    );

    let bad = write(
        &dir,
        "count.csv",
        "cost,metric,value,std,n\nNOT,psnr,1,0,-2\n",
    );
    let err = read_rows([&bad]).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}:2: column `n`: `-2` is not a count", bad.display())
    );

    let bad = write(&dir, "header.csv", "cost,metric,value,n\nNOT,psnr,1,9\n");
    let err = read_rows([&bad]).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}: no `std` column in the header", bad.display())
    );

    let bad = write(
        &dir,
        "ragged.csv",
        "cost,metric,value,std,n\nNOT,psnr,1,0\n",
    );
    let err = read_rows([&bad]).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: malformed CSV:", bad.display())),
        "{err}"
    );

    let missing = dir.path().join("missing.csv");
    let err = read_rows([&missing]).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: cannot read:", missing.display())),
        "{err}"
    );
}

#[test]
fn a_blank_std_reads_as_nan() {
    let rows = read(&["cost,metric,value,std,n\nNOT,psnr,1,,9\n"]).unwrap();
    assert!(rows[0].std.is_nan());
    assert_eq!(rows[0].n, 9);
}

#[test]
fn labels_are_escaped_for_each_format() {
    let rows = read(&["cost,gamma,metric,value,std,n\n\"a|b\",0,psnr,1,0,9\n"]).unwrap();
    let spec = PivotSpec {
        column_labels: labels(&[("0", "50% & $x_1$")]),
        ..PivotSpec::new("psnr", "cost", "gamma")
    };
    let table = pivot(&rows, &spec).unwrap();
    assert!(
        to_markdown(&table).contains("| a\\|b |"),
        "{}",
        to_markdown(&table)
    );
    assert_eq!(
        to_latex(&table),
        "\
\\begin{tabular}{lr}
\\toprule
 & 50\\% \\& \\$x\\_1\\$ \\\\
\\midrule
a\\textbar{}b & 1.00 \\\\
\\bottomrule
\\end{tabular}
"
    );
    let rows =
        read(&["cost,gamma,metric,value,std,n\n\"say \"\"hi\"\", ok\",0,psnr,1,0,9\n"]).unwrap();
    let table = pivot(&rows, &PivotSpec::new("psnr", "cost", "gamma")).unwrap();
    assert!(
        to_csv(&table).contains("\n\"say \"\"hi\"\", ok\",0,1,"),
        "{}",
        to_csv(&table)
    );
}

/// The identity map scored once: no params at all.
const BASELINE: &str = "\
metric,value,std,n
psnr,13.0,2.0,64
ssim,0.4,0.1,64
";

#[test]
fn a_baseline_is_one_row_with_its_value_in_every_column() {
    let rows = read(&[SEEDS]).unwrap();
    let spec = by_seed("psnr", "cost", "gamma");
    let mut table = pivot(&rows, &spec).unwrap();
    add_baseline(
        &mut table,
        "input",
        "degraded input",
        &read(&[BASELINE]).unwrap(),
        &spec,
    )
    .unwrap();
    assert_eq!(table.rows.last().unwrap().label, "degraded input");
    let baseline = table.cells.last().unwrap();
    assert_eq!(baseline.len(), table.columns.len());
    for cell in baseline {
        assert_eq!(cell.ours.map(|s| (s.mean, s.n)), Some((13.0, 1)));
        assert_eq!(cell.reference, None);
    }
    let markdown = to_markdown(&table);
    let last = markdown.lines().last().unwrap();
    assert!(last.starts_with("| degraded input"), "{markdown}");
    assert_eq!(last.matches("13.00").count(), 2, "{markdown}");
}

#[test]
fn baseline_seeds_are_averaged_and_other_params_must_not_vary() {
    let spec = by_seed("psnr", "cost", "gamma");
    let mut table = pivot(&read(&[SEEDS]).unwrap(), &spec).unwrap();
    let seeds = read(&["seed,metric,value,std,n\n1,psnr,12.0,1,64\n2,psnr,14.0,1,64\n"]).unwrap();
    add_baseline(&mut table, "input", "input", &seeds, &spec).unwrap();
    let cell = table.cells.last().unwrap()[0].ours.unwrap();
    assert_eq!((cell.mean, cell.n), (13.0, 2));

    let noisy = read(&["noise,metric,value,std,n\n0.1,psnr,12.0,1,64\n0.2,psnr,14.0,1,64\n"]);
    let err = add_baseline(&mut table, "input", "input", &noisy.unwrap(), &spec).unwrap_err();
    assert!(err.to_string().contains("param `noise` varies"), "{err}");
}

#[test]
fn a_baseline_that_varies_over_the_columns_is_refused() {
    let spec = by_seed("psnr", "cost", "gamma");
    let mut table = pivot(&read(&[SEEDS]).unwrap(), &spec).unwrap();
    let by_gamma = read(&["gamma,metric,value,std,n\n0,psnr,12.0,1,64\n"]).unwrap();
    let err = add_baseline(&mut table, "input", "input", &by_gamma, &spec).unwrap_err();
    assert!(
        err.to_string()
            .contains("baseline `input`: its rows vary over the columns param `gamma`"),
        "{err}"
    );
}

#[test]
fn a_ci95_table_shows_the_student_t_interval_of_the_mean() {
    let rows = read(&[SEEDS]).unwrap();
    let spec = PivotSpec {
        spread: Spread::Ci95,
        ..by_seed("psnr", "cost", "gamma")
    };
    let table = pivot(&rows, &spec).unwrap();
    // t(2) = 4.30265 times the std 1.25831 over sqrt(3): 3.12580.
    let three = table.cells[0][0].ours.unwrap();
    assert!(
        (three.half_width.unwrap() - 3.125_805).abs() < 1e-5,
        "{three:?}"
    );
    assert_eq!(
        to_markdown(&table),
        "\
|                 |            0 |     1 |
| --------------- | -----------: | ----: |
| weak\\_quadratic | 23.17 ± 3.13 | 20.00 |
"
    );
    assert!(
        to_csv(&table).contains("weak_quadratic,0,23.166666666666668,1.2583057392117916,3.1258")
    );
}

#[test]
fn several_metrics_pivot_into_columns_in_the_listed_order() {
    let rows = read(&[SEEDS]).unwrap();
    let spec = PivotSpec {
        metric: Metrics(vec!["ssim".into(), "psnr".into()]),
        ..by_seed("psnr", "gamma", METRIC_AXIS)
    };
    let table = pivot(&rows, &spec).unwrap();
    assert_eq!(
        to_markdown(&table),
        "\
|     | ssim |         psnr |
| --- | ---: | -----------: |
| 0   | 0.80 | 23.17 ± 1.26 |
| 1   |    — |        20.00 |
"
    );
    // Without `metric` as an axis, the psnr runs of both gammas would mix.
    let err = pivot(&rows, &by_seed("psnr", "cost", "seed")).unwrap_err();
    assert!(err.to_string().contains("param `gamma` varies"), "{err}");
}

#[test]
fn a_summary_row_averages_the_rows_of_each_column() {
    let rows = read(&["seed,metric,value,std,n\n0,m,1.0,,1\n1,m,2.0,,1\n2,m,6.0,,1\n"]).unwrap();
    let spec = PivotSpec {
        summary_row: true,
        spread: Spread::Ci95,
        ..PivotSpec::new("m", "seed", METRIC_AXIS)
    };
    let table = pivot(&rows, &spec).unwrap();
    // Mean 3, std sqrt(7), t(2) = 4.3027: half width 6.5723.
    assert_eq!(
        to_markdown(&table),
        "\
|                |           m |
| -------------- | ----------: |
| 0              |        1.00 |
| 1              |        2.00 |
| 2              |        6.00 |
| mean over seed | 3.00 ± 6.57 |
"
    );
}

#[test]
fn a_listed_metric_without_rows_is_an_error_not_an_empty_column() {
    let rows = read(&[SEEDS]).unwrap();
    let spec = PivotSpec {
        metric: Metrics(vec!["ssim".into(), "psnrr".into()]),
        ..by_seed("psnr", "gamma", METRIC_AXIS)
    };
    let err = pivot(&rows, &spec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no rows of metric `psnrr` (metrics present: psnr, ssim)"
    );
}
