//! Network architectures, chosen per pipeline by a [`NetSpec`].
//!
//! Every net maps flat rows to flat rows: `[n, d_in]` -> `[n, d_out]`.
//! Image nets reshape to `[n, c, h, w]` inside, so the trainer and the
//! costs never care whether items are points or pictures.

mod cnn;
mod mlp;
mod resnet_d;
mod unet;

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::layers::Init;
use cnn::{CnnF, CnnT};
pub use mlp::Activation;
use mlp::Mlp;
use resnet_d::ResNetD;
use unet::UNet;

/// An architecture as a pipeline writes it, e.g. `{kind: cnn_t}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NetSpec {
    /// Fully connected, ReLU between layers (2-D toys).
    Mlp {
        #[serde(default = "default_hidden")]
        hidden: Vec<usize>,
        #[serde(default)]
        activation: Activation,
    },
    /// The transport CNN of the Weinreich & Heurtel-Depeiges report: `layers`
    /// 5x5 convolutions of `channels`.
    CnnT {
        #[serde(default = "default_channels")]
        channels: usize,
        #[serde(default = "default_layers")]
        layers: usize,
    },
    /// The potential CNN of the Weinreich & Heurtel-Depeiges report.
    CnnF {
        #[serde(default = "default_channels")]
        channels: usize,
    },
    /// The official transport U-Net.
    Unet {
        #[serde(default = "default_base")]
        base: usize,
    },
    /// The official potential ResNet_D.
    ResnetD {
        #[serde(default = "default_nf")]
        nf: usize,
        #[serde(default = "default_nf_max")]
        nf_max: usize,
        #[serde(default = "default_res_ratio")]
        res_ratio: f64,
    },
}

fn default_hidden() -> Vec<usize> {
    vec![128, 128, 128]
}
fn default_channels() -> usize {
    128
}
fn default_layers() -> usize {
    7
}
fn default_base() -> usize {
    48
}
fn default_nf() -> usize {
    64
}
fn default_nf_max() -> usize {
    512
}
fn default_res_ratio() -> f64 {
    0.1
}

/// What a net is for: T maps (x, z) to y, f scores y.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Transport,
    Potential,
}

#[derive(Module, Debug)]
// A training holds two nets, so the size of the largest variant is irrelevant.
#[allow(clippy::large_enum_variant)]
pub enum Net {
    Mlp(Mlp),
    CnnT(CnnT),
    CnnF(CnnF),
    UNet(UNet),
    ResNetD(ResNetD),
}

/// A built net with the image shape it reshapes rows to.
#[derive(Module, Debug)]
pub struct Model {
    net: Net,
    /// `[c, h, w]` of the input rows (`[d, 1, 1]` for points).
    input: [usize; 3],
}

impl NetSpec {
    /// Whether training replaces state besides the weights at each step
    /// (BatchNorm's running statistics, which burn stores anew rather than
    /// updating in place).
    pub fn keeps_running_statistics(&self) -> bool {
        matches!(self, NetSpec::Unet { .. })
    }

    /// A feature extractor: an MLP from `d_in` values to `outputs`
    /// features (other architectures end in a single score or an image).
    pub fn build_features(
        &self,
        init: &mut Init,
        d_in: usize,
        outputs: usize,
    ) -> Result<Model, String> {
        match self {
            NetSpec::Mlp { hidden, activation } => Ok(Model {
                net: Net::Mlp(Mlp::new(init, d_in, hidden, outputs, *activation)),
                input: [d_in, 1, 1],
            }),
            other => Err(format!(
                "feature networks are MLPs; `{}` is not supported",
                other.name()
            )),
        }
    }

