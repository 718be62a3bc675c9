//! Testing claims on metric rows.

use std::collections::BTreeMap;

use super::spec::{Claim, Compare, Direction, Trend};
use crate::stats::{self, Estimate};
use crate::table::{Row, canonical_key};

/// What one claim, at one value of its `for_each` param, came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub claim: String,
    /// `param = value` of `for_each`, or empty.
    pub at: String,
    /// What `estimate` estimates, e.g. `a - b` or `slope over gamma`.
    pub statistic: String,
    pub estimate: Option<Estimate>,
    /// Runs (or pairs) left out because a training diverged, by what
    /// diverged (`weak quadratic` in a comparison; empty in a trend).
    pub diverged: Vec<(String, usize)>,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The interval excludes 0 on the claimed side.
    Holds,
    /// The interval excludes 0 on the other side.
    Fails,
    /// The interval contains 0.
    NotSignificant,
    /// Too few runs for an interval (fewer than 2 pairs, 3 points of a slope).
    TooFewRuns,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Holds => "yes",
            Verdict::Fails => "no: the opposite holds",
            Verdict::NotSignificant => "not significant",
            Verdict::TooFewRuns => "too few runs",
        }
    }

    fn of(estimate: Option<&Estimate>, expect: Direction) -> Verdict {
        let Some((low, high)) = estimate
            .filter(|e| e.half_width.is_some())
            .map(|e| e.interval())
        else {
            return Verdict::TooFewRuns;
        };
        let (low, high) = match expect {
            Direction::Greater => (low, high),
            Direction::Less => (-high, -low),
        };
        if low > 0.0 {
            Verdict::Holds
        } else if high < 0.0 {
            Verdict::Fails
        } else {
            Verdict::NotSignificant
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClaimError {
    #[error("claim `{claim}`: no metric `{metric}` in the inputs (they have: {available})")]
    NoMetric {
        claim: String,
        metric: String,
        available: String,
    },
    #[error("claim `{claim}`: no run has the param `{param}` (params: {available})")]
    UnknownParam {
        claim: String,
        param: String,
        available: String,
    },
    #[error("claim `{claim}`{at}: {which} selects no run")]
    Empty {
        claim: String,
        at: String,
        which: &'static str,
    },
    #[error(
        "claim `{claim}`{at}: {which} has {count} runs with {pair_by} = {value}; \
         name the params that tell them apart"
    )]
    Ambiguous {
        claim: String,
        at: String,
        which: &'static str,
        pair_by: String,
        value: String,
        count: usize,
    },
    #[error("claim `{claim}`{at}: `a` and `b` share no value of `{pair_by}` to pair their runs by")]
    NoPairs {
        claim: String,
        at: String,
        pair_by: String,
    },
    #[error("claim `{claim}`: `{over}` = `{value}` is not a number, so it has no slope")]
    NotNumeric {
        claim: String,
        over: String,
        value: String,
    },
}

/// Display names of params and their values (`weak_quadratic` → `weak
/// quadratic`, `gamma` → `γ`); unlisted ones show as themselves.
pub type Labels = BTreeMap<String, String>;

/// Tests every claim on `rows`, one outcome per claim and `for_each` value
/// (numbers ascending, names in their order of first appearance).
pub fn evaluate(
    claims: &[Claim],
    rows: &[Row],
    labels: &Labels,
) -> Result<Vec<Outcome>, ClaimError> {
    let mut outcomes = Vec::new();
    for claim in claims {
        outcomes.extend(evaluate_one(claim, rows, labels)?);
    }
    Ok(outcomes)
}

fn label<'a>(labels: &'a Labels, name: &'a str) -> &'a str {
    labels.get(name).map_or(name, String::as_str)
}

