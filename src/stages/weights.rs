//! A network's weights in a train entry: `<name>.safetensors`, every weight
//! (and BatchNorm statistic) by dotted path as `Model::named_values` names
//! it, what numpy and PyTorch read and what `sample` and `inverse_map` load.
//! One copy only: a full-scale Table 1 entry is half the size it was with
//! burnpack twins beside them, which is what decides how many finished
//! trainings an export from a GPU machine can carry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;

use super::StageError;
use crate::ot::nets::Model;
use crate::tensor_file::{self, Tensor};

/// Writes `stem.safetensors`.
pub fn save(net: &Model, stem: &Path) -> Result<(), StageError> {
    let tensors: BTreeMap<String, Tensor> = net
        .named_values()
        .into_iter()
        .map(|(path, shape, data)| (path, Tensor::F32 { shape, data }))
        .collect();
    tensor_file::write(&with_suffix(stem, "safetensors"), &tensors).map_err(Into::into)
}

/// `net` (built from the entry's spec) with the weights saved at `stem`.
/// Entries cached before nrun wrote safetensors alone hold burnpack files
/// (`stem.bpk`), which are read when there is no safetensors file.
pub fn load(net: Model, stem: &Path, device: &Device) -> Result<Model, StageError> {
    let path = with_suffix(stem, "safetensors");
    if !path.exists() {
        let burnpack = with_suffix(stem, "bpk");
        if burnpack.exists() {
            return net
                .try_load_file(&burnpack)
                .map_err(|e| StageError::bad_input(&burnpack, e.to_string()));
        }
    }
    let values = tensor_file::read(&path)?
        .into_iter()
        .filter_map(|(name, t)| match t {
            Tensor::F32 { shape, data } => Some((name, (shape, data))),
            Tensor::I64 { .. } => None,
        })
        .collect();
    net.load_named(&values, device)
        .map_err(|e| StageError::bad_input(&path, e))
}

fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::layers::Init;
    use crate::ot::nets::{NetSpec, Role};
    use crate::rng::{self, Purpose};

    fn unet(base: usize, seed: u64, device: &Device) -> Model {
        let mut init = Init {
            rng: rng::stream(seed, Purpose::InitT, 0),
            device,
        };
        NetSpec::Unet { base }.build(&mut init, Role::Transport, &[1, 16, 16], 1, 1)
    }

    #[test]
    fn a_saved_net_loads_with_every_weight_and_batchnorm_statistic() {
        let device = Device::flex();
        let dir = tempfile::tempdir().unwrap();
        // The UNet has BatchNorm: running statistics unlike a fresh net's
        // (zeros and ones) must travel too.
        let moved: BTreeMap<_, _> = unet(4, 0, &device)
            .named_values()
            .into_iter()
            .map(|(name, shape, data)| (name, (shape, data.iter().map(|v| v + 0.5).collect())))
            .collect();
        let trained = unet(4, 0, &device).load_named(&moved, &device).unwrap();
        assert!(
            trained
                .named_values()
                .iter()
                .any(|(name, _, data)| name.contains("running_var") && data[0] == 1.5)
        );
        save(&trained, &dir.path().join("T")).unwrap();
        let loaded = load(unet(4, 1, &device), &dir.path().join("T"), &device).unwrap();
        assert_eq!(loaded.named_values(), trained.named_values());
    }

    #[test]
    fn a_missing_or_misshapen_weight_is_bad_input_naming_the_file() {
        let device = Device::flex();
        let dir = tempfile::tempdir().unwrap();
        save(&unet(4, 0, &device), &dir.path().join("T")).unwrap();
        let e = load(unet(8, 0, &device), &dir.path().join("T"), &device).unwrap_err();
        assert!(matches!(e, StageError::BadInput { .. }), "{e}");
        assert!(e.to_string().contains("T.safetensors"), "{e}");
        let e = load(unet(4, 0, &device), &dir.path().join("U"), &device).unwrap_err();
        assert!(e.to_string().contains("U.safetensors"), "{e}");
    }
}
