//! `transform`: degradations and transforms of a dataset (docs/experiments.md).
//!
//! `ops` run once, in order, with a seeded generator, so a test set is
//! degraded the same way for every model. `on_load` ops are stored with the
//! result and run at every draw during training (noise "redrawn at each
//! load"). The paired ground truth is the input itself (`keep_clean`) or
//! another dataset bound to the `clean` input.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Context, InputSpec, ItemShape, Output, ParamError, StageError, StageKind, Wiring};
use crate::data::blur::gaussian_blur;
use crate::data::colorize::{Coloring, colorize};
use crate::data::crop::CropBox;
use crate::data::images::Images;
use crate::data::mask::{MaskKind, random_mask};
use crate::data::noise::gaussian_noise;
use crate::data::on_load::drawn_shape;
use crate::data::pil_resize::pil_resize_u8;
use crate::data::points::Points;
use crate::data::projection::project_to_circle;
use crate::data::resize::{Interp, Resize};
use crate::loc::PathSegment;
use crate::samples::Samples;
use crate::tensor_file::{Dataset, OnLoad};

pub struct Transform;

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Nearest,
    Bilinear,
    Bicubic,
}

impl Mode {
    pub fn interp(self) -> Interp {
        match self {
            Mode::Nearest => Interp::Nearest,
            Mode::Bilinear => Interp::Bilinear,
            Mode::Bicubic => Interp::Bicubic,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// PyTorch `F.interpolate` semantics; `pil: true` instead reproduces
    /// torchvision's `Resize` on 8-bit PIL images exactly (values are
    /// snapped to 8-bit levels).
    Resize {
        size: [usize; 2],
        mode: Mode,
        #[serde(default)]
        antialias: bool,
        #[serde(default)]
        pil: bool,
    },
    /// Adds N(0, std^2) (in [-1, 1] units: 0.4 there is 0.2 on [0, 1]).
    Noise {
        std: f32,
    },
    /// A `size` box, shifted by `offset` `[dy, dx]` from the centre.
    Crop {
        size: [usize; 2],
        #[serde(default)]
        offset: [i64; 2],
    },
    Blur {
        kernel: usize,
        sigma: f32,
    },
    /// Random rectangles hidden (set to `fill`).
    MaskRectangles {
        count: usize,
        min_side: usize,
        max_side: usize,
        #[serde(default = "minus_one")]
        fill: f32,
    },
    /// A random fraction of pixels hidden.
    MaskPixels {
        fraction: f32,
        #[serde(default = "minus_one")]
        fill: f32,
    },
    /// Grayscale to a random colour per image (Gbagbe & Bintang's coloured MNIST).
    Colorize {
        #[serde(default)]
        uniform_rgb: bool,
    },
    /// 2-D points: x / (||x|| + eps) plus N(0, noise^2).
    ProjectCircle {
        eps: f32,
        noise: f32,
    },
}

fn minus_one() -> f32 {
    -1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default)]
    ops: Vec<Op>,
    #[serde(default)]
    on_load: Vec<OnLoad>,
    #[serde(default)]
    seed: u64,
    /// Keep the input items as the paired ground truth `clean`.
    #[serde(default)]
    keep_clean: bool,
}

impl StageKind for Transform {
    type Params = Params;
    const NAME: &'static str = "transform";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[
        InputSpec::needs("data", &[Output::Dataset]),
        InputSpec::may("clean", &[Output::Dataset]),
    ]);
    const OUTPUT: Output = Output::Dataset;

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.ops.is_empty() && p.on_load.is_empty() {
            return Err(ParamError::at("ops", "give at least one op or on_load op"));
        }
        Ok(())
    }

    /// Ops that cannot take the data's items (an image op on points) are
    /// caught before anything runs, where the data's shape is known.
    fn validate_inputs(p: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        let Some(input) = inputs.shape("data") else {
            return Ok(());
        };
        let mut shape = input.stored.clone();
        for (i, op) in p.ops.iter().enumerate() {
            shape = shape_after(op, &shape).map_err(|message| ParamError {
                path: vec![PathSegment::Key("ops".into()), PathSegment::Index(i)],
                message,
            })?;
        }
        // The data's own on-load ops, then this stage's, draw from what
        // the ops made.
        let field = if p.on_load.is_empty() {
            "ops"
        } else {
            "on_load"
        };
        let on_load = [input.on_load.as_slice(), &p.on_load].concat();
        drawn_shape(&shape, &on_load)
            .map(|_| ())
            .map_err(|message| ParamError::at(field, message))
    }

    fn item_shape(p: &Params, inputs: &Wiring) -> Option<ItemShape> {
        let input = inputs.shape("data")?;
        let mut stored = input.stored.clone();
        for op in &p.ops {
            stored = shape_after(op, &stored).ok()?;
        }
        Some(ItemShape {
            stored,
            on_load: [input.on_load.as_slice(), &p.on_load].concat(),
        })
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let input = Dataset::read(ctx.input_dir("data")?)?;
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let mut x = input.x.clone();
        for op in &p.ops {
            x = apply(op, &x, &mut rng)?;
        }
        let clean = if ctx.inputs.contains_key("clean") {
            let paired = Dataset::read(ctx.input_dir("clean")?)?;
            if paired.x.n != x.n {
                return Err(StageError::Misfit(format!(
                    "`clean` has {} items, the data {}",
                    paired.x.n, x.n
                )));
            }
            Some(paired.x)
        } else if p.keep_clean {
            Some(input.x.clone())
        } else {
            input.clean.clone()
        };
        let mut on_load = input.on_load.clone();
        on_load.extend(p.on_load.iter().cloned());
        let ds = Dataset {
            x,
            labels: input.labels.clone(),
            clean,
            on_load,
            provenance: json!({
                "from": input.provenance,
                "ops": format!("{:?}", p.ops),
                "seed": p.seed,
            }),
        };
        ds.write(&ctx.out).map_err(Into::into)
    }
}