    /// Which roles an architecture can play.
    pub fn check(&self, role: Role, item: &[usize]) -> Result<(), String> {
        let image = item.len() == 3;
        match (self, role) {
            (NetSpec::Mlp { hidden, .. }, _) if hidden.contains(&0) => {
                Err("hidden layers need a positive width".into())
            }
            (NetSpec::Mlp { .. }, _) => Ok(()),
            (_, _) if !image => Err(format!(
                "{} needs images [c, h, w], the data has items of shape {item:?}",
                self.name()
            )),
            (NetSpec::CnnT { layers, channels }, Role::Transport)
                if *layers >= 2 && *channels > 0 =>
            {
                Ok(())
            }
            (NetSpec::CnnT { .. }, Role::Transport) => {
                Err("cnn_t needs at least 2 layers and positive channels".into())
            }
            (NetSpec::Unet { base }, Role::Transport)
                if *base > 0 && item[1].is_multiple_of(16) && item[2].is_multiple_of(16) =>
            {
                Ok(())
            }
            (NetSpec::Unet { .. }, Role::Transport) => {
                Err("unet needs a positive base and image sides divisible by 16".into())
            }
            (NetSpec::CnnF { .. }, Role::Potential) if item[1] >= 16 && item[2] >= 16 => Ok(()),
            (NetSpec::CnnF { .. }, Role::Potential) => {
                Err("cnn_f pools four times: images must be at least 16x16".into())
            }
            (NetSpec::ResnetD { .. }, Role::Potential)
                if item[1] == item[2] && item[1] >= 4 && item[1].is_power_of_two() =>
            {
                Ok(())
            }
            (NetSpec::ResnetD { .. }, Role::Potential) => {
                Err("resnet_d needs square images with a power-of-two side".into())
            }
            (_, Role::Transport) => Err(format!(
                "{} is a potential network, not a transport map",
                self.name()
            )),
            (_, Role::Potential) => Err(format!(
                "{} is a transport map, not a potential network",
                self.name()
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            NetSpec::Mlp { .. } => "mlp",
            NetSpec::CnnT { .. } => "cnn_t",
            NetSpec::CnnF { .. } => "cnn_f",
            NetSpec::Unet { .. } => "unet",
            NetSpec::ResnetD { .. } => "resnet_d",
        }
    }

    /// Builds the net for items of shape `item` (`[c, h, w]` or `[d]`).
    /// A transport net also takes `z_channels` extra inputs (channels for
    /// images, coordinates for points) and outputs `out_channels` channels.
    pub fn build(
        &self,
        init: &mut Init,
        role: Role,
        item: &[usize],
        z_channels: usize,
        out_channels: usize,
    ) -> Model {
        let input = match item {
            [c, h, w] => [*c, *h, *w],
            _ => [item.iter().product(), 1, 1],
        };
        let [c, h, _] = input;
        let c_in = c + if role == Role::Transport {
            z_channels
        } else {
            0
        };
        let net = match (self, role) {
            (NetSpec::Mlp { hidden, activation }, Role::Transport) => {
                let pixels = input[1] * input[2];
                Net::Mlp(Mlp::new(
                    init,
                    c_in * pixels,
                    hidden,
                    out_channels * pixels,
                    *activation,
                ))
            }
            (NetSpec::Mlp { hidden, activation }, Role::Potential) => Net::Mlp(Mlp::new(
                init,
                c * input[1] * input[2],
                hidden,
                1,
                *activation,
            )),
            (NetSpec::CnnT { channels, layers }, _) => {
                Net::CnnT(CnnT::new(init, c_in, out_channels, *channels, *layers))
            }
            (NetSpec::CnnF { channels }, _) => Net::CnnF(CnnF::new(init, c, *channels)),
            (NetSpec::Unet { base }, _) => Net::UNet(UNet::new(init, c_in, out_channels, *base)),
            (
                NetSpec::ResnetD {
                    nf,
                    nf_max,
                    res_ratio,
                },
                _,
            ) => Net::ResNetD(ResNetD::new(init, c, h, *nf, *nf_max, *res_ratio)),
        };
        Model {
            net,
            input: [c_in, input[1], input[2]],
        }
    }
}

/// Counts learnable values, leaving out BatchNorm's running statistics (which
/// burn stores as module state and PyTorch as buffers), so the numbers
/// compare with `sum(p.numel() for p in net.parameters())`.
#[derive(Default)]
struct LearnableCount {
    path: Vec<String>,
    total: usize,
}

impl burn::module::ModuleVisitor for LearnableCount {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let running = self.path.last().is_some_and(|p| p.starts_with("running_"));
        if !running {
            self.total += param.shape().num_elements();
        }
    }
}

/// Every float tensor of a module with its dotted path.
#[derive(Default)]
struct Named {
    path: Vec<String>,
    out: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl burn::module::ModuleVisitor for Named {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let value = param.val();
        let shape = value.dims().to_vec();
        let data = value
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        self.out.push((self.path.join("."), shape, data));
    }
}

/// Replaces float tensors by dotted path (what `named_values` exports).
struct LoadNamed<'a> {
    path: Vec<String>,
    values: &'a std::collections::BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    device: burn::tensor::Device,
    problems: Vec<String>,
}

