//! Bounded fuzzing of the two readers that live behind the `torch` feature: the run settings
//! that `dilp mnist train --config FILE.json` reads, and the IDX bytes of MNIST.
//!
//! Inputs are arbitrary bytes and random edits of valid inputs (a default `config.json`, small
//! well-formed IDX files). The properties: nothing panics; a refused config names its line and
//! column; a refused IDX file names a byte offset inside the file. Small case counts keep the
//! file to a few seconds (`DILP_FUZZ_CASES` raises them for a longer hunt).
#![cfg(feature = "torch")]

use dilp::experiment::mnist::MnistRunConfig;
use dilp::vision::mnist::{parse_idx, parse_idx_file, IdxFile};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    let cases = std::env::var("DILP_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Config {
        cases,
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One edit of a valid input; positions are taken modulo the current length.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn edit(fragments: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Set(p, b)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>())
            .prop_map(move |(p, f)| Edit::Insert(p, fragments[f % fragments.len()].into())),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<usize>(), 1usize..24).prop_map(|(p, n)| Edit::Delete(p, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let len = bytes.len();
        let at = |p: usize| p % (len + 1);
        match e {
            Edit::Flip(p, b) if len > 0 => bytes[p % len] ^= 1 << b,
            Edit::Set(p, v) if len > 0 => bytes[p % len] = *v,
            Edit::Truncate(p) => bytes.truncate(at(*p)),
            Edit::Insert(p, b) => {
                let i = at(*p);
                bytes.splice(i..i, b.iter().copied());
            }
            Edit::Delete(p, n) => {
                let i = at(*p);
                bytes.drain(i..(i + n).min(len));
            }
            _ => {}
        }
    }
}

// ---- `--config` JSON ----

/// JSON fragments at the deserialiser's decision points: delimiters, literals of every type,
/// out-of-range and negative numbers, unknown keys and enum names.
const JSON_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "null",
    "true",
    "-1",
    "1e999",
    "-0",
    "NaN",
    "18446744073709551616",
    "0.0",
    "1e-320",
    "\"held_out\": 2,",
    "\"seed\": -5,",
    "\"nope\": 1,",
    "\"vision\": \"blurry\",",
    "\"semantics\": 3,",
    "\"pairs\": 0,",
    "\u{feff}",
    "\u{0}",
];

/// The settings a file could hold: refused with the JSON's line and column, or accepted and
/// then either valid or refused by `validate` (which names the setting), never a panic.
fn check_config(text: &str) {
    match serde_json::from_str::<MnistRunConfig>(text) {
        Ok(cfg) => {
            if let Err(e) = cfg.validate() {
                assert!(e.to_string().contains("run settings"), "{e}");
            }
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(
                e.line() >= 1 && e.line() <= lines,
                "line {} outside the text ({lines} lines): {e}",
                e.line()
            );
            assert!(e.to_string().contains("line"), "unlocated: {e}");
        }
    }
}

fn default_config_json() -> Vec<u8> {
    serde_json::to_string_pretty(&MnistRunConfig::default())
        .unwrap()
        .into_bytes()
}

// ---- IDX ----

/// A well-formed IDX file of unsigned bytes with these dimensions; data bytes are `i mod 10`.
fn idx_bytes(dims: &[u32]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    let n: usize = dims.iter().map(|&d| d as usize).product();
    out.extend((0..n).map(|i| (i % 10) as u8));
    out
}

const IMAGES: IdxFile = IdxFile {
    name: "tiny-images",
    count: 3,
    images: true,
    sha256: "",
};
const LABELS: IdxFile = IdxFile {
    name: "tiny-labels",
    count: 5,
    images: false,
    sha256: "",
};

/// Parsed to exactly the data its dimensions promise, or refused at a byte inside the input.
fn check_idx(bytes: &[u8]) {
    match parse_idx(bytes) {
        Ok(idx) => {
            let n: u64 = idx.dims.iter().map(|&d| d as u64).product();
            assert_eq!(idx.data.len() as u64, n);
            assert_eq!(idx.data.len() + 4 + 4 * idx.dims.len(), bytes.len());
        }
        Err(e) => assert!(e.offset <= bytes.len(), "{e} in {} bytes", bytes.len()),
    }
    for spec in [IMAGES, LABELS] {
        match parse_idx_file(bytes, &spec) {
            Ok(data) => {
                let per = if spec.images { 28 * 28 } else { 1 };
                assert_eq!(data.len(), spec.count as usize * per);
            }
            Err(e) => assert!(e.offset <= bytes.len(), "{e} in {} bytes", bytes.len()),
        }
    }
}

