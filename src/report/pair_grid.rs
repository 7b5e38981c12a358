//! The picture of a run's test items (`pairs.png`): a grid of cells, each showing one test
//! item's image(s) (two side by side for a two-image task, one for a one-image task), framed
//! green when the prediction is right and red when it is wrong, with an orange band across the
//! top-right corner when the item's digit tuple was held out of training, and a line of text
//! under the images: the true label `Y` and the predicted `P(target)` `P`. A legend heads the
//! grid: the title, what the colours mean and how many shown items of each split are right.
//!
//! Drawn with the `image` crate alone. `image` has no fonts, so the text is drawn with the tiny
//! 5×7 bitmap glyph set defined here ([`glyph`]: digits, capital letters and a few marks; lower
//! case is drawn as upper case, anything else as a blank).

use super::files::write_via;
use crate::error::{Error, Result};
use image::{Rgb, RgbImage};
use std::path::Path;

/// One test item of the picture.
#[derive(Debug, Clone)]
pub struct GridItem {
    /// Its images (one or two), each 28×28 row-major in [0, 1], white digit on black.
    pub images: Vec<Vec<f32>>,
    /// The true label.
    pub label: bool,
    /// The predicted `P(target)`; the prediction is `p_target ≥ 0.5`, as the accuracies count it.
    pub p_target: f64,
    /// Whether the item's digit tuple was held out of training.
    pub held_out: bool,
}

impl GridItem {
    /// Whether the thresholded prediction equals the label.
    pub fn is_right(&self) -> bool {
        (self.p_target >= 0.5) == self.label
    }
}

/// Frame of a rightly predicted item.
pub const RIGHT: Rgb<u8> = Rgb([40, 160, 60]);
/// Frame of a wrongly predicted item.
pub const WRONG: Rgb<u8> = Rgb([215, 40, 40]);
/// Corner band of an item whose digit tuple was held out.
pub const HELD_OUT: Rgb<u8> = Rgb([255, 140, 0]);
const PAPER: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([20, 20, 20]);

/// Cells per row of the grid.
pub const COLUMNS: u32 = 8;
/// Each MNIST pixel is drawn as a `ZOOM × ZOOM` square.
const ZOOM: u32 = 2;
/// Text glyphs are 5×7, drawn at `TEXT × TEXT` pixels per glyph pixel, 6 glyph pixels apart.
const TEXT: u32 = 2;
const FRAME: u32 = 4;
const PAD: u32 = 4;
const GAP: u32 = 6;
const MARGIN: u32 = 10;
/// The orange band's reach from the cell's top-right corner, in pixels.
const BAND: u32 = 18;
const SIDE: u32 = 28 * ZOOM;
/// A cell's inner width: ten glyphs (`Y=1 P=0.97`).
const INNER: u32 = 10 * 6 * TEXT;
const LINE: u32 = 7 * TEXT;
/// The legend: two lines of text above the grid.
const LEGEND: u32 = 2 * (LINE + PAD) + PAD;

/// Width and height of one cell.
pub fn cell_size() -> (u32, u32) {
    (
        2 * (FRAME + PAD) + INNER,
        2 * (FRAME + PAD) + SIDE + PAD + LINE,
    )
}

/// Top-left pixel of cell `index` (row-major, [`COLUMNS`] to a row).
pub fn cell_origin(index: usize) -> (u32, u32) {
    let (w, h) = cell_size();
    let (col, row) = (index as u32 % COLUMNS, index as u32 / COLUMNS);
    (MARGIN + col * (w + GAP), MARGIN + LEGEND + row * (h + GAP))
}

/// Width and height of the picture of `items` items.
pub fn canvas_size(items: usize) -> (u32, u32) {
    let (w, h) = cell_size();
    let rows = (items as u32).div_ceil(COLUMNS).max(1);
    (
        2 * MARGIN + COLUMNS * w + (COLUMNS - 1) * GAP,
        2 * MARGIN + LEGEND + rows * h + (rows - 1) * GAP,
    )
}

/// Draws the picture of `items` headed by `title`. Every item must have the same number of
/// images (one or two), each of 784 pixels.
pub fn draw(title: &str, items: &[GridItem]) -> std::result::Result<RgbImage, String> {
    let n_images = items.first().map_or(1, |i| i.images.len());
    if let Some((k, _)) = (items.iter().enumerate())
        .find(|(_, i)| i.images.len() != n_images || !(1..=2).contains(&i.images.len()))
    {
        return Err(format!(
            "item {k} has {} images; every item needs the same number, one or two",
            items[k].images.len()
        ));
    }
    if let Some(k) = items
        .iter()
        .position(|i| i.images.iter().any(|p| p.len() != 784))
    {
        return Err(format!("item {k} has an image that is not 28×28"));
    }
    let (w, h) = canvas_size(items.len());
    let mut img = RgbImage::from_pixel(w, h, PAPER);
    draw_legend(&mut img, title, items);
    for (k, item) in items.iter().enumerate() {
        draw_cell(&mut img, cell_origin(k), item);
    }
    Ok(img)
}

