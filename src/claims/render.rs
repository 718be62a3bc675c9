//! Claims' outcomes as a Markdown table (for reports) and as CSV (data).

use super::Outcome;
use crate::stats::LEVEL;
use crate::table::{escape_markdown, fixed_decimals, typeset_minus};

const COLUMNS: [&str; 7] = [
    "claim",
    "where",
    "statistic",
    "estimate",
    "95% CI",
    "runs",
    "holds",
];

/// One line per outcome; a claim's text only on its first line.
pub fn to_markdown(outcomes: &[Outcome], decimals: usize) -> String {
    debug_assert_eq!(LEVEL, 0.95, "the CI column's title");
    let number = |x: f64| typeset_minus(fixed_decimals(x, decimals), "−");
    let mut out = format!("| {} |\n", COLUMNS.join(" | "));
    out.push_str("| --- | --- | --- | ---: | :---: | ---: | --- |\n");
    let mut previous: Option<&str> = None;
    for o in outcomes {
        let claim = if previous == Some(o.claim.as_str()) {
            String::new()
        } else {
            escape_markdown(&o.claim)
        };
        previous = Some(&o.claim);
        let (estimate, interval, runs) = match &o.estimate {
            Some(e) => {
                let (low, high) = e.interval();
                let interval = match e.half_width {
                    Some(_) => format!("[{}, {}]", number(low), number(high)),
                    None => "—".to_string(),
                };
                (number(e.mean), interval, e.n.to_string())
            }
            None => ("—".to_string(), "—".to_string(), "0".to_string()),
        };
        let runs = if o.diverged.is_empty() {
            runs
        } else {
            let which: Vec<String> = o
                .diverged
                .iter()
                .map(|(what, k)| match what.as_str() {
                    "" => format!("{k} diverged"),
                    what => format!("{what}: {k} diverged"),
                })
                .collect();
            format!("{runs} ({}; left out)", which.join(", "))
        };
        let cells = [
            claim,
            escape_markdown(&o.at),
            escape_markdown(&o.statistic),
            estimate,
            interval,
            runs,
            o.verdict.label().to_string(),
        ];
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// `claim,where,statistic,estimate,ci_low,ci_high,runs,diverged,holds`:
/// numbers in full, absent ones empty.
pub fn to_csv(outcomes: &[Outcome]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "claim",
            "where",
            "statistic",
            "estimate",
            "ci_low",
            "ci_high",
            "runs",
            "diverged",
            "holds",
        ])
        .expect("writing to memory");
    for o in outcomes {
        let interval = o
            .estimate
            .filter(|e| e.half_width.is_some())
            .map(|e| e.interval());
        let number = |x: Option<f64>| x.map_or_else(String::new, |v| v.to_string());
        writer
            .write_record([
                o.claim.clone(),
                o.at.clone(),
                o.statistic.clone(),
                number(o.estimate.map(|e| e.mean)),
                number(interval.map(|i| i.0)),
                number(interval.map(|i| i.1)),
                o.estimate.map_or(0, |e| e.n).to_string(),
                o.diverged.iter().map(|(_, k)| k).sum::<usize>().to_string(),
                o.verdict.label().to_string(),
            ])
            .expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("UTF-8 fields")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Verdict;
    use crate::stats::Estimate;

    #[test]
    fn renders_each_outcome_once_with_its_interval() {
        let outcomes = vec![
            Outcome {
                claim: "q oscillates more".into(),
                at: "gamma = 1".into(),
                statistic: "q − k".into(),
                estimate: Estimate::of(&[0.02, 0.01, 0.03]),
                diverged: Vec::new(),
                verdict: Verdict::NotSignificant,
            },
            Outcome {
                claim: "q oscillates more".into(),
                at: "gamma = 1.25".into(),
                statistic: "q − k".into(),
                estimate: None,
                diverged: vec![("q".into(), 3)],
                verdict: Verdict::TooFewRuns,
            },
        ];
        assert_eq!(
            to_markdown(&outcomes, 3),
            "| claim | where | statistic | estimate | 95% CI | runs | holds |\n\
             | --- | --- | --- | ---: | :---: | ---: | --- |\n\
             | q oscillates more | gamma = 1 | q − k | 0.020 | [−0.005, 0.045] | 3 | not significant |\n\
             |  | gamma = 1.25 | q − k | — | — | 0 (q: 3 diverged; left out) | too few runs |\n"
        );
        let csv = to_csv(&outcomes);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            "claim,where,statistic,estimate,ci_low,ci_high,runs,diverged,holds"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("q oscillates more,gamma = 1,q − k,0.02")
        );
        assert_eq!(
            lines.next().unwrap(),
            "q oscillates more,gamma = 1.25,q − k,,,,0,3,too few runs"
        );
    }
}
