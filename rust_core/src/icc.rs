//! Embedded colour profiles: pixels encoded in an ICC profile (Display P3 from phones, Adobe
//! RGB from cameras, a grey gamma, a printer's CMYK) are converted to sRGB with LittleCMS
//! before any statistic, so the numbers are those of the picture as an sRGB display shows it.
//!
//! The conversion uses the relative colorimetric intent (the only one matrix/TRC profiles
//! define, and libvips' and sharp's default) without black-point compensation. RGB and grey
//! images are converted at the analysis size (after the resize), CMYK ones before it (the
//! statistics only read RGB). A profile whose transform leaves every probe colour as it is
//! (an sRGB profile, under any name) is reported but not applied, so such an image gives
//! exactly the numbers of its raw pixels. A profile LittleCMS cannot read, or one for another
//! colour space than the pixels', is ignored: the image is then taken as sRGB, as one
//! without a profile is.

use std::sync::{Arc, Mutex};

use lcms2::{CIExyY, PixelFormat, Profile, ToneCurve, Transform};
use lcms2::{ColorSpaceSignature, DisallowCache, Flags, GlobalContext, InfoType, Intent, Locale};

use crate::luminance::Layout;
use crate::pixels::Pixels;

/// The largest profile read; larger ones are ignored (the biggest real-world profiles, CMYK
/// printer tables, are a few MB at most; display profiles a few KB).
pub const MAX_ICC_BYTES: usize = 4 << 20;

/// Converters kept for the profiles seen last: building one (and its identity check) costs
/// milliseconds, and a phone's photos all carry the same profile.
const CACHED_CONVERTERS: usize = 8;

/// A transform shared between threads (LittleCMS's one-pixel cache off).
type Shared = Transform<u8, u8, GlobalContext, DisallowCache>;

/// What one profile does to grey or RGB pixels.
struct Converter {
    description: String,
    /// None when the transform leaves every probe colour as it is.
    transform: Option<Shared>,
}

/// The converters of the profiles seen last: (profile bytes, grey pixels, converter, or
/// None for a profile that cannot convert such pixels).
type Cache = Vec<(Vec<u8>, bool, Option<Arc<Converter>>)>;
static CONVERTERS: Mutex<Cache> = Mutex::new(Vec::new());

/// The profile's description (its `desc` tag), or a fixed phrase when it has none.
fn description(profile: &Profile) -> String {
    profile
        .info(InfoType::Description, Locale::none())
        .map(|text| text.trim().chars().take(120).collect::<String>())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unnamed ICC profile".to_owned())
}

/// The profile in `icc`, when LittleCMS reads it and it is of one of `spaces`.
fn read(icc: &[u8], spaces: &[ColorSpaceSignature]) -> Option<Profile> {
    if icc.len() > MAX_ICC_BYTES || icc.len() < 128 {
        return None;
    }
    let profile = Profile::new_icc(icc).ok()?;
    spaces.contains(&profile.color_space()).then_some(profile)
}

/// Converts `pixels` (grey or RGB, with or without alpha; alpha is kept) from the profile
/// `icc` to sRGB in place. The profile's description when it was applied (or found to be
/// sRGB's), None when it cannot be (see the module documentation).
pub fn convert(icc: &[u8], pixels: &mut Pixels) -> Option<String> {
    let grey = matches!(pixels.layout, Layout::L | Layout::La);
    let converter = converter(icc, grey)?;
    if let Some(transform) = &converter.transform {
        apply(transform, pixels, if grey { 1 } else { 3 });
    }
    Some(converter.description.clone())
}

/// The converter of `icc` for grey or RGB pixels, from the cache or built.
fn converter(icc: &[u8], grey: bool) -> Option<Arc<Converter>> {
    {
        let cache = CONVERTERS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, found)) = cache
            .iter()
            .find(|(bytes, g, _)| *g == grey && bytes == icc)
        {
            return found.clone();
        }
    }
    let built = build(icc, grey).map(Arc::new);
    let mut cache = CONVERTERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if cache.len() >= CACHED_CONVERTERS {
        cache.remove(0);
    }
    cache.push((icc.to_vec(), grey, built.clone()));
    built
}

