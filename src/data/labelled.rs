//! Images paired with their class labels.

use super::images::Images;

/// A batch of images with one class label per image.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledImages {
    pub images: Images,
    pub labels: Vec<i64>,
}

impl LabelledImages {
    /// The images whose label is `label`, in their original order
    /// (e.g. digit 2 of MNIST, T-shirts of Fashion-MNIST).
    pub fn with_label(&self, label: i64) -> Images {
        let mut data = Vec::new();
        let mut n = 0;
        for (i, _) in self.labels.iter().enumerate().filter(|(_, l)| **l == label) {
            if let Some(image) = self.images.image(i) {
                data.extend_from_slice(image);
                n += 1;
            }
        }
        Images {
            n,
            data,
            ..self.images
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_label_keeps_matching_images_in_order() {
        let images = Images::new(4, 1, 1, 2, (0..8).map(|v| v as f32).collect()).unwrap();
        let set = LabelledImages {
            images,
            labels: vec![2, 0, 2, 1],
        };
        let twos = set.with_label(2);
        assert_eq!((twos.n, twos.c, twos.h, twos.w), (2, 1, 1, 2));
        assert_eq!(twos.data, vec![0.0, 1.0, 4.0, 5.0]);
        assert_eq!(set.with_label(7).n, 0);
    }
}
