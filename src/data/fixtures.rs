//! The reference fixtures the data tests compare against: JSON files that
//! `tests/fixtures/data/make_fixtures.py` computed with Pillow, OpenCV and
//! torch.

use serde_json::Value;

use super::resize::Interp;

/// `tests/fixtures/data/NAME`, parsed.
pub fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

pub fn bytes(v: &Value) -> Vec<u8> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u8)
        .collect()
}

pub fn size(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

/// A case's resampling mode, as the fixture names it.
pub fn interp(v: &Value) -> Interp {
    match v.as_str().unwrap() {
        "nearest" => Interp::Nearest,
        "bilinear" => Interp::Bilinear,
        "bicubic" => Interp::Bicubic,
        other => panic!("unknown mode {other}"),
    }
}
