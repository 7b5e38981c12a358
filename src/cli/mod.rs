//! The command line in two stages, as ripgrep does it: clap parses what was typed into plain
//! structs with typed values ([`args`], [`bench_args`], [`mnist_args`]; named choices in
//! [`choice`], ranged numbers in [`values`]), then [`resolve`] and [`resolve_mnist`] merge
//! those flags with task files and `--config` files into the library's configs. `main.rs`
//! only dispatches.

pub mod args;
pub mod bench_args;
pub mod choice;
#[cfg(feature = "torch")]
pub mod mnist_args;
pub mod resolve;
#[cfg(feature = "torch")]
pub mod resolve_mnist;
pub mod values;

pub use args::{Cli, Command};
pub use bench_args::BenchCommand;

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    /// `dilp <command> --help` describes every option and argument.
    #[test]
    fn every_option_has_a_description() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if a.get_help().is_none() && !matches!(id, "help" | "version") {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "dilp", &mut missing);
        assert!(missing.is_empty(), "no help for {missing:?}");
    }
}