fn build(icc: &[u8], grey: bool) -> Option<Converter> {
    let space = if grey {
        ColorSpaceSignature::GrayData
    } else {
        ColorSpaceSignature::RgbData
    };
    let profile = read(icc, &[space])?;
    let (format, output) = if grey {
        (PixelFormat::GRAY_8, srgb_grey()?)
    } else {
        (PixelFormat::RGB_8, Profile::new_srgb())
    };
    let transform = Shared::new_flags_context(
        GlobalContext::new(),
        &profile,
        format,
        &output,
        format,
        Intent::RelativeColorimetric,
        Flags::NO_CACHE,
    )
    .ok()?;
    let identity = is_identity(&transform, if grey { 1 } else { 3 });
    Some(Converter {
        description: description(&profile),
        transform: (!identity).then_some(transform),
    })
}

/// Converts the colour channels of `pixels` (the first `colour` of each pixel's).
fn apply(transform: &Shared, pixels: &mut Pixels, colour: usize) {
    let stride = pixels.layout.channels();
    if stride == colour {
        let mut out = vec![0u8; pixels.data.len()];
        transform.transform_pixels(&pixels.data, &mut out);
        pixels.data = out;
        return;
    }
    // Alpha stays as stored: the colour channels are gathered and converted row by row.
    let count = pixels.width;
    let mut colours = vec![0u8; count * colour];
    let mut converted = vec![0u8; count * colour];
    for row in pixels.data.chunks_exact_mut(count * stride) {
        for (dst, px) in colours
            .chunks_exact_mut(colour)
            .zip(row.chunks_exact(stride))
        {
            dst.copy_from_slice(&px[..colour]);
        }
        transform.transform_pixels(&colours, &mut converted);
        for (px, src) in row
            .chunks_exact_mut(stride)
            .zip(converted.chunks_exact(colour))
        {
            px[..colour].copy_from_slice(src);
        }
    }
}

/// CMYK samples (0 = no ink, four bytes a pixel, as Pillow decodes a JPEG) in the CMYK
/// profile `icc`, as sRGB pixels with the profile's description; None when the profile is
/// not CMYK or LittleCMS cannot build the transform.
pub fn cmyk_to_srgb(
    icc: &[u8],
    cmyk: &[u8],
    width: usize,
    height: usize,
) -> Option<(Pixels, String)> {
    let profile = read(icc, &[ColorSpaceSignature::CmykData])?;
    if cmyk.len() != width * height * 4 {
        return None;
    }
    let transform = Transform::<u8, u8>::new(
        &profile,
        PixelFormat::CMYK_8,
        &Profile::new_srgb(),
        PixelFormat::RGB_8,
        Intent::RelativeColorimetric,
    )
    .ok()?;
    let mut data = vec![0u8; width * height * 3];
    transform.transform_pixels(cmyk, &mut data);
    let pixels = Pixels {
        width,
        height,
        layout: Layout::Rgb,
        data,
    };
    Some((pixels, description(&profile)))
}

/// A grey profile with sRGB's white point and tone curve: the grey of an sRGB display.
fn srgb_grey() -> Option<Profile> {
    // IEC 61966-2-1's curve as ICC parametric type 4: (a x + b)^g above d, c x below.
    let curve =
        ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045])
            .ok()?;
    let d65 = CIExyY {
        x: 0.3127,
        y: 0.3290,
        Y: 1.0,
    };
    Profile::new_gray(&d65, &curve).ok()
}

