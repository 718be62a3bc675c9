//! Point clouds on a 2-D map, and their reduction to what a map draws.

use plotters::style::RGBColor;

use super::style;

/// A labelled set of 2-D points.
#[derive(Clone, Debug, PartialEq)]
pub struct Cloud {
    /// Legend text; an empty label keeps the cloud out of the legend.
    pub label: String,
    pub points: Vec<[f64; 2]>,
    /// RGB colour; `None` picks the palette colour of the cloud's position.
    pub color: Option<[u8; 3]>,
}

/// One 2-D map.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterPanel {
    pub title: String,
    pub clouds: Vec<Cloud>,
    /// Line segments `[from, to]`, drawn thin and faint under the points.
    pub segments: Vec<[[f64; 2]; 2]>,
}

/// A cloud reduced to its finite points.
pub(crate) struct Dots<'a> {
    pub label: &'a str,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// A map reduced to what is drawn.
pub(crate) struct Map<'a> {
    pub title: &'a str,
    pub clouds: Vec<Dots<'a>>,
    pub segments: Vec<[(f64, f64); 2]>,
}

/// The point as a pair, if both coordinates are finite.
fn finite([x, y]: [f64; 2]) -> Option<(f64, f64)> {
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

impl<'a> Map<'a> {
    /// Keeps the finite points and segments, and the clouds left non-empty.
    pub fn new(panel: &'a ScatterPanel) -> Map<'a> {
        let clouds = panel
            .clouds
            .iter()
            .enumerate()
            .map(|(i, cloud)| Dots {
                label: &cloud.label,
                color: cloud
                    .color
                    .map_or_else(|| style::series_color(i), |[r, g, b]| RGBColor(r, g, b)),
                points: cloud.points.iter().filter_map(|&p| finite(p)).collect(),
            })
            .filter(|dots| !dots.points.is_empty())
            .collect();
        let segments = panel
            .segments
            .iter()
            .filter_map(|&[a, b]| Some([finite(a)?, finite(b)?]))
            .collect();
        Map {
            title: &panel.title,
            clouds,
            segments,
        }
    }

    /// Every finite point, segment ends included.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let dots = self.clouds.iter().flat_map(|c| c.points.iter().copied());
        dots.chain(self.segments.iter().flatten().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_finite_points_and_palette_positions() {
        let panel = ScatterPanel {
            title: "t".into(),
            clouds: vec![
                Cloud {
                    label: "gone".into(),
                    points: vec![[f64::NAN, 0.0]],
                    color: None,
                },
                Cloud {
                    label: "kept".into(),
                    points: vec![[1.0, 2.0], [3.0, f64::INFINITY]],
                    color: None,
                },
                Cloud {
                    label: "red".into(),
                    points: vec![[0.0, 0.0]],
                    color: Some([255, 0, 0]),
                },
            ],
            segments: vec![[[0.0, 0.0], [1.0, 1.0]], [[0.0, f64::NAN], [1.0, 1.0]]],
        };
        let map = Map::new(&panel);
        let labels: Vec<&str> = map.clouds.iter().map(|d| d.label).collect();
        assert_eq!(labels, ["kept", "red"]);
        assert_eq!(map.clouds[0].points, vec![(1.0, 2.0)]);
        // "kept" keeps the colour of its position even though "gone" went.
        assert_eq!(map.clouds[0].color, style::series_color(1));
        assert_eq!(map.clouds[1].color, RGBColor(255, 0, 0));
        assert_eq!(map.segments, vec![[(0.0, 0.0), (1.0, 1.0)]]);
        assert_eq!(map.points().count(), 4);
    }
}