/// [`draw`], written as a PNG to `path` atomically.
pub fn write_png(path: &Path, title: &str, items: &[GridItem]) -> Result<()> {
    let img = draw(title, items).map_err(|msg| Error::Data {
        path: path.to_path_buf(),
        msg: format!("cannot draw the picture: {msg}"),
    })?;
    write_via(path, |tmp| {
        img.save_with_format(tmp, image::ImageFormat::Png)
            .map_err(|e| Error::Data {
                path: path.to_path_buf(),
                msg: format!("cannot write the picture: {e}"),
            })
    })
}

fn draw_legend(img: &mut RgbImage, title: &str, items: &[GridItem]) {
    let (x, y) = (MARGIN, MARGIN + PAD);
    let count = |held: bool| {
        let of: Vec<_> = items.iter().filter(|i| i.held_out == held).collect();
        (of.iter().filter(|i| i.is_right()).count(), of.len())
    };
    let (seen, held) = (count(false), count(true));
    let mut first = format!("{title}   SEEN {}/{} RIGHT", seen.0, seen.1);
    if held.1 > 0 {
        first += &format!("   HELD-OUT {}/{} RIGHT", held.0, held.1);
    }
    draw_text(img, x, y, &first);
    // The second line: a swatch before each colour's meaning.
    let y = y + LINE + PAD;
    let mut at = x;
    for (colour, words) in [
        (RIGHT, "RIGHT"),
        (WRONG, "WRONG"),
        (HELD_OUT, "HELD-OUT TUPLE"),
    ] {
        fill(img, at, y, LINE, LINE, colour);
        at += LINE + TEXT * 3;
        at = draw_text(img, at, y, words) + TEXT * 12;
    }
    draw_text(img, at, y, "Y: TRUE LABEL   P: PREDICTED P(TARGET)");
}

fn draw_cell(img: &mut RgbImage, (x, y): (u32, u32), item: &GridItem) {
    let (w, h) = cell_size();
    let frame = if item.is_right() { RIGHT } else { WRONG };
    fill(img, x, y, w, h, frame);
    fill(
        img,
        x + FRAME,
        y + FRAME,
        w - 2 * FRAME,
        h - 2 * FRAME,
        PAPER,
    );
    let n = item.images.len() as u32;
    let used = n * SIDE + (n - 1) * PAD;
    let mut ix = x + FRAME + PAD + (INNER - used) / 2;
    for pixels in &item.images {
        for (k, &v) in pixels.iter().enumerate() {
            let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            let (px, py) = (k as u32 % 28, k as u32 / 28);
            fill(
                img,
                ix + px * ZOOM,
                y + FRAME + PAD + py * ZOOM,
                ZOOM,
                ZOOM,
                Rgb([g, g, g]),
            );
        }
        ix += SIDE + PAD;
    }
    let text = format!("Y={} P={:.2}", u8::from(item.label), item.p_target);
    draw_text(img, x + FRAME + PAD, y + FRAME + 2 * PAD + SIDE, &text);
    if item.held_out {
        // A triangle whose legs run BAND pixels along the top and the right edge.
        for dy in 0..BAND {
            for dx in 0..BAND - dy {
                img.put_pixel(x + w - 1 - dx, y + dy, HELD_OUT);
            }
        }
    }
}

/// Fills a rectangle, clipped to the picture.
fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, colour: Rgb<u8>) {
    for py in y..(y + h).min(img.height()) {
        for px in x..(x + w).min(img.width()) {
            img.put_pixel(px, py, colour);
        }
    }
}

/// Draws `text` with its top-left corner at `(x, y)`; returns the x just past its last glyph.
fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str) -> u32 {
    let mut at = x;
    for c in text.chars() {
        let rows = glyph(c).unwrap_or([0; 7]);
        for (gy, bits) in rows.iter().enumerate() {
            for gx in 0..5u32 {
                if bits >> (4 - gx) & 1 == 1 {
                    fill(img, at + gx * TEXT, y + gy as u32 * TEXT, TEXT, TEXT, INK);
                }
            }
        }
        at += 6 * TEXT;
    }
    at
}

