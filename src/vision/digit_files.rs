//! MNIST digits written as image files the way one's own digits arrive, to measure what
//! [`super::preprocess`] makes of them (`dilp bench predict`, and the tests): as MNIST stores
//! them (28×28, white on black), and as a dark pen on a sheet of paper photographed or scanned
//! at 224×224 with the digit large and away from the centre.
//!
//! The page style: an off-white sheet (shade 235) and ink down to shade 15, the 28×28 digit
//! enlarged six times (168×168, bilinear) and placed at an offset drawn from the item's index,
//! at least 10 pixels off the centred position on each axis, so no two neighbouring items sit
//! alike and none is centred.

use super::torch_err;
use crate::error::{Error, Result};
use crate::report::files::write_via;
use image::imageops::FilterType;
use image::{GrayImage, Luma};
use std::path::Path;
use tch::{Kind, Tensor};

/// Side of the page style's image.
pub const PAGE: u32 = 224;
/// The page style's enlargement of the 28×28 digit.
pub const ENLARGE: u32 = 6;
const PAPER: u8 = 235;
const DARKEST: u8 = 15;

/// The first `n` images of an `[N, 1, 28, 28]` MNIST tensor in [0, 1] as 784 bytes each, the
/// bytes MNIST's files hold.
pub fn mnist_bytes(images: &Tensor, n: usize) -> Result<Vec<Vec<u8>>> {
    let n = n.min(images.size().first().copied().unwrap_or(0).max(0) as usize);
    let bytes: Vec<u8> = images
        .f_narrow(0, 0, n as i64)
        .and_then(|t| t.f_mul_scalar(255.0))
        .and_then(|t| t.f_round())
        .and_then(|t| t.f_to_kind(Kind::Uint8))
        .and_then(|t| crate::dilp::weights::to_vec(&t))
        .map_err(torch_err)?;
    Ok(bytes.chunks(784).map(<[u8]>::to_vec).collect())
}

/// The digit as MNIST stores it: 28×28, white on black.
pub fn as_stored(bytes: &[u8]) -> Option<GrayImage> {
    GrayImage::from_raw(28, 28, bytes.to_vec())
}

/// The offset of item `index`'s digit on the page, per axis in `0..=56`, at least 10 pixels
/// from the centred 28.
pub fn page_offset(index: usize) -> (u32, u32) {
    let room = PAGE - 28 * ENLARGE; // 56
    let pick = |k: usize| {
        let t = (k % 38) as u32; // 0..38: 19 places on each side of the centre
        if t < 19 {
            t
        } else {
            t + 19
        }
    };
    let (x, y) = (
        pick(index.wrapping_mul(7)),
        pick(index.wrapping_mul(13) + 5),
    );
    debug_assert!(x <= room && y <= room);
    (x, y)
}

/// The digit in dark ink on a 224×224 light page, enlarged and off-centre (see the module doc).
pub fn on_page(bytes: &[u8], index: usize) -> Option<GrayImage> {
    let small = as_stored(bytes)?;
    let side = 28 * ENLARGE;
    let big = image::imageops::resize(&small, side, side, FilterType::Triangle);
    let mut page = GrayImage::from_pixel(PAGE, PAGE, Luma([PAPER]));
    let (ox, oy) = page_offset(index);
    let span = u16::from(PAPER - DARKEST);
    for (x, y, v) in big.enumerate_pixels() {
        let ink = PAPER - (u16::from(v.0[0]) * span / 255) as u8;
        page.put_pixel(x + ox, y + oy, Luma([ink]));
    }
    Some(page)
}

/// Writes `img` as a PNG file at `path` atomically.
pub fn save_png(img: &GrayImage, path: &Path) -> Result<()> {
    write_via(path, |tmp| {
        img.save_with_format(tmp, image::ImageFormat::Png)
            .map_err(|e| Error::Data {
                path: path.to_path_buf(),
                msg: format!("cannot write the image: {e}"),
            })
    })
}
