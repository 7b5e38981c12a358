//! MNIST from a directory of the four IDX files, checked as they are read.
//!
//! The IDX bytes are parsed here ([`parse_idx`], which never panics and names the byte offset
//! of what is wrong). Each file must exist, have the exact size its IDX header implies, carry
//! the right magic number, counts and image size, and match its published SHA-256 digest (the
//! same digests as `datasets/mnist.sha256`). Anything else is an [`Error::Data`] naming the file and telling the
//! user to run `scripts/setup.sh`; a bad file is never loaded.

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::digest;
use super::torch_err;
use crate::{Error, Result};

/// Where `scripts/setup.sh` puts the files, relative to the repository root.
pub const DEFAULT_DIR: &str = "datasets/mnist";
/// Side of an MNIST image in pixels.
pub const SIDE: i64 = 28;

const FIX: &str = "run scripts/setup.sh to fetch and check MNIST again";

/// One of the four IDX files and what it must look like.
#[derive(Debug, Clone, Copy)]
pub struct IdxFile {
    pub name: &'static str,
    /// Number of images or labels.
    pub count: u32,
    pub images: bool,
    pub sha256: &'static str,
}

impl IdxFile {
    /// Exact size in bytes: the header plus one byte per label or per pixel.
    pub fn expected_len(&self) -> u64 {
        if self.images {
            16 + self.count as u64 * (SIDE * SIDE) as u64
        } else {
            8 + self.count as u64
        }
    }
}

/// The four files, in the order train images, train labels, test images, test labels.
pub const FILES: [IdxFile; 4] = [
    IdxFile {
        name: "train-images-idx3-ubyte",
        count: 60_000,
        images: true,
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    IdxFile {
        name: "train-labels-idx1-ubyte",
        count: 60_000,
        images: false,
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    IdxFile {
        name: "t10k-images-idx3-ubyte",
        count: 10_000,
        images: true,
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    IdxFile {
        name: "t10k-labels-idx1-ubyte",
        count: 10_000,
        images: false,
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

fn data_err(path: &Path, msg: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        msg: format!("{}; {FIX}", msg.into()),
    }
}

/// Why some bytes are not the IDX file expected, and the byte offset where that shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxError {
    pub offset: usize,
    /// Phrased to follow the file's name: "is truncated: ...".
    pub msg: String,
}

impl std::fmt::Display for IdxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.msg, self.offset)
    }
}

/// A parsed IDX file of unsigned bytes: its dimensions and the data after the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx<'a> {
    pub dims: Vec<u32>,
    pub data: &'a [u8],
}

fn idx_err(offset: usize, msg: impl Into<String>) -> IdxError {
    IdxError {
        offset,
        msg: msg.into(),
    }
}

/// Parses IDX bytes: magic `00 00 08 n`, `n` big-endian `u32` dimensions, then exactly their
/// product of data bytes. Never panics; every refusal names the byte where it shows.
pub fn parse_idx(bytes: &[u8]) -> std::result::Result<Idx<'_>, IdxError> {
    if bytes.len() < 4 {
        let msg = format!(
            "is truncated: {} bytes, too short for the 4-byte magic number",
            bytes.len()
        );
        return Err(idx_err(bytes.len(), msg));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(idx_err(
            0,
            "has a magic number that does not start with two zero bytes",
        ));
    }
    if bytes[2] != 0x08 {
        let msg = format!(
            "has data type {:#04x} in its magic number, expected 0x08 (unsigned byte)",
            bytes[2]
        );
        return Err(idx_err(2, msg));
    }
    let ndims = bytes[3] as usize;
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        let msg = format!(
            "is truncated: {} bytes, but its {ndims} dimensions need a {header}-byte header",
            bytes.len()
        );
        return Err(idx_err(bytes.len(), msg));
    }
    let dims: Vec<u32> = bytes[4..header]
        .chunks_exact(4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    let mut want: u64 = 1;
    for (i, &d) in dims.iter().enumerate() {
        want = want
            .checked_mul(d as u64)
            .ok_or_else(|| idx_err(4 + 4 * i, "has dimensions whose product overflows 64 bits"))?;
    }
    let have = (bytes.len() - header) as u64;
    if have != want {
        let (what, offset) = if have < want {
            ("truncated", bytes.len())
        } else {
            // `want < have` fits in usize.
            ("too long", header + want as usize)
        };
        let msg = format!(
            "is {what}: {} bytes, expected {} ({header}-byte header, dimensions {dims:?})",
            bytes.len(),
            header as u64 + want
        );
        return Err(idx_err(offset, msg));
    }
    Ok(Idx {
        dims,
        data: &bytes[header..],
    })
}

