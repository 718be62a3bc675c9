//! Axis ranges computed from data, ignoring non-finite values.

use std::ops::Range;

/// A closed interval `lo..=hi` of finite values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Span {
    pub lo: f64,
    pub hi: f64,
}

impl Span {
    /// The smallest span holding every finite value, or `None` if there is none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Span> {
        values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |acc: Option<Span>, v| {
                Some(match acc {
                    None => Span { lo: v, hi: v },
                    Some(s) => Span {
                        lo: s.lo.min(v),
                        hi: s.hi.max(v),
                    },
                })
            })
    }

    /// `hi - lo`.
    pub fn len(self) -> f64 {
        self.hi - self.lo
    }

    /// Grown by `fraction` of its length on each side. A single value gets a
    /// width of its own, since plotters cannot draw an axis of zero length.
    pub fn padded(self, fraction: f64) -> Span {
        let len = self.len();
        let pad = if len > 0.0 {
            len * fraction
        } else {
            (self.lo.abs() * 0.1).max(0.5)
        };
        Span {
            lo: self.lo - pad,
            hi: self.hi + pad,
        }
    }

    /// Grown about its centre to `len` if it is shorter.
    pub fn widened_to(self, len: f64) -> Span {
        let extra = (len - self.len()).max(0.0) / 2.0;
        Span {
            lo: self.lo - extra,
            hi: self.hi + extra,
        }
    }

    /// As the range plotters takes for an axis.
    pub fn range(self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Spans for `x` and `y` widened so that one data unit takes as many pixels
/// on both axes of a `width` x `height` pixel plot.
pub(crate) fn equal_aspect(x: Span, y: Span, (width, height): (u32, u32)) -> (Span, Span) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let units_per_pixel = (x.len() / w).max(y.len() / h);
    (
        x.widened_to(units_per_pixel * w),
        y.widened_to(units_per_pixel * h),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_skips_non_finite() {
        let s = Span::of([f64::NAN, 2.0, f64::INFINITY, -1.0, f64::NEG_INFINITY]).unwrap();
        assert_eq!(s, Span { lo: -1.0, hi: 2.0 });
        assert_eq!(Span::of([f64::NAN]), None);
        assert_eq!(Span::of([]), None);
    }

    #[test]
    fn padded_gives_single_value_a_width() {
        let s = Span { lo: 3.0, hi: 3.0 }.padded(0.05);
        assert!(s.lo < 3.0 && s.hi > 3.0);
        let s = Span { lo: 0.0, hi: 10.0 }.padded(0.1);
        assert_eq!(s, Span { lo: -1.0, hi: 11.0 });
    }

    #[test]
    fn equal_aspect_matches_pixel_ratio() {
        let (x, y) = equal_aspect(
            Span { lo: 0.0, hi: 1.0 },
            Span { lo: 0.0, hi: 4.0 },
            (400, 200),
        );
        assert_eq!(y, Span { lo: 0.0, hi: 4.0 });
        assert_eq!(x, Span { lo: -3.5, hi: 4.5 });
        assert!((x.len() / 400.0 - y.len() / 200.0).abs() < 1e-12);
    }
}
