//! The task file's TOML schema as plain structs, before any check: `deny_unknown_fields`, so a
//! misspelt key is an error with the line and column toml reports, and [`Spanned`] wherever a
//! later check may refuse the value and must say where it stands.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTask {
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: String,
    pub(super) language: RawLanguage,
    pub(super) program: RawProgram,
    #[serde(default)]
    pub(super) learn: RawLearn,
    #[serde(default)]
    pub(super) train: Vec<Spanned<RawWorld>>,
    #[serde(default)]
    pub(super) validation: Vec<Spanned<RawWorld>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLanguage {
    pub(super) extensional: Vec<Spanned<String>>,
    pub(super) target: Spanned<String>,
    #[serde(default)]
    pub(super) invented: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProgram {
    pub(super) steps: Spanned<usize>,
    pub(super) rules: BTreeMap<Spanned<String>, Vec<Spanned<RawTemplate>>>,
}

/// `[learn]`: per-task defaults for the learner, used unless the command line says otherwise.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLearn {
    pub(super) lr: Option<Spanned<f64>>,
    pub(super) init_std: Option<Spanned<f64>>,
    pub(super) batch_size: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub(super) v: usize,
    pub(super) int: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorld {
    pub(super) steps: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) background: String,
    #[serde(default)]
    pub(super) positive: String,
    pub(super) negative: Option<String>,
    #[serde(default)]
    pub(super) constants: Vec<Spanned<RawConst>>,
}

/// `constants = [0, 1, "a"]`: numbers and names both read naturally in a task file.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawConst {
    Int(i64),
    Name(String),
}
