//! Claims as numbers: a finding a paper states by eye ("the weak quadratic
//! fit oscillates more than the kernel one", "variety grows with gamma")
//! tested on the metric rows of many runs (seeds), with an estimate, its
//! 95% confidence interval and a verdict.
//!
//! Two tests: `compare` pairs the runs of two cells by a param (the seed)
//! and estimates the mean difference a - b; `trend` fits the metric's
//! least-squares slope over a numeric param. Runs whose training diverged
//! are left out and counted. A claim holds when its interval excludes 0 on
//! the expected side, fails when it excludes 0 on the other, and is not
//! significant otherwise.

mod evaluate;
mod render;
mod spec;

pub use evaluate::{ClaimError, Labels, Outcome, Verdict, evaluate};
pub use render::{to_csv, to_markdown};
pub use spec::{Claim, Compare, Direction, Scalar, Trend};
