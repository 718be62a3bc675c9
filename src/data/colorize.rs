//! Random colourisation of grayscale digits (the coloured MNIST of the
//! Gbagbe & Bintang report).
//!
//! That report does not say how colours are drawn; it builds on Korotin's code,
//! whose coloured-MNIST helper (`random_color`, shared by that group's
//! repositories) draws one hue per image. `Hue` reproduces it exactly;
//! `UniformRgb` is the plain alternative.

use rand::{Rng, RngExt};

use super::error::ParamError;
use super::images::Images;

/// How an image's colour is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coloring {
    /// `hue ~ U[0, 360)`; with `u` the [0, 1] digit and `d = u * (hue mod 60) / 60`,
    /// the RGB planes are picked from `(u, 0, u - d, d)` by sector
    /// `round(hue / 60) mod 6` (ties to even, as Python's `round`). A rough
    /// colour wheel: black stays black, strokes take one saturated colour.
    Hue,
    /// RGB = `u * (r, g, b)` with `r, g, b ~ U[0, 1)`.
    UniformRgb,
}

/// Per sector, the RGB planes taken from `(u, 0, u - d, d)`.
const SECTORS: [[usize; 3]; 6] = [
    [0, 3, 2],
    [2, 0, 3],
    [1, 0, 3],
    [1, 2, 0],
    [3, 1, 0],
    [0, 1, 2],
];

/// Turns [n, 1, h, w] images in [-1, 1] into [n, 3, h, w], one random colour
/// per image. The colour is drawn at each call: call it per batch for colours
/// redrawn at each load (as the reference code does), or once to fix them.
pub fn colorize<R: Rng + ?Sized>(
    images: &Images,
    coloring: Coloring,
    rng: &mut R,
) -> Result<Images, ParamError> {
    images.check()?;
    if images.c != 1 {
        return Err(ParamError::Channels {
            op: "colorize",
            expected: 1,
            found: images.c,
        });
    }
    let plane = images.h * images.w;
    let mut data = Vec::with_capacity(3 * images.data.len());
    for gray in images.data.chunks_exact(plane.max(1)) {
        let gains = match coloring {
            Coloring::Hue => hue_gains(360.0 * rng.random::<f64>()),
            Coloring::UniformRgb => [
                rng.random::<f32>(),
                rng.random::<f32>(),
                rng.random::<f32>(),
            ],
        };
        for gain in gains {
            data.extend(gray.iter().map(|&x| (x * 0.5 + 0.5) * gain * 2.0 - 1.0));
        }
    }
    Ok(Images {
        c: 3,
        data,
        ..*images
    })
}

/// The factor applied to the [0, 1] digit in each of R, G, B for `hue`
/// (every entry of `(u, 0, u - d, d)` is `u` times a constant).
fn hue_gains(hue: f64) -> [f32; 3] {
    let frac = (hue % 60.0) / 60.0;
    let planes = [1.0, 0.0, 1.0 - frac, frac];
    let sector = (hue / 60.0).round_ties_even() as usize % 6;
    SECTORS[sector].map(|p| planes[p] as f32)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn hue_gains_by_hand() {
        assert_eq!(hue_gains(0.0), [1.0, 0.0, 1.0]);
        assert_eq!(hue_gains(120.0), [0.0, 1.0, 0.0]);
        assert_eq!(hue_gains(240.0), [0.0, 0.0, 1.0]);
        // 90: d = u / 2, sector round(1.5) = 2 -> (0, u, d).
        assert_eq!(hue_gains(90.0), [0.0, 1.0, 0.5]);
        // 30: sector round(0.5) = 0 (ties to even) -> (u, d, u - d).
        assert_eq!(hue_gains(30.0), [1.0, 0.5, 0.5]);
        // 200: d = u * 20 / 60, sector 3 -> (0, u - d, u).
        let g = hue_gains(200.0);
        assert!(
            (g[1] - 2.0 / 3.0).abs() < 1e-6 && g[0] == 0.0 && g[2] == 1.0,
            "{g:?}"
        );
    }

    /// Two 2x2 digits: a black background with strokes at 1 and 0.5 in [0, 1].
    fn digits() -> Images {
        Images::new(2, 1, 2, 2, vec![-1.0, 1.0, 0.0, -1.0, 1.0, -1.0, -1.0, 0.0]).unwrap()
    }

    #[test]
    fn one_colour_per_image_and_black_stays_black() {
        for coloring in [Coloring::Hue, Coloring::UniformRgb] {
            let out = colorize(&digits(), coloring, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
            assert_eq!((out.n, out.c, out.h, out.w), (2, 3, 2, 2));
            for (i, image) in (0..2).map(|i| (i, out.image(i).unwrap())) {
                let gray = digits().image(i).unwrap().to_vec();
                for rgb in image.chunks_exact(4) {
                    // Channel = u * gain in [0, 1]: background -1, half stroke
                    // exactly halfway between -1 and the full stroke.
                    let full = gray.iter().position(|&g| g == 1.0).unwrap();
                    let half = gray.iter().position(|&g| g == 0.0).unwrap();
                    let background = gray.iter().position(|&g| g == -1.0).unwrap();
                    assert_eq!(rgb[background], -1.0);
                    assert!(
                        (rgb[half] + 1.0 - (rgb[full] + 1.0) / 2.0).abs() < 1e-6,
                        "{coloring:?}: {rgb:?}"
                    );
                }
            }
            // The full stroke (u = 1) shows each image's gains; they differ.
            let gains = |i: usize, full: usize| -> Vec<f32> {
                out.image(i)
                    .unwrap()
                    .chunks_exact(4)
                    .map(|rgb| (rgb[full] + 1.0) / 2.0)
                    .collect()
            };
            assert_ne!(gains(0, 1), gains(1, 0), "{coloring:?}");
        }
    }

    #[test]
    fn colours_are_seeded() {
        let draw = |seed| {
            colorize(
                &digits(),
                Coloring::Hue,
                &mut ChaCha8Rng::seed_from_u64(seed),
            )
            .unwrap()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn colour_images_are_rejected() {
        let rgb = Images::new(1, 3, 1, 1, vec![0.0; 3]).unwrap();
        let err = colorize(
            &rgb,
            Coloring::UniformRgb,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ParamError::Channels {
                op: "colorize",
                expected: 1,
                found: 3
            }
        );
    }
}