/// Parses the bytes of one of the [`FILES`]: the magic number and shape `spec` asks for and,
/// for labels, digits only. Returns the data (pixels or labels).
pub fn parse_idx_file<'a>(
    bytes: &'a [u8],
    spec: &IdxFile,
) -> std::result::Result<&'a [u8], IdxError> {
    let magic: u32 = if spec.images { 0x0803 } else { 0x0801 };
    if let Some(w) = bytes.get(..4) {
        let word = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        if word != magic {
            return Err(idx_err(
                0,
                format!("has magic number {word:#x}, expected {magic:#x}"),
            ));
        }
    }
    let idx = parse_idx(bytes)?;
    let want: Vec<u32> = if spec.images {
        vec![spec.count, SIDE as u32, SIDE as u32]
    } else {
        vec![spec.count]
    };
    if idx.dims != want {
        let msg = format!(
            "has an unexpected header (count or image size): dimensions {:?}, expected {want:?}",
            idx.dims
        );
        return Err(idx_err(4, msg));
    }
    if !spec.images {
        if let Some(i) = idx.data.iter().position(|&d| d > 9) {
            let msg = format!("has label {} that is not a digit", idx.data[i]);
            return Err(idx_err(8 + i, msg));
        }
    }
    Ok(idx.data)
}