/// True when the transform returns every probe colour unchanged: a 17-level cube of each
/// channel's values (every 16th level and 255), and the full grey ramp.
fn is_identity(transform: &Shared, channels: usize) -> bool {
    let levels: Vec<u8> = (0..=255u8).step_by(16).chain([255]).collect();
    let mut probes = Vec::new();
    if channels == 1 {
        probes.extend(0..=255u8);
    } else {
        for &r in &levels {
            for &g in &levels {
                for &b in &levels {
                    probes.extend([r, g, b]);
                }
            }
        }
        for v in 0..=255u8 {
            probes.extend([v, v, v]);
        }
    }
    let mut out = vec![0u8; probes.len()];
    transform.transform_pixels(&probes, &mut out);
    out == probes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icc_of(profile: &Profile) -> Vec<u8> {
        profile.icc().expect("serialises")
    }

    fn display_p3() -> Profile {
        let d65 = CIExyY {
            x: 0.3127,
            y: 0.3290,
            Y: 1.0,
        };
        let primaries = lcms2::CIExyYTRIPLE {
            Red: CIExyY {
                x: 0.680,
                y: 0.320,
                Y: 1.0,
            },
            Green: CIExyY {
                x: 0.265,
                y: 0.690,
                Y: 1.0,
            },
            Blue: CIExyY {
                x: 0.150,
                y: 0.060,
                Y: 1.0,
            },
        };
        let curve =
            ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045])
                .unwrap();
        Profile::new_rgb(&d65, &primaries, &[&curve, &curve, &curve]).unwrap()
    }

    fn image(layout: Layout, data: Vec<u8>) -> Pixels {
        let width = data.len() / layout.channels();
        Pixels {
            width,
            height: 1,
            layout,
            data,
        }
    }

    #[test]
    fn an_srgb_profile_leaves_the_pixels_as_they_are() {
        let data: Vec<u8> = (0..=255u8).flat_map(|v| [v, 255 - v, v / 2]).collect();
        let mut pixels = image(Layout::Rgb, data.clone());
        assert!(convert(&icc_of(&Profile::new_srgb()), &mut pixels).is_some());
        assert_eq!(pixels.data, data);
    }

    #[test]
    fn display_p3_red_is_outside_srgb_and_greys_stay_grey() {
        let p3 = icc_of(&display_p3());
        let mut pixels = image(Layout::Rgba, vec![255, 0, 0, 7, 128, 128, 128, 200]);
        assert!(convert(&p3, &mut pixels).is_some());
        let [r, g, b, a, gr, gg, gb, ga] = pixels.data[..] else {
            panic!()
        };
        // P3's red is more saturated than sRGB's: it clips to full red, with no green/blue.
        assert_eq!((r, g, b), (255, 0, 0));
        assert_eq!((a, ga), (7, 200), "alpha is kept");
        for v in [gr, gg, gb] {
            assert!(v.abs_diff(128) <= 1, "grey {v}");
        }
        // A less saturated P3 colour lands inside sRGB, more saturated than its raw numbers.
        let mut pixels = image(Layout::Rgb, vec![200, 100, 100]);
        convert(&p3, &mut pixels);
        assert!(
            pixels.data[0] > 200 && pixels.data[1] < 100,
            "{:?}",
            pixels.data
        );
    }

    #[test]
    fn profiles_that_do_not_fit_are_ignored() {
        let mut pixels = image(Layout::Rgb, vec![10, 20, 30]);
        assert!(convert(b"not a profile", &mut pixels).is_none());
        let mut truncated = icc_of(&display_p3());
        truncated.truncate(200);
        assert!(convert(&truncated, &mut pixels).is_none());
        assert_eq!(pixels.data, vec![10, 20, 30]);
        // An RGB profile on grey pixels converts nothing.
        let mut grey = image(Layout::L, vec![10, 20, 30]);
        assert!(convert(&icc_of(&display_p3()), &mut grey).is_none());
        assert_eq!(grey.data, vec![10, 20, 30]);
    }

    #[test]
    fn a_grey_gamma_profile_is_converted_to_srgb_grey() {
        let white = CIExyY {
            x: 0.3457,
            y: 0.3585,
            Y: 1.0,
        };
        let gamma18 = Profile::new_gray(&white, &ToneCurve::new(1.8)).unwrap();
        let mut grey = image(Layout::La, vec![0, 1, 128, 2, 255, 3]);
        assert!(convert(&icc_of(&gamma18), &mut grey).is_some());
        // (128/255)^1.8 = 0.289 linear, which sRGB encodes as about 146.
        assert_eq!(grey.data[0], 0);
        assert!(grey.data[2].abs_diff(146) <= 1, "{}", grey.data[2]);
        assert_eq!(grey.data[4], 255);
        assert_eq!([grey.data[1], grey.data[3], grey.data[5]], [1, 2, 3]);
    }
}
