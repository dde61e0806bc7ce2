//! What libjpeg does with each component at a given scale: the size of its inverse DCT,
//! the size of its sample plane, and how that plane is upsampled to the output, as
//! libjpeg-turbo 2.1 decides them (`jpeg_calc_output_dimensions` in jdmaster.c,
//! `jinit_upsampler` in jdsample.c). Equal decisions are what makes the pixels equal.

use super::headers::{Component, Frame};
use super::unsupported;
use crate::error::CoreError;

/// A JPEG's block side.
pub const BLOCK: usize = 8;

/// The scales the reader decodes at: output = ceil(source × samples / 8) on each side,
/// where `samples` is how many samples a block of a full-resolution component becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Eighth,
    Quarter,
    Half,
    Full,
}

impl Scale {
    /// The samples per block side at this scale: libjpeg's `min_DCT_scaled_size`.
    pub const fn block_samples(self) -> usize {
        match self {
            Scale::Eighth => 1,
            Scale::Quarter => 2,
            Scale::Half => 4,
            Scale::Full => 8,
        }
    }

    /// The scale whose denominator is `denominator` (8, 4, 2 or 1).
    pub fn from_denominator(denominator: usize) -> Option<Self> {
        match denominator {
            8 => Some(Scale::Eighth),
            4 => Some(Scale::Quarter),
            2 => Some(Scale::Half),
            1 => Some(Scale::Full),
            _ => None,
        }
    }

    /// The output size of a `width` x `height` source at this scale.
    pub const fn output_size(self, width: usize, height: usize) -> (usize, usize) {
        let s = self.block_samples();
        ((width * s).div_ceil(BLOCK), (height * s).div_ceil(BLOCK))
    }
}

/// How a component's samples become output pixels (jdsample.c's methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upsample {
    /// One sample per pixel.
    None,
    /// Twice across, by the triangle filter (3/4 nearer, 1/4 farther).
    FancyAcross,
    /// Twice down, by the triangle filter between rows.
    FancyDown,
    /// Twice both ways, by the triangle filter in both directions.
    FancyBoth,
    /// Each sample repeated `across` times across and `down` times down.
    Repeat { across: usize, down: usize },
}

/// One component at the chosen scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ComponentGeometry {
    /// Samples per block side out of its inverse DCT (1, 2, 4 or 8).
    pub samples: usize,
    /// Its sample plane's meaningful size (libjpeg's `downsampled_width/height`); the
    /// blocks cover more, up to whole MCUs.
    pub width: usize,
    pub height: usize,
    pub upsample: Upsample,
}

/// Every component at the chosen scale, and the output size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Geometry {
    pub width: usize,
    pub height: usize,
    pub components: Vec<ComponentGeometry>,
}

impl Geometry {
    /// libjpeg's choices for `frame` at `scale`. Sampling factors that no method upsamples
    /// (a component's factor not dividing the largest, as 3 and 2) are refused, as libjpeg
    /// refuses them ("fractional sampling not implemented").
    pub(super) fn new(frame: &Frame, scale: Scale) -> Result<Self, CoreError> {
        let min = scale.block_samples();
        let (width, height) = scale.output_size(frame.width, frame.height);
        let fancy = min > 1;
        let components = frame
            .components
            .iter()
            .map(|c| component(frame, c, min, fancy))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Geometry {
            width,
            height,
            components,
        })
    }
}