impl burn::module::ModuleMapper for LoadNamed<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        let name = self.path.join(".");
        let want = param.shape().dims::<D>().to_vec();
        match self.values.get(&name) {
            Some((shape, data)) if *shape == want => {
                let (id, _, _) = param.consume();
                let value = Tensor::from_data(
                    burn::tensor::TensorData::new(data.clone(), shape.clone()),
                    &self.device,
                );
                burn::module::Param::initialized(id, value)
            }
            Some((shape, _)) => {
                self.problems.push(format!(
                    "`{name}` has shape {shape:?}, the network needs {want:?}"
                ));
                param
            }
            None => {
                self.problems.push(format!("no tensor `{name}`"));
                param
            }
        }
    }
}

impl Model {
    /// This model with every weight taken from `values` (by dotted path, as
    /// `named_values` writes them), or what is missing or misshapen.
    pub fn load_named(
        self,
        values: &std::collections::BTreeMap<String, (Vec<usize>, Vec<f32>)>,
        device: &burn::tensor::Device,
    ) -> Result<Model, String> {
        let mut loader = LoadNamed {
            path: Vec::new(),
            values,
            device: device.clone(),
            problems: Vec::new(),
        };
        let model = self.map(&mut loader);
        if loader.problems.is_empty() {
            Ok(model)
        } else {
            Err(loader.problems.join("; "))
        }
    }

    /// Every weight (and BatchNorm statistic) by dotted path, for export.
    pub fn named_values(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut named = Named::default();
        self.visit(&mut named);
        named.out
    }

    /// Learnable parameters, counted like PyTorch does.
    pub fn parameter_count(&self) -> usize {
        let mut count = LearnableCount::default();
        self.visit(&mut count);
        count.total
    }

    /// `[n, d_in]` -> `[n, d_out]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, _] = x.dims();
        let [c, h, w] = self.input;
        let image = || x.clone().reshape([n, c, h, w]);
        match &self.net {
            Net::Mlp(m) => m.forward(x),
            Net::CnnT(m) => flatten(m.forward(image())),
            Net::UNet(m) => flatten(m.forward(image())),
            Net::CnnF(m) => m.forward(image()),
            Net::ResNetD(m) => m.forward(image()),
        }
    }
}