fn evaluate_one(claim: &Claim, rows: &[Row], labels: &Labels) -> Result<Vec<Outcome>, ClaimError> {
    let of_metric: Vec<&Row> = rows.iter().filter(|r| r.metric == claim.metric).collect();
    if of_metric.is_empty() {
        let names: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r.metric.as_str()).collect();
        return Err(ClaimError::NoMetric {
            claim: claim.text.clone(),
            metric: claim.metric.clone(),
            available: names.into_iter().collect::<Vec<_>>().join(", "),
        });
    }
    let named = claim
        .only
        .keys()
        .chain(&claim.for_each)
        .chain(
            claim
                .compare
                .iter()
                .flat_map(|c| c.a.keys().chain(c.b.keys()).chain([&c.pair_by])),
        )
        .chain(claim.trend.as_ref().map(|t| &t.over));
    for param in named {
        if !of_metric.iter().any(|r| r.params.contains_key(param)) {
            return Err(ClaimError::UnknownParam {
                claim: claim.text.clone(),
                param: param.clone(),
                available: of_metric[0]
                    .params
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let selected: Vec<&Row> = of_metric
        .into_iter()
        .filter(|r| {
            claim
                .only
                .iter()
                .all(|(param, values)| values.iter().any(|v| value(r, param) == v.0))
        })
        .collect();
    let groups: Vec<(String, Vec<&Row>)> = match &claim.for_each {
        None => vec![(String::new(), selected)],
        Some(param) => {
            let mut seen = Vec::new();
            let mut by_value: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
            for row in selected {
                let v = value(row, param);
                if !by_value.contains_key(&v) {
                    seen.push(v.clone());
                }
                by_value.entry(v).or_default().push(row);
            }
            crate::table::ordered_keys(seen)
                .into_iter()
                .map(|v| {
                    let rows = by_value.remove(&v).expect("a key of the map");
                    (
                        format!("{} = {}", label(labels, param), label(labels, &v)),
                        rows,
                    )
                })
                .collect()
        }
    };
    groups
        .into_iter()
        .map(|(at, rows)| match (&claim.compare, &claim.trend) {
            (Some(compare), _) => compared(claim, compare, at, &rows, labels),
            (None, Some(trend)) => trended(claim, trend, at, &rows, labels),
            (None, None) => unreachable!("Claim::check requires a test"),
        })
        .collect()
}

fn compared(
    claim: &Claim,
    c: &Compare,
    at: String,
    rows: &[&Row],
    labels: &Labels,
) -> Result<Outcome, ClaimError> {
    let where_ = if at.is_empty() {
        String::new()
    } else {
        format!(" at {at}")
    };
    let side = |which: &'static str, cell: &BTreeMap<String, super::Scalar>| {
        let mut by_pair: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
        for row in rows
            .iter()
            .filter(|r| cell.iter().all(|(p, v)| value(r, p) == v.0))
        {
            by_pair.entry(value(row, &c.pair_by)).or_default().push(row);
        }
        if by_pair.is_empty() {
            return Err(ClaimError::Empty {
                claim: claim.text.clone(),
                at: where_.clone(),
                which,
            });
        }
        by_pair
            .into_iter()
            .map(|(pair, runs)| match runs.as_slice() {
                [one] => Ok((pair, *one)),
                _ => Err(ClaimError::Ambiguous {
                    claim: claim.text.clone(),
                    at: where_.clone(),
                    which,
                    pair_by: c.pair_by.clone(),
                    value: pair,
                    count: runs.len(),
                }),
            })
            .collect::<Result<BTreeMap<String, &Row>, _>>()
    };
    let (a, b) = (side("`a`", &c.a)?, side("`b`", &c.b)?);
    let pairs: Vec<(&Row, &Row)> = a
        .iter()
        .filter_map(|(pair, run_a)| Some((*run_a, *b.get(pair)?)))
        .collect();
    if pairs.is_empty() {
        return Err(ClaimError::NoPairs {
            claim: claim.text.clone(),
            at: where_,
            pair_by: c.pair_by.clone(),
        });
    }
    let diverged_a = pairs.iter().filter(|(x, _)| x.diverged.is_some()).count();
    let diverged_b = pairs.iter().filter(|(_, y)| y.diverged.is_some()).count();
    let differences: Vec<f64> = pairs
        .iter()
        .filter(|(x, y)| x.diverged.is_none() && y.diverged.is_none())
        .map(|(x, y)| x.value - y.value)
        .collect();
    let estimate = Estimate::of(&differences);
    // Params a and b share say where; those they differ in say what.
    let shared =
        c.a.iter()
            .filter(|(k, v)| c.b.get(*k) == Some(v))
            .map(|(k, v)| format!("{} = {}", label(labels, k), label(labels, &v.0)));
    let at: Vec<String> = (!at.is_empty())
        .then_some(at)
        .into_iter()
        .chain(shared)
        .collect();
    let own_label = |cell: &BTreeMap<String, super::Scalar>,
                     other: &BTreeMap<String, super::Scalar>| {
        let own: Vec<String> = cell
            .iter()
            .filter(|(k, v)| other.get(*k) != Some(v))
            .map(|(k, v)| match v.0.parse::<f64>() {
                // A bare number needs its param's name to mean anything.
                Ok(_) => format!("({} = {})", label(labels, k), v.0),
                Err(_) => label(labels, &v.0).to_string(),
            })
            .collect();
        own.join(" ")
    };
    let (name_a, name_b) = (own_label(&c.a, &c.b), own_label(&c.b, &c.a));
    let diverged = [(name_a.clone(), diverged_a), (name_b.clone(), diverged_b)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(Outcome {
        claim: claim.text.clone(),
        at: at.join(", "),
        statistic: format!("{name_a} − {name_b}"),
        verdict: Verdict::of(estimate.as_ref(), c.expect),
        estimate,
        diverged,
    })
}

fn trended(
    claim: &Claim,
    t: &Trend,
    at: String,
    rows: &[&Row],
    labels: &Labels,
) -> Result<Outcome, ClaimError> {
    let (mut x, mut y, mut diverged) = (Vec::new(), Vec::new(), 0);
    for row in rows {
        let v = value(row, &t.over);
        let over = v.parse::<f64>().map_err(|_| ClaimError::NotNumeric {
            claim: claim.text.clone(),
            over: t.over.clone(),
            value: v.clone(),
        })?;
        if row.diverged.is_some() {
            diverged += 1;
        } else {
            x.push(over);
            y.push(row.value);
        }
    }
    let estimate = stats::slope(&x, &y);
    Ok(Outcome {
        claim: claim.text.clone(),
        at,
        statistic: format!("slope over {}", label(labels, &t.over)),
        verdict: Verdict::of(estimate.as_ref(), t.expect),
        estimate,
        diverged: (diverged > 0)
            .then(|| (String::new(), diverged))
            .into_iter()
            .collect(),
    })
}

fn value(row: &Row, param: &str) -> String {
    canonical_key(row.params.get(param).map_or("", String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Scalar;

    fn row(cost: &str, gamma: f64, seed: u64, value: f64) -> Row {
        Row {
            params: [
                ("cost".to_string(), cost.to_string()),
                ("gamma".to_string(), gamma.to_string()),
                ("seed".to_string(), seed.to_string()),
            ]
            .into(),
            metric: "m".into(),
            value,
            std: f64::NAN,
            n: 1,
            diverged: None,
        }
    }

    fn cell(cost: &str) -> BTreeMap<String, Scalar> {
        [("cost".to_string(), Scalar(cost.to_string()))].into()
    }

    fn compare(expect: Direction) -> Claim {
        Claim {
            text: "a beats b".into(),
            metric: "m".into(),
            compare: Some(Compare {
                a: cell("a"),
                b: cell("b"),
                expect,
                pair_by: "seed".into(),
            }),
            trend: None,
            for_each: Some("gamma".into()),
            only: BTreeMap::new(),
        }
    }

    #[test]
    fn paired_differences_give_the_interval_and_the_verdict() {
        // Differences a - b per seed: 1, 2, 3 at gamma 1; -1, 1, 0 at gamma 2.
        let rows = vec![
            row("a", 1.0, 0, 11.0),
            row("b", 1.0, 0, 10.0),
            row("a", 1.0, 1, 7.0),
            row("b", 1.0, 1, 5.0),
            row("a", 1.0, 2, 3.0),
            row("b", 1.0, 2, 0.0),
            row("a", 2.0, 0, 0.0),
            row("b", 2.0, 0, 1.0),
            row("a", 2.0, 1, 1.0),
            row("b", 2.0, 1, 0.0),
            row("a", 2.0, 2, 5.0),
            row("b", 2.0, 2, 5.0),
        ];
        let out = evaluate(&[compare(Direction::Greater)], &rows, &Labels::new()).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].at, "gamma = 1");
        let e = out[0].estimate.unwrap();
        assert_eq!((e.mean, e.n), (2.0, 3));
        // std 1, t(2) = 4.303: [2 - 2.484, 2 + 2.484] contains 0.
        assert!((e.half_width.unwrap() - 4.302_653 / 3f64.sqrt()).abs() < 1e-5);
        assert_eq!(out[0].verdict, Verdict::NotSignificant);
        assert_eq!(out[1].estimate.unwrap().mean, 0.0);
        assert_eq!(out[0].statistic, "a − b");
    }

    #[test]
    fn shared_params_say_where_and_labels_name_things() {
        let rows: Vec<Row> = (0..2)
            .flat_map(|s| {
                [
                    row("a", 1.0, s, 2.0),
                    row("b", 1.0, s, 1.0),
                    row("b", 2.0, s, 0.0),
                ]
            })
            .collect();
        let mut claim = compare(Direction::Greater);
        claim.for_each = None;
        let c = claim.compare.as_mut().unwrap();
        for cell in [&mut c.a, &mut c.b] {
            cell.insert("gamma".into(), Scalar("1".into()));
        }
        let labels: Labels = [("a", "A cost"), ("gamma", "γ")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let out = evaluate(&[claim], &rows, &labels).unwrap();
        assert_eq!(
            (out[0].at.as_str(), out[0].statistic.as_str()),
            ("γ = 1", "A cost − b")
        );
        assert_eq!(out[0].estimate.unwrap().mean, 1.0);
    }

    #[test]
    fn a_clear_difference_holds_one_way_and_fails_the_other() {
        let rows: Vec<Row> = (0..5)
            .flat_map(|s| {
                let noise = [0.1, -0.1, 0.05, 0.0, -0.05][s as usize];
                [row("a", 1.0, s, 2.0 + noise), row("b", 1.0, s, 1.0)]
            })
            .collect();
        let holds = evaluate(&[compare(Direction::Greater)], &rows, &Labels::new()).unwrap();
        assert_eq!(holds[0].verdict, Verdict::Holds);
        let fails = evaluate(&[compare(Direction::Less)], &rows, &Labels::new()).unwrap();
        assert_eq!(fails[0].verdict, Verdict::Fails);
    }

    #[test]
    fn diverged_runs_leave_their_pair_out_and_are_counted() {
        let mut rows: Vec<Row> = (0..3)
            .flat_map(|s| [row("a", 1.0, s, 2.0 + s as f64), row("b", 1.0, s, 1.0)])
            .collect();
        rows[4].diverged = Some(17);
        let out = evaluate(&[compare(Direction::Greater)], &rows, &Labels::new()).unwrap();
        assert_eq!(out[0].diverged, [("a".to_string(), 1)]);
        assert_eq!(out[0].estimate.unwrap().n, 2);
        rows[0].diverged = Some(3);
        let out = evaluate(&[compare(Direction::Greater)], &rows, &Labels::new()).unwrap();
        assert_eq!(out[0].verdict, Verdict::TooFewRuns);
    }

    #[test]
    fn a_trend_is_the_slope_over_the_param() {
        let rows: Vec<Row> = [0.0, 0.5, 1.0]
            .iter()
            .flat_map(|&g| (0..2).map(move |s| row("a", g, s, 3.0 * g + s as f64 * 0.1)))
            .collect();
        let claim = Claim {
            text: "grows".into(),
            metric: "m".into(),
            compare: None,
            trend: Some(Trend {
                over: "gamma".into(),
                expect: Direction::Greater,
            }),
            for_each: Some("cost".into()),
            only: [(
                "gamma".to_string(),
                vec![Scalar("0".into()), Scalar("1".into())],
            )]
            .into(),
        };
        let out = evaluate(&[claim], &rows, &Labels::new()).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].at, "cost = a");
        let e = out[0].estimate.unwrap();
        assert!((e.mean - 3.0).abs() < 1e-12, "{e:?}");
        assert_eq!(e.n, 4);
        assert_eq!(out[0].verdict, Verdict::Holds);
    }

    #[test]
    fn mistakes_name_the_claim() {
        let rows = vec![
            row("a", 1.0, 0, 1.0),
            row("a", 1.0, 0, 2.0),
            row("b", 1.0, 0, 1.0),
        ];
        let err = evaluate(&[compare(Direction::Greater)], &rows, &Labels::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "claim `a beats b` at gamma = 1: `a` has 2 runs with seed = 0; name the params that tell them apart"
        );
        let mut claim = compare(Direction::Greater);
        claim.metric = "psnr".into();
        let err = evaluate(&[claim], &rows, &Labels::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "claim `a beats b`: no metric `psnr` in the inputs (they have: m)"
        );
        let mut claim = compare(Direction::Greater);
        claim.compare.as_mut().unwrap().pair_by = "sed".into();
        let err = evaluate(&[claim], &rows, &Labels::new()).unwrap_err();
        assert!(
            err.to_string().contains("no run has the param `sed`"),
            "{err}"
        );
        let only_a = [row("a", 1.0, 0, 1.0), row("b", 1.0, 1, 1.0)];
        let err = evaluate(&[compare(Direction::Greater)], &only_a, &Labels::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "claim `a beats b` at gamma = 1: `a` and `b` share no value of `seed` to pair their runs by"
        );
        let mut claim = compare(Direction::Greater);
        claim.for_each = Some("gama".into());
        let err = evaluate(&[claim], &rows, &Labels::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "claim `a beats b`: no run has the param `gama` (params: cost, gamma, seed)"
        );
    }
}
