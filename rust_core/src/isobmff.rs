//! The size an AVIF or HEIF file declares, read from its boxes before any decoder sees it:
//! the largest `ispe` (image spatial extents) property in `meta` / `iprp` / `ipco`. The
//! primary image (a grid's whole canvas included) is never smaller than its tiles,
//! thumbnails or auxiliary images, so the largest is the one the pixel limit is held against.
//!
//! The walk is bounded: boxes are read by their declared sizes within their parent, at most
//! `MAX_BOXES` in all, and a size that runs past its parent ends the walk.

/// Boxes visited at most.
pub const MAX_BOXES: usize = 4096;

/// (width, height) of the largest `ispe` of `data`, or None when it has none.
pub fn declared_size(data: &[u8]) -> Option<(u64, u64)> {
    let mut budget = MAX_BOXES;
    let meta = find(data, b"meta", &mut budget)?;
    // A full box: version and flags first.
    let iprp = find(meta.get(4..)?, b"iprp", &mut budget)?;
    let ipco = find(iprp, b"ipco", &mut budget)?;
    let mut largest: Option<(u64, u64)> = None;
    for (kind, body) in boxes(ipco, &mut budget) {
        if kind != *b"ispe" || body.len() < 12 {
            continue;
        }
        let width = u64::from(u32::from_be_bytes([body[4], body[5], body[6], body[7]]));
        let height = u64::from(u32::from_be_bytes([body[8], body[9], body[10], body[11]]));
        if largest.is_none_or(|(w, h)| width * height > w * h) {
            largest = Some((width, height));
        }
    }
    largest
}

/// The body of the first box of `kind` among the boxes of `data`.
fn find<'a>(data: &'a [u8], kind: &[u8; 4], budget: &mut usize) -> Option<&'a [u8]> {
    let mut boxes = boxes(data, budget);
    boxes.find(|(found, _)| found == kind).map(|(_, body)| body)
}

/// The (type, body) of each box in `data`, in order, while the budget lasts.
fn boxes<'a, 'b>(
    data: &'a [u8],
    budget: &'b mut usize,
) -> impl Iterator<Item = ([u8; 4], &'a [u8])> + use<'a, 'b> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let header = data.get(at..at.checked_add(8)?)?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = [header[4], header[5], header[6], header[7]];
        let (start, size) = match size32 {
            0 => (at + 8, data.len() - at),
            1 => {
                let large = data.get(at + 8..at + 16)?;
                let size = u64::from_be_bytes(large.try_into().ok()?);
                (at + 16, usize::try_from(size).ok()?)
            }
            size => (at + 8, size as usize),
        };
        let end = at.checked_add(size)?;
        if end > data.len() || start > end {
            return None;
        }
        let body = &data[start..end];
        at = end;
        Some((kind, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(body);
        out
    }

    fn ispe(width: u32, height: u32) -> Vec<u8> {
        let mut body = vec![0; 4];
        body.extend(width.to_be_bytes());
        body.extend(height.to_be_bytes());
        bx(b"ispe", &body)
    }

    fn file(properties: &[Vec<u8>]) -> Vec<u8> {
        let ipco = bx(b"ipco", &properties.concat());
        let iprp = bx(b"iprp", &ipco);
        let mut meta = vec![0; 4];
        meta.extend(bx(b"hdlr", &[0; 24]));
        meta.extend(iprp);
        [bx(b"ftyp", b"avif\0\0\0\0avif"), bx(b"meta", &meta)].concat()
    }

    #[test]
    fn the_largest_extent_is_the_declared_size() {
        let data = file(&[
            ispe(512, 512),
            bx(b"pixi", &[0; 8]),
            ispe(60000, 60000),
            ispe(8, 8),
        ]);
        assert_eq!(declared_size(&data), Some((60000, 60000)));
    }

    #[test]
    fn boxes_that_run_past_their_parent_end_the_walk() {
        let mut data = file(&[ispe(10, 20)]);
        assert_eq!(declared_size(&data), Some((10, 20)));
        data.truncate(data.len() - 1);
        assert_eq!(declared_size(&data), None);
        assert_eq!(declared_size(b""), None);
        assert_eq!(declared_size(&bx(b"meta", &[0; 4])), None);
    }
}
