//! The closed-form OT map between Gaussians (`frechet::gaussian_ot_map`, the
//! T* that L2-UVP and cosine score against) agrees with scipy's `sqrtm` on
//! the random SPD pairs in fixtures/gaussian_map_scipy.json (regenerate with
//! fixtures/make_gaussian_map_fixture.py), and satisfies A S1 A = S2.

use nalgebra::DMatrix;
use nrun::metrics::frechet::gaussian_ot_map;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    dim: usize,
    s1: Vec<f64>,
    s2: Vec<f64>,
    a: Vec<f64>,
}

#[test]
fn matches_scipy_sqrtm() {
    let fixture: Fixture =
        serde_json::from_str(include_str!("fixtures/gaussian_map_scipy.json")).unwrap();
    assert_eq!(fixture.cases.len(), 4);
    for case in &fixture.cases {
        let d = case.dim;
        let s1 = DMatrix::from_row_slice(d, d, &case.s1);
        let s2 = DMatrix::from_row_slice(d, d, &case.s2);
        let scipy = DMatrix::from_row_slice(d, d, &case.a);
        let ours = gaussian_ot_map(&s1, &s2).unwrap();
        let diff = (&ours - &scipy).amax() / scipy.amax();
        println!("dim {d}: max |ours - scipy| / max |scipy| = {diff:e}");
        assert!(diff < 1e-8, "dim {d}: relative difference {diff:e}");
        // The map pushes N(0, S1) onto N(0, S2).
        let pushed = &ours * &s1 * ours.transpose();
        let residual = (&pushed - &s2).amax() / s2.amax();
        assert!(residual < 1e-8, "dim {d}: A S1 A^T - S2 = {residual:e}");
    }
}