/// The 5×7 bitmap of `c`: seven rows, top first, the glyph's leftmost pixel in bit 4. Lower
/// case is drawn as upper case; None for a character the set lacks (drawn blank).
pub fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        ' ' => [0; 7],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stroke in the middle of an otherwise black 28×28 image.
    fn digit(shade: f32) -> Vec<f32> {
        (0..784)
            .map(|k| {
                if (10..18).contains(&(k % 28)) {
                    shade
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn item(images: usize, label: bool, p_target: f64, held_out: bool) -> GridItem {
        GridItem {
            images: (0..images).map(|i| digit(0.5 + 0.5 * i as f32)).collect(),
            label,
            p_target,
            held_out,
        }
    }

    /// The middle of the cell's left frame edge.
    fn frame_colour(img: &RgbImage, index: usize) -> Rgb<u8> {
        let (x, y) = cell_origin(index);
        *img.get_pixel(x + 1, y + cell_size().1 / 2)
    }

    /// The pixel just inside the cell's top-right corner.
    fn corner_colour(img: &RgbImage, index: usize) -> Rgb<u8> {
        let (x, y) = cell_origin(index);
        *img.get_pixel(x + cell_size().0 - 3, y + 2)
    }

    #[test]
    fn the_png_is_written_with_mistakes_red_and_held_out_tuples_banded() {
        let dir = std::env::temp_dir().join(format!("dilp-grid-{}", std::process::id()));
        let path = dir.join("pairs.png");
        // Item 5 is a mistake (true label, P below one half); items 6 and 7 are held out,
        // item 7 also a mistake (false label, P at the threshold counts as true).
        let items: Vec<GridItem> = (0..12)
            .map(|k| match k {
                5 => item(2, true, 0.2, false),
                6 => item(2, false, 0.1, true),
                7 => item(2, false, 0.5, true),
                _ => item(2, k % 2 == 0, if k % 2 == 0 { 0.9 } else { 0.05 }, false),
            })
            .collect();
        write_png(&path, "test picture", &items).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), canvas_size(items.len()));
        assert_eq!(
            canvas_size(12).1,
            canvas_size(16).1,
            "12 items take two rows"
        );
        for (k, it) in items.iter().enumerate() {
            let want = if k == 5 || k == 7 { WRONG } else { RIGHT };
            assert_eq!(it.is_right(), want == RIGHT);
            assert_eq!(frame_colour(&back, k), want, "cell {k}'s frame");
            let band = if it.held_out { HELD_OUT } else { want };
            assert_eq!(corner_colour(&back, k), band, "cell {k}'s corner");
        }
        // The images are drawn: the stroke's grey inside cell 0's left image.
        let (x, y) = cell_origin(0);
        let inside = (0..cell_size().0).any(|dx| *back.get_pixel(x + dx, y + 40) == Rgb([128; 3]));
        assert!(inside, "cell 0 shows its left image's stroke");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn one_image_items_are_drawn_and_mixed_items_are_refused() {
        let one = draw("one image", &[item(1, true, 0.7, true)]).unwrap();
        assert_eq!(one.dimensions(), canvas_size(1));
        assert_eq!(
            *one.get_pixel(cell_origin(0).0 + 1, cell_origin(0).1 + 30),
            RIGHT
        );
        let e = draw(
            "mixed",
            &[item(1, true, 0.7, false), item(2, true, 0.7, false)],
        );
        assert!(e.unwrap_err().contains("item 1 has 2 images"));
        let mut bad = item(2, true, 0.9, false);
        bad.images[1].pop();
        assert!(draw("bad", &[bad]).unwrap_err().contains("not 28×28"));
    }

    #[test]
    fn text_is_drawn_with_distinct_glyphs() {
        let chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:=-_/() ";
        let glyphs: Vec<[u8; 7]> = chars.chars().map(|c| glyph(c).unwrap()).collect();
        for (i, a) in glyphs.iter().enumerate() {
            assert!(
                a.iter().all(|row| row >> 5 == 0),
                "{:?} fits 5 wide",
                &chars[i..=i]
            );
            for b in &glyphs[i + 1..] {
                assert_ne!(a, b, "two glyphs alike");
            }
        }
        assert_eq!(glyph('p'), glyph('P'));
        assert!(glyph('é').is_none());
        let mut img = RgbImage::from_pixel(40, 20, PAPER);
        let end = draw_text(&mut img, 1, 1, "1.");
        assert_eq!(end, 1 + 2 * 6 * TEXT);
        let inked = img.pixels().filter(|p| **p == INK).count() as u32;
        // '1' has 10 pixels and '.' 4, each a TEXT × TEXT square.
        assert_eq!(inked, 14 * TEXT * TEXT);
    }
}
