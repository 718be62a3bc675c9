//! What a stage kind's validation sees of the inputs a stage binds, before
//! anything runs: their names, the params that the upstream cells (and a
//! metric stage's rows) carry, which a table's or a figure's axes must be
//! among, and a dataset's item shape where its kind and params tell it,
//! which a training's nets must take.

use std::collections::BTreeSet;

use super::Output;
use crate::data::on_load::drawn_shape;
use crate::tensor_file::OnLoad;

/// One bound input.
#[derive(Clone, Debug)]
pub struct Wired {
    pub name: String,
    /// The grid axes the upstream instances vary over, plus the params a
    /// metric stage adds to its rows (`tag`); `None` where nrun cannot know
    /// them before the input exists: a path, or a command's files.
    pub params: Option<BTreeSet<String>>,
    /// What the stage bound here gives; `None` for a path or a command's
    /// files.
    pub output: Option<Output>,
    /// The metrics of the rows bound here, where the stages that make them
    /// name them in their params.
    pub metrics: Option<BTreeSet<String>>,
    /// The items of the dataset bound here, where the stages that make it
    /// tell their shape without reading files.
    pub shape: Option<ItemShape>,
}

/// A dataset's item shape as planned: what its file stores, and the
/// transforms each item goes through when a training draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemShape {
    pub stored: Vec<usize>,
    pub on_load: Vec<OnLoad>,
}

impl ItemShape {
    pub fn stored(stored: Vec<usize>) -> Self {
        ItemShape {
            stored,
            on_load: Vec::new(),
        }
    }

    /// The items a training draws, or why the on-load ops cannot take
    /// the stored ones.
    pub fn drawn(&self) -> Result<Vec<usize>, String> {
        drawn_shape(&self.stored, &self.on_load)
    }
}

/// Every input a stage binds.
#[derive(Clone, Debug, Default)]
pub struct Wiring(pub Vec<Wired>);

impl Wiring {
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|w| w.name == name)
    }

    /// Whether the rows bound to `input` carry `param`, if known.
    pub fn carries(&self, input: &str, param: &str) -> Option<bool> {
        Some(self.params(&|name| name == input)?.contains(param))
    }

    /// What the stage bound to `name` gives, if known.
    pub fn output(&self, name: &str) -> Option<Output> {
        self.0.iter().find(|w| w.name == name)?.output
    }

    /// `metric` must be among the rows of the inputs `reads` selects: a
    /// table or figure of a metric nothing computes would otherwise fail
    /// only once everything upstream ran. Passes when the rows cannot be
    /// known before they exist; the error is the message.
    pub fn check_metric(&self, metric: &str, reads: &dyn Fn(&str) -> bool) -> Result<(), String> {
        let mut all = BTreeSet::new();
        for w in self.0.iter().filter(|w| reads(&w.name)) {
            let Some(metrics) = &w.metrics else {
                return Ok(());
            };
            all.extend(metrics.iter().map(String::as_str));
        }
        if all.is_empty() || all.contains(metric) {
            return Ok(());
        }
        Err(format!(
            "no input computes metric `{metric}`{}",
            crate::suggest::hint(metric, all, "they compute")
        ))
    }

    /// The item shape of the dataset bound to `name`, if known.
    pub fn shape(&self, name: &str) -> Option<&ItemShape> {
        self.0.iter().find(|w| w.name == name)?.shape.as_ref()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|w| w.name.as_str())
    }

    /// What a message about a misnamed input says the stage has:
    /// `inputs: a, b`, or `it has none`.
    pub fn note(&self) -> String {
        if self.0.is_empty() {
            "it has none".to_string()
        } else {
            format!("inputs: {}", self.names().collect::<Vec<_>>().join(", "))
        }
    }

    /// The params that the inputs `reads` selects carry together; `None`
    /// if any of them is unknown (or none is selected).
    fn params(&self, reads: &dyn Fn(&str) -> bool) -> Option<BTreeSet<String>> {
        let mut all = BTreeSet::new();
        let mut any = false;
        for w in self.0.iter().filter(|w| reads(&w.name)) {
            all.extend(w.params.as_ref()?.iter().cloned());
            any = true;
        }
        any.then_some(all)
    }

    /// `name` must be a param of the inputs that `reads` selects (or one
    /// of `also`): a typo or an axis the inputs do not vary over would
    /// otherwise fail only once they exist. Passes when their params
    /// cannot be known before they run; the error is the message.
    pub fn check_param(
        &self,
        name: &str,
        reads: &dyn Fn(&str) -> bool,
        also: &[&str],
    ) -> Result<(), String> {
        let Some(params) = self.params(reads) else {
            return Ok(());
        };
        if params.contains(name) || also.contains(&name) {
            return Ok(());
        }
        let known = params
            .iter()
            .map(String::as_str)
            .chain(also.iter().copied());
        Err(format!(
            "`{name}` is not a param of this stage's inputs{}",
            crate::suggest::hint(name, known, "they have")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wired(name: &str, params: Option<&[&str]>) -> Wired {
        Wired {
            name: name.into(),
            params: params.map(|p| p.iter().map(|s| s.to_string()).collect()),
            output: None,
            metrics: None,
            shape: None,
        }
    }

    #[test]
    fn a_param_of_no_input_is_named_with_the_closest() {
        let wiring = Wiring(vec![
            wired("weak", Some(&["gamma", "seed"])),
            wired("strong", Some(&["gamma", "cost"])),
        ]);
        let all = |_: &str| true;
        assert!(wiring.check_param("cost", &all, &[]).is_ok());
        assert!(wiring.check_param("metric", &all, &["metric"]).is_ok());
        let e = wiring.check_param("gama", &all, &[]).unwrap_err();
        assert_eq!(
            e,
            "`gama` is not a param of this stage's inputs; did you mean `gamma`?"
        );
        let e = wiring
            .check_param("zzz", &|n: &str| n == "weak", &[])
            .unwrap_err();
        assert_eq!(
            e,
            "`zzz` is not a param of this stage's inputs (they have: `gamma`, `seed`)"
        );
    }

    #[test]
    fn an_on_load_resize_changes_the_drawn_images_only() {
        let shape = ItemShape {
            stored: vec![1, 16, 16],
            on_load: vec![
                OnLoad::Noise { std: 0.4 },
                OnLoad::Nearest { size: [32, 32] },
            ],
        };
        assert_eq!(shape.drawn().unwrap(), [1, 32, 32]);
        assert_eq!(ItemShape::stored(vec![2]).drawn().unwrap(), [2]);
        let points = ItemShape {
            on_load: shape.on_load,
            ..ItemShape::stored(vec![2])
        };
        assert_eq!(
            points.drawn().unwrap_err(),
            "on_load nearest needs images, the data has items [2]"
        );
    }

    #[test]
    fn unknown_params_pass() {
        let wiring = Wiring(vec![wired("a", Some(&["gamma"])), wired("b", None)]);
        assert!(wiring.check_param("zzz", &|_| true, &[]).is_ok());
        assert!(wiring.check_param("zzz", &|_| false, &[]).is_ok());
    }
}