const IDX_FRAGMENTS: &[&str] = &[
    "\0\0\x08\x01",
    "\0\0\x08\x03",
    "\x7f\x7f\x7f\x7f",
    "\0\0\0\0",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_crash_the_config_reader(
        bytes in prop::collection::vec(any::<u8>(), 0..300)
    ) {
        check_config(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn edited_default_configs_are_read_or_refused_with_a_place(
        edits in prop::collection::vec(edit(JSON_FRAGMENTS), 1..5)
    ) {
        let mut bytes = default_config_json();
        apply(&mut bytes, &edits);
        check_config(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bytes_never_crash_the_idx_reader(
        bytes in prop::collection::vec(any::<u8>(), 0..64)
    ) {
        check_idx(&bytes);
    }

    #[test]
    fn edited_idx_files_are_read_or_refused_at_a_byte(
        which in 0usize..4,
        edits in prop::collection::vec(edit(IDX_FRAGMENTS), 1..4),
    ) {
        let mut bytes = match which {
            0 => idx_bytes(&[3, 28, 28]),
            1 => idx_bytes(&[5]),
            2 => idx_bytes(&[2, 3, 4]),
            _ => idx_bytes(&[]),
        };
        apply(&mut bytes, &edits);
        check_idx(&bytes);
    }
}

#[test]
fn the_unedited_inputs_are_valid() {
    let cfg: MnistRunConfig = serde_json::from_slice(&default_config_json()).unwrap();
    cfg.validate().unwrap();
    assert_eq!(
        parse_idx_file(&idx_bytes(&[3, 28, 28]), &IMAGES)
            .unwrap()
            .len(),
        3 * 784
    );
    assert_eq!(
        parse_idx_file(&idx_bytes(&[5]), &LABELS).unwrap(),
        [0, 1, 2, 3, 4]
    );
}

#[test]
fn each_idx_defect_is_named_at_its_byte() {
    let good = idx_bytes(&[5]);
    let with = |i: usize, v: u8| {
        let mut b = good.clone();
        b[i] = v;
        b
    };
    let mut huge = vec![0, 0, 0x08, 3];
    for _ in 0..3 {
        huge.extend(u32::MAX.to_be_bytes());
    }
    // (bytes, spec, message fragment, offset), written by hand from the IDX layout.
    let cases: Vec<(Vec<u8>, IdxFile, &str, usize)> = vec![
        (
            vec![0, 0],
            LABELS,
            "too short for the 4-byte magic number",
            2,
        ),
        (
            with(0, 1),
            LABELS,
            "magic number 0x1000801, expected 0x801",
            0,
        ),
        (with(1, 1), LABELS, "magic number 0x10801", 0),
        (with(3, 3), LABELS, "magic number 0x803, expected 0x801", 0),
        (
            good.clone(),
            IMAGES,
            "magic number 0x801, expected 0x803",
            0,
        ),
        (good[..6].to_vec(), LABELS, "need a 8-byte header", 6),
        (
            good[..good.len() - 1].to_vec(),
            LABELS,
            "is truncated: 12 bytes, expected 13",
            12,
        ),
        (
            [&good[..], &[7, 7]].concat(),
            LABELS,
            "is too long: 15 bytes, expected 13",
            13,
        ),
        (
            idx_bytes(&[4]),
            LABELS,
            "unexpected header (count or image size)",
            4,
        ),
        (with(10, 12), LABELS, "label 12 that is not a digit", 10),
    ];
    for (bytes, spec, msg, offset) in cases {
        let e = parse_idx_file(&bytes, &spec).unwrap_err();
        assert!(e.msg.contains(msg), "want `{msg}`, got `{e}`");
        assert_eq!(e.offset, offset, "{e}");
        assert!(e.to_string().contains(&format!("at byte {offset}")), "{e}");
    }
    // The generic reader's own checks, below any spec.
    let e = parse_idx(&with(2, 0x0d)).unwrap_err();
    assert!(e.msg.contains("data type 0x0d") && e.offset == 2, "{e}");
    let e = parse_idx(&with(0, 1)).unwrap_err();
    assert!(e.msg.contains("two zero bytes") && e.offset == 0, "{e}");
    let e = parse_idx(&huge).unwrap_err();
    assert!(e.msg.contains("overflows") && e.offset == 12, "{e}");
}
