//! Grid axes and the cells they span.
//!
//! A cell is an assignment of values to some axes. Each stage instance has
//! the cell of the axes it depends on, so cells of different stages are
//! compared by restricting the larger one.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value as Json};

use crate::canon;

#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<Json>,
}

/// The pipeline's axes, in declaration order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    pub fn axis(&self, name: &str) -> Option<&Axis> {
        self.axes.iter().find(|a| a.name == name)
    }

    pub fn is_axis(&self, name: &str) -> bool {
        self.axis(name).is_some()
    }

    /// The axes among `names`, in grid order.
    pub fn ordered(&self, names: impl Fn(&str) -> bool) -> Vec<&Axis> {
        self.axes.iter().filter(|a| names(&a.name)).collect()
    }

    /// Every cell over `axes` (grid order; the last axis varies fastest).
    pub fn cells(axes: &[&Axis]) -> Vec<Cell> {
        let mut cells = vec![Cell::default()];
        for axis in axes {
            let mut next = Vec::with_capacity(cells.len() * axis.values.len());
            for cell in &cells {
                for v in &axis.values {
                    let mut c = cell.clone();
                    c.0.push((axis.name.clone(), v.clone()));
                    next.push(c);
                }
            }
            cells = next;
        }
        cells
    }
}

/// Values of some axes, in grid order.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cell(pub Vec<(String, Json)>);

impl Cell {
    pub fn get(&self, axis: &str) -> Option<&Json> {
        self.0.iter().find(|(a, _)| a == axis).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This cell restricted to the axes `keep` accepts.
    pub fn restrict(&self, keep: impl Fn(&str) -> bool) -> Cell {
        Cell(self.0.iter().filter(|(a, _)| keep(a)).cloned().collect())
    }

    /// True when every axis both cells have takes the same value in both.
    pub fn agrees_with(&self, other: &Cell) -> bool {
        self.0.iter().all(|(axis, v)| {
            other
                .get(axis)
                .is_none_or(|w| canon::to_string(v) == canon::to_string(w))
        })
    }

    pub fn to_json(&self) -> Json {
        Json::Object(self.0.iter().cloned().collect::<Map<_, _>>())
    }

    /// Each axis's value as text (`canon::label`), as metric rows and
    /// `show` write them.
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(axis, value)| (axis.clone(), canon::label(value)))
            .collect()
    }

    /// A file-name-safe label: `cost=weak_kernel,gamma=0.5`, or `_` for no axes.
    pub fn label(&self) -> String {
        if self.0.is_empty() {
            return "_".to_string();
        }
        self.0
            .iter()
            .map(|(a, v)| {
                let value: String = canon::label(v)
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || "-_.+".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                format!("{a}={value}")
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(a, v)| format!("{a}={}", canon::label(v)))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grid() -> Grid {
        Grid {
            axes: vec![
                Axis {
                    name: "cost".into(),
                    values: vec![json!("q"), json!("k")],
                },
                Axis {
                    name: "gamma".into(),
                    values: vec![json!(0), json!(0.5), json!(1)],
                },
            ],
        }
    }

    #[test]
    fn product_in_grid_order() {
        let g = grid();
        let cells = Grid::cells(&g.ordered(|_| true));
        assert_eq!(cells.len(), 6);
        assert_eq!(cells[1].label(), "cost=q,gamma=0.5");
        assert_eq!(Grid::cells(&[]), vec![Cell::default()]);
        assert_eq!(Cell::default().label(), "_");
    }

    #[test]
    fn restriction_and_agreement() {
        let g = grid();
        let cells = Grid::cells(&g.ordered(|_| true));
        let only_cost = cells[4].restrict(|a| a == "cost");
        assert_eq!(only_cost.to_json(), json!({"cost": "k"}));
        assert!(only_cost.agrees_with(&cells[4]));
        assert!(!only_cost.agrees_with(&cells[0]));
    }
}