fn images(s: &Samples) -> Result<Images, StageError> {
    match s.shape.as_slice() {
        [c, h, w] => Images::new(s.n, *c, *h, *w, s.data.clone()).map_err(StageError::from),
        other => Err(StageError::Misfit(format!(
            "this op needs images [c, h, w], the data has items {other:?}"
        ))),
    }
}

/// The item shape `op` makes of items of shape `shape`, or why it cannot
/// take them (as [`apply`] would find).
fn shape_after(op: &Op, shape: &[usize]) -> Result<Vec<usize>, String> {
    let image = || match shape {
        [c, h, w] => Ok((*c, *h, *w)),
        other => Err(format!(
            "this op needs images [c, h, w], the data has items {other:?}"
        )),
    };
    Ok(match op {
        Op::Resize { size, .. } | Op::Crop { size, .. } => vec![image()?.0, size[0], size[1]],
        Op::Noise { .. } => shape.to_vec(),
        Op::Blur { .. } | Op::MaskRectangles { .. } | Op::MaskPixels { .. } => {
            image()?;
            shape.to_vec()
        }
        Op::Colorize { .. } => match image()? {
            (1, h, w) => vec![3, h, w],
            (c, _, _) => {
                return Err(format!(
                    "colorize needs grayscale images [1, h, w], the data has {c} channels"
                ));
            }
        },
        Op::ProjectCircle { .. } => vec![shape.iter().product()],
    })
}

fn from_images(i: Images) -> Samples {
    Samples::new(vec![i.c, i.h, i.w], i.data)
}

pub fn apply(op: &Op, x: &Samples, rng: &mut ChaCha8Rng) -> Result<Samples, StageError> {
    let out = match op {
        Op::Resize {
            size,
            mode,
            antialias,
            pil: false,
        } => {
            let r = Resize {
                h: size[0],
                w: size[1],
                interp: mode.interp(),
                antialias: *antialias,
            };
            from_images(r.apply(&images(x)?)?)
        }
        Op::Resize {
            size,
            mode,
            pil: true,
            ..
        } => {
            let imgs = images(x)?;
            let bytes: Vec<u8> = imgs
                .data
                .iter()
                .map(|&v| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8)
                .collect();
            let out = pil_resize_u8(
                &bytes,
                imgs.n * imgs.c,
                (imgs.h, imgs.w),
                (size[0], size[1]),
                mode.interp(),
            )?;
            from_images(Images::from_u8(imgs.n, imgs.c, size[0], size[1], &out)?)
        }
        Op::Noise { std } => {
            let imgs = Images::new(x.n, 1, 1, x.item_size(), x.data.clone())?;
            Samples::new(x.shape.clone(), gaussian_noise(&imgs, *std, rng)?.data)
        }
        Op::Crop { size, offset } => {
            let b = CropBox {
                h: size[0],
                w: size[1],
                dy: offset[0],
                dx: offset[1],
            };
            from_images(b.apply(&images(x)?)?)
        }
        Op::Blur { kernel, sigma } => from_images(gaussian_blur(&images(x)?, *kernel, *sigma)?),
        Op::MaskRectangles {
            count,
            min_side,
            max_side,
            fill,
        } => {
            let kind = MaskKind::Rectangles {
                count: *count,
                min_side: *min_side,
                max_side: *max_side,
            };
            from_images(random_mask(&images(x)?, kind, *fill, rng)?.images)
        }
        Op::MaskPixels { fraction, fill } => from_images(
            random_mask(
                &images(x)?,
                MaskKind::Pixels {
                    fraction: *fraction,
                },
                *fill,
                rng,
            )?
            .images,
        ),
        Op::Colorize { uniform_rgb } => {
            let coloring = if *uniform_rgb {
                Coloring::UniformRgb
            } else {
                Coloring::Hue
            };
            from_images(colorize(&images(x)?, coloring, rng)?)
        }
        Op::ProjectCircle { eps, noise } => {
            let pts = Points::new(x.n, x.item_size(), x.data.clone())?;
            let out = project_to_circle(&pts, *eps, *noise, rng)?;
            Samples::new(vec![out.d], out.data)
        }
    };
    Ok(out)
}
