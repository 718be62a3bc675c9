//! SSIM agrees with scikit-image on the cases in fixtures/ssim_skimage.json
//! (regenerate with fixtures/make_ssim_fixture.py). Both sides compute in
//! float64 on bit-identical inputs, so agreement is far tighter than the 1e-4
//! that would already be acceptable.

use nrun::metrics::ssim::ssim;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    scale: f32,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    channels: usize,
    height: usize,
    width: usize,
    offset: f32,
    data_range: f64,
    ssim: f64,
    a: Vec<u8>,
    b: Vec<u8>,
}

#[test]
fn matches_scikit_image() {
    let text = include_str!("fixtures/ssim_skimage.json");
    let fixture: Fixture = serde_json::from_str(text).unwrap();
    assert_eq!(fixture.cases.len(), 3);
    // A power-of-two scale makes the decoding exact, as in the generator.
    let decode = |codes: &[u8], offset: f32| -> Vec<f32> {
        codes
            .iter()
            .map(|&q| (f32::from(q) - offset) / fixture.scale)
            .collect()
    };
    for case in &fixture.cases {
        let a = decode(&case.a, case.offset);
        let b = decode(&case.b, case.offset);
        let ours = ssim(
            &a,
            &b,
            case.channels,
            case.height,
            case.width,
            case.data_range,
        )
        .unwrap();
        let diff = (ours - case.ssim).abs();
        println!(
            "{}: ours {ours} skimage {} |diff| {diff:e}",
            case.name, case.ssim
        );
        assert!(
            diff < 1e-9,
            "{}: ours {ours} vs skimage {}",
            case.name,
            case.ssim
        );
    }
}
