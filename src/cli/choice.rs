//! The command line's named choices (`--loss`, `--select`, `--engine`, …) as `clap::ValueEnum`s.
//!
//! The library's enums cannot implement clap's traits: the binary is a crate of its own, so
//! the orphan rule forbids it, and the library must not depend on clap anyway. Each choice is
//! therefore mirrored here, with its values' help shown by `--help` and a `From` conversion
//! into the library's type. A test holds every name here to the library's own `FromStr`.
//!
//! An unknown value is refused by clap at parse time with the library's wording, e.g.
//! "invalid value 'hinge' for '--loss <LOSS>': unknown loss `hinge` (bce, mae)".

use clap::builder::{PossibleValue, TypedValueParser};
use clap::ValueEnum;
use std::ffi::OsStr;
use std::marker::PhantomData;

/// A choice's noun in the "unknown … `x`" message.
pub trait Choice: ValueEnum + Clone + Send + Sync + 'static {
    const NOUN: &'static str;

    /// The parser to name in `#[arg(value_parser = Loss::parser())]`. Clap's derive would
    /// otherwise pick its own `ValueEnum` parser, whose message lacks the library's wording.
    fn parser() -> ChoiceParser<Self> {
        ChoiceParser(PhantomData)
    }
}

/// Parses a [`Choice`] by its names and aliases, and lists them in `--help`.
#[derive(Clone)]
pub struct ChoiceParser<E>(PhantomData<E>);

impl<E: Choice> TypedValueParser for ChoiceParser<E> {
    type Value = E;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<E, clap::Error> {
        // A closure parser makes clap's own "invalid value … for '--flag'" error around ours.
        let lookup = |s: &str| {
            E::from_str(s, false).map_err(|_| {
                let names: Vec<String> = E::value_variants()
                    .iter()
                    .filter_map(|v| v.to_possible_value())
                    .map(|p| p.get_name().to_owned())
                    .collect();
                format!("unknown {} `{s}` ({})", E::NOUN, names.join(", "))
            })
        };
        lookup.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            E::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

macro_rules! choice {
    ($ty:ident, $noun:literal) => {
        impl Choice for $ty {
            const NOUN: &'static str = $noun;
        }
    };
}

/// `dilp run --engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Naive evaluation of the whole program, then filtering.
    Naive,
    /// Semi-naive evaluation of the whole program, then filtering.
    #[value(alias = "seminaive")]
    SemiNaive,
    /// Magic-sets rewriting for the query's bound arguments, then semi-naive evaluation.
    Magic,
}
choice!(Engine, "engine");

impl From<Engine> for dilp::datalog::Engine {
    fn from(e: Engine) -> Self {
        match e {
            Engine::Naive => Self::Naive,
            Engine::SemiNaive => Self::SemiNaive,
            Engine::Magic => Self::Magic,
        }
    }
}

/// `--tnorm`: the fuzzy conjunction of a clause's two body atoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TNorm {
    /// x·y (the paper's).
    Product,
    /// min(x, y).
    #[value(alias = "goedel", alias = "min")]
    Godel,
    /// max(0, x + y − 1).
    Lukasiewicz,
}
choice!(TNorm, "t-norm");

/// `--amalgamation`: how one step's conclusions merge into the valuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Amalgamation {
    /// a + b − a·b (the paper's).
    #[value(alias = "probsum")]
    ProbSum,
    /// max(a, b) (the paper's ablation).
    Max,
}
choice!(Amalgamation, "amalgamation");

/// `--optimizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Optimizer {
    /// TensorFlow 1's RMSProp, which the paper used.
    Rmsprop,
    /// Adam (β = 0.9, 0.999).
    Adam,
}
choice!(Optimizer, "optimizer");

/// `--early-stop`: when a seed stops before the last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EarlyStop {
    /// Every seed trains for every step (the paper's protocol).
    Off,
    /// Once every training example is within --tolerance of its label.
    Fit,
    /// Once it fits and meets the validation criterion: stopping cannot lower the success rate.
    Solved,
}
choice!(EarlyStop, "early stop");

/// `--backend`: which implementation trains the rule weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The sparse CPU kernel on the CPU with the product t-norm, LibTorch otherwise.
    Auto,
    /// The sparse CPU kernel (product t-norm only).
    #[value(alias = "cpu-kernel")]
    Native,
    /// LibTorch tensors and autograd, on any device.
    Torch,
}
choice!(Backend, "backend");

/// `--loss`: the training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Loss {
    /// Binary cross-entropy (the paper's).
    Bce,
    /// Mean absolute error, tolerant of mislabelled examples.
    Mae,
}
choice!(Loss, "loss");

/// `--select`: which seed a run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Select {
    /// Fewest training errors of its program run by the engine, then lowest training loss.
    Crisp,
    /// Lowest training loss (the paper's rule).
    Loss,
}
choice!(Select, "selection");

/// `--logit-noise-kind`: the distribution of the noise on the clause-pair logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoiseKind {
    /// Standard normal.
    Gaussian,
    /// Standard Gumbel (HRI's choice).
    Gumbel,
}
choice!(NoiseKind, "noise kind");

/// `--vision`: how the conv-net takes part in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Vision {
    /// Pretrained and frozen (the paper's set-up).
    Frozen,
    /// Pretrained, then trained further by the rule loss.
    Finetune,
    /// Randomly initialised and trained only through the rules: no digit label, but its default
    /// symbolic warm-up is given the seen digit pairs' labelled worlds.
    Scratch,
    /// Randomly initialised; rule and digits learned together from the pair labels alone (no
    /// symbolic table of digit pairs): clusters, abduction, then training through the rule.
    Joint,
}
choice!(Vision, "vision mode");

