//! `image_folder`: PNG/JPEG files under a folder (classes from first-level
//! subfolders), optionally cropped and resized as torchvision does on PIL
//! images.

use serde::Deserialize;
use serde_json::json;

use super::load::{content_hash, dataset};
use super::select::Select;
use super::transform::Mode;
use super::{
    Accepts, Context, InputSpec, ItemShape, Output, ParamError, StageError, StageKind, Wiring,
};
use crate::data::crop::CropBox;
use crate::data::folder::{ColorMode, FolderOptions, read_image_folder};

pub struct ImageFolder;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default)]
    rgb: bool,
    /// `[h, w]` box, shifted by `crop_offset` `[dy, dx]` from the centre.
    crop: Option<[usize; 2]>,
    #[serde(default)]
    crop_offset: [i64; 2],
    /// `[h, w]` after the crop.
    resize: Option<[usize; 2]>,
    #[serde(default = "default_mode")]
    resize_mode: Mode,
    #[serde(default)]
    select: Select,
}

fn default_mode() -> Mode {
    Mode::Bilinear
}

impl StageKind for ImageFolder {
    type Params = Params;
    const NAME: &'static str = "image_folder";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = Some(&[InputSpec {
        name: "folder",
        required: true,
        accepts: Accepts::Path,
        takes: &[],
    }]);
    const OUTPUT: Output = Output::Dataset;

    /// Known when every image is cropped or resized to one size.
    fn item_shape(p: &Params, _: &Wiring) -> Option<ItemShape> {
        let [h, w] = p.resize.or(p.crop)?;
        let channels = if p.rgb { 3 } else { 1 };
        Some(ItemShape::stored(vec![channels, h, w]))
    }

    fn validate(p: &Params) -> Result<(), ParamError> {
        if p.crop.is_some_and(|c| c.contains(&0)) || p.resize.is_some_and(|r| r.contains(&0)) {
            return Err(ParamError::at("crop", "sizes must be positive"));
        }
        p.select.validate()
    }

    fn run(&self, p: Params, ctx: &mut Context) -> Result<(), StageError> {
        let dir = ctx.input_path("folder")?.to_path_buf();
        let options = FolderOptions {
            color: if p.rgb {
                ColorMode::Rgb
            } else {
                ColorMode::Gray
            },
            crop: p.crop.map(|[h, w]| CropBox {
                h,
                w,
                dy: p.crop_offset[0],
                dx: p.crop_offset[1],
            }),
            resize: p.resize.map(|[h, w]| (h, w, p.resize_mode.interp())),
        };
        let folder = read_image_folder(&dir, &options)?;
        let source = json!({"format": "image folder", "folder": content_hash(&dir), "classes": folder.classes});
        let ds = dataset(&folder.set, &p.select, source)?;
        ctx.log(format!("{} of {} images kept", ds.x.n, folder.set.images.n));
        ds.write(&ctx.out).map_err(Into::into)
    }
}