/// Reads one IDX file in `dir`: present, well-formed with the shape `spec` says (see
/// [`parse_idx_file`]), then matching its digest; returns its data bytes. The cheap checks
/// come first so that a truncated file gets a precise message without being hashed.
pub fn read_idx(dir: &Path, spec: &IdxFile) -> Result<Vec<u8>> {
    let path = dir.join(spec.name);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(data_err(
                &path,
                format!("MNIST file {} is missing", spec.name),
            ))
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    if !meta.is_file() {
        return Err(data_err(
            &path,
            format!("{} is not a regular file", spec.name),
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let header = match parse_idx_file(&bytes, spec) {
        Ok(data) => bytes.len() - data.len(),
        Err(e) => return Err(data_err(&path, format!("MNIST file {} {e}", spec.name))),
    };
    let digest = digest::hex_digest(&bytes);
    if digest != spec.sha256 {
        return Err(data_err(
            &path,
            format!(
                "MNIST file {} is corrupt: SHA-256 {digest}, expected {}",
                spec.name, spec.sha256
            ),
        ));
    }
    let mut data = bytes;
    data.drain(..header);
    Ok(data)
}

/// Checks one IDX file: existence, size, header, then digest (see [`read_idx`]).
pub fn verify_file(dir: &Path, spec: &IdxFile) -> Result<()> {
    read_idx(dir, spec).map(|_| ())
}

/// Checks all four files in `dir`; the first bad one is the error.
pub fn verify(dir: &Path) -> Result<()> {
    FILES.iter().try_for_each(|f| verify_file(dir, f))
}

/// MNIST as tensors on the CPU, plus the labels as plain bytes for the pair split.
#[derive(Debug)]
pub struct Mnist {
    /// `[N, 1, 28, 28]` float32 in `[0, 1]`.
    pub train_images: Tensor,
    /// `[N]` int64 digits.
    pub train_labels: Tensor,
    pub test_images: Tensor,
    pub test_labels: Tensor,
    /// The same digits as `train_labels`, as bytes.
    pub train_digits: Vec<u8>,
    pub test_digits: Vec<u8>,
}

impl Mnist {
    /// Verifies (see [`read_idx`]) and loads the four files in `dir`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Mnist> {
        let dir = dir.as_ref();
        let read = |i: usize| read_idx(dir, &FILES[i]);
        let (train_pixels, train_digits) = (read(0)?, read(1)?);
        let (test_pixels, test_digits) = (read(2)?, read(3)?);
        Mnist::from_raw(&train_pixels, train_digits, &test_pixels, test_digits)
            .map_err(|e| with_path(e, dir))
    }

    /// Builds the tensors from raw pixel bytes (row-major 28×28 images) and digit labels.
    pub fn from_raw(
        train_pixels: &[u8],
        train_digits: Vec<u8>,
        test_pixels: &[u8],
        test_digits: Vec<u8>,
    ) -> Result<Mnist> {
        for (pixels, digits) in [(train_pixels, &train_digits), (test_pixels, &test_digits)] {
            if pixels.len() != digits.len() * (SIDE * SIDE) as usize {
                return Err(Error::Data {
                    path: PathBuf::new(),
                    msg: format!(
                        "{} pixels do not make {} images of 28x28",
                        pixels.len(),
                        digits.len()
                    ),
                });
            }
            if let Some(d) = digits.iter().find(|&&d| d > 9) {
                return Err(Error::Data {
                    path: PathBuf::new(),
                    msg: format!("label {d} is not a digit"),
                });
            }
        }
        Ok(Mnist {
            train_images: images(train_pixels)?,
            train_labels: labels(&train_digits)?,
            test_images: images(test_pixels)?,
            test_labels: labels(&test_digits)?,
            train_digits,
            test_digits,
        })
    }

    /// The first `n_train` training and `n_test` test examples (clamped to what there is). The
    /// tensors share storage with `self`.
    pub fn subset(&self, n_train: usize, n_test: usize) -> Result<Mnist> {
        let n_train = n_train.min(self.train_digits.len());
        let n_test = n_test.min(self.test_digits.len());
        let cut = |t: &Tensor, n: usize| t.f_narrow(0, 0, n as i64).map_err(torch_err);
        Ok(Mnist {
            train_images: cut(&self.train_images, n_train)?,
            train_labels: cut(&self.train_labels, n_train)?,
            test_images: cut(&self.test_images, n_test)?,
            test_labels: cut(&self.test_labels, n_test)?,
            train_digits: self.train_digits[..n_train].to_vec(),
            test_digits: self.test_digits[..n_test].to_vec(),
        })
    }

    pub fn n_train(&self) -> usize {
        self.train_digits.len()
    }

    pub fn n_test(&self) -> usize {
        self.test_digits.len()
    }
}

fn images(pixels: &[u8]) -> Result<Tensor> {
    let n = (pixels.len() as i64) / (SIDE * SIDE);
    Tensor::f_from_slice(pixels)
        .and_then(|t| t.f_view([n, 1, SIDE, SIDE]))
        .and_then(|t| t.f_to_kind(Kind::Float))
        .and_then(|t| t.f_div_scalar(255.0))
        .map_err(torch_err)
}

fn labels(digits: &[u8]) -> Result<Tensor> {
    Tensor::f_from_slice(digits)
        .and_then(|t| t.f_to_kind(Kind::Int64))
        .map_err(torch_err)
}

fn with_path(e: Error, dir: &Path) -> Error {
    match e {
        Error::Data { path, msg } if path.as_os_str().is_empty() => Error::Data {
            path: dir.to_path_buf(),
            msg,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_checksum_file() {
        let sums = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist.sha256"),
        )
        .unwrap();
        for f in FILES {
            let line = format!("{}  {}", f.sha256, f.name);
            assert!(
                sums.lines().any(|l| l.trim() == line),
                "{line} not in mnist.sha256"
            );
        }
    }

    #[test]
    fn from_raw_checks_lengths_and_digits() {
        let px = vec![0u8; 2 * 784];
        assert!(Mnist::from_raw(&px, vec![1, 2], &px, vec![3, 4]).is_ok());
        assert!(Mnist::from_raw(&px, vec![1], &px, vec![3, 4]).is_err());
        assert!(Mnist::from_raw(&px, vec![1, 12], &px, vec![3, 4]).is_err());
        let m = Mnist::from_raw(&px, vec![1, 2], &px, vec![3, 4]).unwrap();
        assert_eq!(m.train_images.size(), vec![2, 1, 28, 28]);
        assert_eq!(m.subset(1, 5).unwrap().n_test(), 2);
    }
}