/// `--semantics`: how the digit distributions enter the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Semantics {
    /// As fuzzy truth values (the paper's).
    Fuzzy,
    /// Each image shows one digit: the expectation over the 100 digit pairs' worlds.
    Worlds,
}
choice!(Semantics, "image semantics");

mod learner {
    use super::*;
    use dilp::dilp::learn as l;

    impl From<TNorm> for dilp::dilp::TNorm {
        fn from(t: TNorm) -> Self {
            match t {
                TNorm::Product => Self::Product,
                TNorm::Godel => Self::Godel,
                TNorm::Lukasiewicz => Self::Lukasiewicz,
            }
        }
    }

    impl From<Amalgamation> for dilp::dilp::Amalgamation {
        fn from(a: Amalgamation) -> Self {
            match a {
                Amalgamation::ProbSum => Self::ProbSum,
                Amalgamation::Max => Self::Max,
            }
        }
    }

    impl From<Optimizer> for l::Optimizer {
        fn from(o: Optimizer) -> Self {
            match o {
                Optimizer::Rmsprop => Self::Rmsprop,
                Optimizer::Adam => Self::Adam,
            }
        }
    }

    impl From<EarlyStop> for l::EarlyStop {
        fn from(e: EarlyStop) -> Self {
            match e {
                EarlyStop::Off => Self::Off,
                EarlyStop::Fit => Self::Fit,
                EarlyStop::Solved => Self::Solved,
            }
        }
    }

    impl From<Backend> for dilp::dilp::Backend {
        fn from(b: Backend) -> Self {
            match b {
                Backend::Auto => Self::Auto,
                Backend::Native => Self::Native,
                Backend::Torch => Self::Torch,
            }
        }
    }

    impl From<Loss> for dilp::dilp::Loss {
        fn from(l: Loss) -> Self {
            match l {
                Loss::Bce => Self::Bce,
                Loss::Mae => Self::Mae,
            }
        }
    }

    impl From<NoiseKind> for dilp::dilp::NoiseKind {
        fn from(n: NoiseKind) -> Self {
            match n {
                NoiseKind::Gaussian => Self::Gaussian,
                NoiseKind::Gumbel => Self::Gumbel,
            }
        }
    }

    impl From<Select> for dilp::dilp::Selection {
        fn from(s: Select) -> Self {
            match s {
                Select::Crisp => Self::Crisp,
                Select::Loss => Self::Loss,
            }
        }
    }
}

#[cfg(feature = "torch")]
impl From<Vision> for dilp::neuro::VisionMode {
    fn from(v: Vision) -> Self {
        match v {
            Vision::Frozen => Self::Frozen,
            Vision::Finetune => Self::Finetune,
            Vision::Scratch => Self::Scratch,
            Vision::Joint => Self::Joint,
        }
    }
}

#[cfg(feature = "torch")]
impl From<Semantics> for dilp::neuro::ImageSemantics {
    fn from(s: Semantics) -> Self {
        match s {
            Semantics::Fuzzy => Self::Fuzzy,
            Semantics::Worlds => Self::Worlds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Debug;
    use std::str::FromStr;

    /// Every name and alias of `E` parses, with the library's own `FromStr`, to the library
    /// value its `From` conversion gives: the mirror cannot drift from the library.
    fn agrees<E, L>()
    where
        E: Choice + Copy + Into<L>,
        L: FromStr + PartialEq + Debug,
        L::Err: Debug,
    {
        for v in E::value_variants() {
            let p = v.to_possible_value().unwrap();
            for name in p.get_name_and_aliases() {
                assert_eq!(L::from_str(name).unwrap(), (*v).into(), "{name}");
            }
        }
    }

    #[test]
    fn every_name_means_what_the_library_says() {
        agrees::<Engine, dilp::datalog::Engine>();
        #[cfg(feature = "torch")]
        {
            agrees::<TNorm, dilp::dilp::TNorm>();
            agrees::<Amalgamation, dilp::dilp::Amalgamation>();
            agrees::<EarlyStop, dilp::dilp::learn::EarlyStop>();
            agrees::<Backend, dilp::dilp::Backend>();
            agrees::<Loss, dilp::dilp::Loss>();
            agrees::<Select, dilp::dilp::Selection>();
            agrees::<Vision, dilp::neuro::VisionMode>();
            agrees::<Semantics, dilp::neuro::ImageSemantics>();
            // The library's optimiser has no `FromStr`; its serde names are the config's.
            for v in Optimizer::value_variants() {
                let name = v.to_possible_value().unwrap().get_name().to_owned();
                let lib: dilp::dilp::learn::Optimizer =
                    serde_json::from_value(serde_json::Value::String(name)).unwrap();
                assert_eq!(lib, (*v).into());
            }
        }
    }

    #[test]
    fn an_unknown_name_is_refused_in_the_library_s_words() {
        use clap::Parser;
        #[derive(Parser, Debug)]
        struct T {
            #[arg(long, value_parser = Loss::parser())]
            loss: Loss,
        }
        let e = T::try_parse_from(["t", "--loss", "hinge"]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("unknown loss `hinge` (bce, mae)"), "{msg}");
        assert!(msg.contains("--loss"), "{msg}");
        let ok = T::try_parse_from(["t", "--loss", "mae"]).unwrap();
        assert_eq!(ok.loss, Loss::Mae);
    }
}