fn component(
    frame: &Frame,
    c: &Component,
    min: usize,
    fancy: bool,
) -> Result<ComponentGeometry, CoreError> {
    // Subsampled components are scaled up in the inverse DCT while the subsampling
    // allows it, so that less is left to upsampling.
    let mut samples = min;
    while samples < BLOCK
        && (frame.h_max * min) % (c.h * samples * 2) == 0
        && (frame.v_max * min) % (c.v * samples * 2) == 0
    {
        samples *= 2;
    }
    let width = (frame.width * c.h * samples).div_ceil(frame.h_max * BLOCK);
    let height = (frame.height * c.v * samples).div_ceil(frame.v_max * BLOCK);
    // An "input group" of samples becomes h_max x v_max output pixels.
    let (in_across, in_down) = (c.h * samples / min, c.v * samples / min);
    let (out_across, out_down) = (frame.h_max, frame.v_max);
    let upsample = if (in_across, in_down) == (out_across, out_down) {
        Upsample::None
    } else if in_across * 2 == out_across && in_down == out_down {
        if fancy && width > 2 {
            Upsample::FancyAcross
        } else {
            Upsample::Repeat { across: 2, down: 1 }
        }
    } else if in_across == out_across && in_down * 2 == out_down && fancy {
        Upsample::FancyDown
    } else if in_across * 2 == out_across && in_down * 2 == out_down {
        if fancy && width > 2 {
            Upsample::FancyBoth
        } else {
            Upsample::Repeat { across: 2, down: 2 }
        }
    } else if out_across % in_across == 0 && out_down % in_down == 0 {
        Upsample::Repeat {
            across: out_across / in_across,
            down: out_down / in_down,
        }
    } else {
        return Err(unsupported("fractional sampling factors"));
    };
    Ok(ComponentGeometry {
        samples,
        width,
        height,
        upsample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(width: usize, height: usize, factors: &[(usize, usize)]) -> Frame {
        Frame::with_components(
            false,
            width,
            height,
            factors
                .iter()
                .enumerate()
                .map(|(i, &(h, v))| Component {
                    id: i as u8 + 1,
                    h,
                    v,
                    table: 0,
                })
                .collect(),
        )
    }

    #[test]
    fn chroma_is_scaled_in_the_idct_when_the_subsampling_allows() {
        use Upsample::*;
        // (factors, scale, expected (samples, upsample) of the second component).
        let cases = [
            (&[(2, 2), (1, 1), (1, 1)][..], Scale::Eighth, (2, None)),
            (&[(2, 2), (1, 1), (1, 1)], Scale::Quarter, (4, None)),
            (&[(2, 2), (1, 1), (1, 1)], Scale::Half, (8, None)),
            (&[(2, 2), (1, 1), (1, 1)], Scale::Full, (8, FancyBoth)),
            (
                &[(2, 1), (1, 1), (1, 1)],
                Scale::Eighth,
                (1, Repeat { across: 2, down: 1 }),
            ),
            (&[(2, 1), (1, 1), (1, 1)], Scale::Quarter, (2, FancyAcross)),
            (&[(1, 2), (1, 1), (1, 1)], Scale::Half, (4, FancyDown)),
            (&[(4, 4), (1, 1), (1, 1)], Scale::Eighth, (4, None)),
            (
                &[(4, 1), (1, 1), (1, 1)],
                Scale::Quarter,
                (2, Repeat { across: 4, down: 1 }),
            ),
            (&[(1, 1), (2, 1), (1, 1)], Scale::Half, (4, None)),
        ];
        for (factors, scale, expected) in cases {
            let geometry = Geometry::new(&frame(100, 60, factors), scale).unwrap();
            let c = geometry.components[1];
            assert_eq!((c.samples, c.upsample), expected, "{factors:?} {scale:?}");
        }
    }

    #[test]
    fn a_first_component_smaller_than_another_is_upsampled_too() {
        let geometry =
            Geometry::new(&frame(3072, 8, &[(1, 1), (2, 1), (1, 1)]), Scale::Eighth).unwrap();
        assert_eq!(
            geometry.components[0].upsample,
            Upsample::Repeat { across: 2, down: 1 }
        );
        assert_eq!(geometry.components[1].upsample, Upsample::None);
        assert_eq!((geometry.width, geometry.height), (384, 1));
        assert_eq!(
            (geometry.components[0].width, geometry.components[1].width),
            (192, 384)
        );
    }

    #[test]
    fn narrow_planes_and_fractional_factors() {
        // Two samples or fewer across: repeated, not filtered.
        let geometry =
            Geometry::new(&frame(16, 16, &[(2, 2), (1, 1), (1, 1)]), Scale::Full).unwrap();
        assert_eq!(geometry.components[1].width, 8);
        let narrow = Geometry::new(&frame(3, 16, &[(2, 1), (1, 1), (1, 1)]), Scale::Full).unwrap();
        assert_eq!(narrow.components[1].width, 2);
        assert_eq!(
            narrow.components[1].upsample,
            Upsample::Repeat { across: 2, down: 1 }
        );
        let err = Geometry::new(&frame(64, 64, &[(3, 1), (2, 1), (1, 1)]), Scale::Full);
        assert!(matches!(err, Err(CoreError::JpegUnsupported(_))));
        assert_eq!(Scale::Quarter.output_size(3000, 2001), (750, 501));
    }
}