fn flatten(x: Tensor<4>) -> Tensor<2> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c * h * w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Purpose};

    fn count(spec: NetSpec, role: Role, item: &[usize], z: usize) -> usize {
        let device = burn::tensor::Device::flex();
        let mut init = Init {
            rng: rng::stream(0, Purpose::InitT, 0),
            device: &device,
        };
        spec.build(&mut init, role, item, z, item[0])
            .parameter_count()
    }

    /// docs/method.md, section 9: the report's CNNs at 32x32 with one z channel.
    #[test]
    fn seed_cnn_parameter_counts_match_the_spec() {
        let t = count(
            NetSpec::CnnT {
                channels: 128,
                layers: 7,
            },
            Role::Transport,
            &[1, 32, 32],
            1,
        );
        assert_eq!(t, 2_058_369);
        let f = count(
            NetSpec::CnnF { channels: 128 },
            Role::Potential,
            &[1, 32, 32],
            0,
        );
        assert_eq!(f, 970_497);
    }

    /// Counts worked out from the official PyTorch definitions (see the
    /// module docs): UNet(n_channels=4, n_classes=3, base_factor=48) and
    /// ResNet_D(size=64, nc=3) as used for 64x64 RGB.
    #[test]
    fn official_net_parameter_counts() {
        let unet = count(NetSpec::Unet { base: 48 }, Role::Transport, &[3, 64, 64], 1);
        assert_eq!(unet, unet_params(4, 3, 48));
        let d = count(
            NetSpec::ResnetD {
                nf: 64,
                nf_max: 512,
                res_ratio: 0.1,
            },
            Role::Potential,
            &[3, 64, 64],
            0,
        );
        assert_eq!(d, resnet_d_params(3, 64, 64, 512));
    }

    /// Parameters of conv(k x k, a -> b, bias) + BatchNorm(b) pairs.
    fn conv(a: usize, b: usize, k: usize, bias: bool) -> usize {
        a * b * k * k + if bias { b } else { 0 }
    }

    fn double_conv(a: usize, b: usize, mid: usize) -> usize {
        conv(a, mid, 3, true) + 2 * mid + conv(mid, b, 3, true) + 2 * b
    }

    fn unet_params(c_in: usize, c_out: usize, b: usize) -> usize {
        double_conv(c_in, b, b)
            + double_conv(b, 2 * b, 2 * b)
            + double_conv(2 * b, 4 * b, 4 * b)
            + double_conv(4 * b, 8 * b, 8 * b)
            + double_conv(8 * b, 8 * b, 8 * b)
            + double_conv(16 * b, 4 * b, 8 * b)
            + double_conv(8 * b, 2 * b, 4 * b)
            + double_conv(4 * b, b, 2 * b)
            + double_conv(2 * b, b, b)
            + conv(b, c_out, 1, true)
    }

    fn block(a: usize, b: usize) -> usize {
        let h = a.min(b);
        conv(a, h, 3, true) + conv(h, b, 3, true) + if a != b { a * b } else { 0 }
    }

    fn resnet_d_params(c: usize, size: usize, nf: usize, nf_max: usize) -> usize {
        let levels = (size / 4).ilog2() as usize;
        let w = |i: usize| (nf << i).min(nf_max);
        let mut total = conv(c, nf, 3, true);
        for i in 0..=levels {
            total += block(w(i), w(i)) + block(w(i), w(i + 1));
        }
        total + w(levels + 1) * 16 + 1
    }

    #[test]
    fn exported_weights_load_back_by_name() {
        let device = burn::tensor::Device::flex();
        let spec = NetSpec::Mlp {
            hidden: vec![4],
            activation: Activation::Relu,
        };
        let build = |seed| {
            let mut init = Init {
                rng: rng::stream(seed, Purpose::InitF, 0),
                device: &device,
            };
            spec.build_features(&mut init, 3, 2).unwrap()
        };
        let (a, b) = (build(1), build(2));
        let named = a.named_values();
        assert_eq!(named[0].0, "net.Mlp.layers.0.weight");
        let values: std::collections::BTreeMap<_, _> =
            named.into_iter().map(|(k, s, v)| (k, (s, v))).collect();
        let b = b.load_named(&values, &device).unwrap();
        let x = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(vec![0.1f32, -0.2, 0.3], [1, 3]),
            &device,
        );
        let (ya, yb) = (a.forward(x.clone()).into_data(), b.forward(x).into_data());
        assert_eq!(ya, yb);
        let mut broken = values_of(&a);
        broken.remove("net.Mlp.layers.1.bias");
        assert!(
            build(3)
                .load_named(&broken, &device)
                .unwrap_err()
                .contains("net.Mlp.layers.1.bias")
        );
    }

    fn values_of(m: &Model) -> std::collections::BTreeMap<String, (Vec<usize>, Vec<f32>)> {
        m.named_values()
            .into_iter()
            .map(|(k, s, v)| (k, (s, v)))
            .collect()
    }

    #[test]
    fn roles_are_checked() {
        assert!(
            NetSpec::CnnF { channels: 8 }
                .check(Role::Transport, &[1, 32, 32])
                .is_err()
        );
        assert!(
            NetSpec::CnnT {
                channels: 8,
                layers: 7
            }
            .check(Role::Transport, &[2])
            .is_err()
        );
        assert!(
            NetSpec::Mlp {
                hidden: vec![4],
                activation: Activation::Relu
            }
            .check(Role::Potential, &[2])
            .is_ok()
        );
    }
}
