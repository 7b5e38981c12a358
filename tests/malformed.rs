//! The malformed-input corpus: every file under `tests/malformed/` breaks one validation rule of
//! the Datalog parser (`*.dl`, run with `dilp run`) or of the task loader (`*.toml`, run with
//! `dilp clauses`). Each must be refused with a non-zero exit, its own message and its place.
//!
//! The table is written by hand: the message fragment and the place are what a user should
//! read, so they are fixed here rather than computed from the code under test. A place is
//! `FILE:LINE:COL` for the engine's and the task checks' own errors, `line L, column C` for
//! TOML syntax and schema errors, and `[train 1].FIELD:LINE:COL` (within the string) for fact
//! texts inside a task file.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// (file, message fragment, place fragment). A place starting with `:` follows the file name.
#[rustfmt::skip]
const CASES: &[(&str, &str, &str)] = &[
    // ---- Datalog programs: lexer ----
    ("dl_unexpected_char.dl", "unexpected character `&`", ":2:11"),
    ("dl_unicode_arrow.dl", "unexpected character `→`", ":2:6"),
    ("dl_lone_colon.dl", "unexpected character `:`", ":2:6"),
    ("dl_lone_minus.dl", "unexpected character `-`", ":1:3"),
    ("dl_unterminated_string.dl", "unterminated string", ":1:6"),
    // ---- Datalog programs: grammar ----
    ("dl_variable_as_head.dl", "expected a predicate name, found a variable", ":2:1"),
    ("dl_variable_in_body_predicate.dl", "expected a predicate name, found a variable", ":2:9"),
    ("dl_end_of_text.dl", "expected a predicate name, found the end of the text", ":3:1"),
    ("dl_integer_as_predicate.dl", "expected a predicate name (lower-case identifier)", ":1:1"),
    ("dl_empty_body.dl", "expected a predicate name (lower-case identifier)", ":1:9"),
    ("dl_double_period.dl", "expected a predicate name (lower-case identifier)", ":1:6"),
    ("dl_empty_argument.dl", "expected a term (variable or constant)", ":1:5"),
    ("dl_missing_comma_in_args.dl", "expected `,` or `)` in argument list", ":1:5"),
    ("dl_nested_term.dl", "expected `,` or `)` in argument list", ":1:4"),
    ("dl_unclosed_paren.dl", "expected `,` or `)` in argument list", ":2:1"),
    ("dl_missing_comma_in_body.dl", "expected `,` or `.` after a body atom", ":2:14"),
    ("dl_missing_period.dl", "expected `.` or `:-` after an atom", ":2:1"),
    ("dl_comment_hides_period.dl", "expected `.` or `:-` after an atom", ":2:1"),
    // ---- Datalog programs: meaning ----
    ("dl_arity_clash.dl", "`edge` used with arity 3, but it has arity 2", ":2:1"),
    ("dl_arity_clash_rule_then_fact.dl", "`q` used with arity 2, but it has arity 1", ":2:1"),
    ("dl_variable_in_fact.dl", "facts must be ground", ":2:1"),
    ("dl_unsafe_rule.dl", "head variable Y does not occur in the body", ":2:1"),
    ("dl_unsafe_anonymous_head.dl", "does not occur in the body", ":2:1"),
    // ---- Task files: TOML syntax ----
    ("toml_syntax_error.toml", "not a valid task file", "line 8, column 9"),
    ("toml_unterminated_string.toml", "not a valid task file", "line 5, column 19"),
    ("toml_duplicate_key.toml", "duplicate key", "line 9, column 1"),
    ("empty_file.toml", "missing field `name`", "line 1, column 1"),
    ("not_utf8.toml", "byte 19 is not UTF-8 text", ":2:6"),
    // ---- Task files: schema (unknown, missing, mistyped keys) ----
    ("unknown_top_level_key.toml", "unknown field `timeout`", "line 3, column 1"),
    ("unknown_language_key.toml", "unknown field `auxiliary`", "line 7, column 1"),
    ("unknown_template_key.toml", "unknown field `w`", "line 11, column 31"),
    ("unknown_world_key.toml", "unknown field `negatives`", "line 15, column 1"),
    ("unknown_program_key.toml", "unknown field `timeout`", "line 9, column 1"),
    ("unknown_learn_key.toml", "unknown field `rate`", "line 13, column 1"),
    ("missing_name.toml", "missing field `name`", "line 1, column 1"),
    ("missing_language.toml", "missing field `language`", "line 1, column 1"),
    ("missing_program.toml", "missing field `program`", "line 1, column 1"),
    ("missing_steps.toml", "missing field `steps`", "line 7, column 1"),
    ("missing_target.toml", "missing field `target`", "line 3, column 1"),
    ("missing_rules.toml", "missing field `rules`", "line 7, column 1"),
    ("missing_template_int.toml", "missing field `int`", "line 11, column 10"),
    ("wrong_type_steps.toml", "invalid type: string \"six\"", "line 8, column 9"),
    ("negative_v.toml", "invalid value: integer `-1`", "line 11, column 16"),
    ("wrong_type_constant.toml", "did not match any variant", "line 16, column 13"),
    // ---- Task files: [language] declarations ----
    ("decl_without_arity.toml", "is not a predicate declaration `name/arity`", ":4:16"),
    ("decl_arity_not_a_number.toml", "the arity `two` is not a number", ":4:26"),
    ("decl_bad_name.toml", "`Succ` is not a predicate name", ":4:26"),
    ("decl_arity_too_large.toml", "has arity 3; only arities 0, 1 and 2", ":5:10"),
    ("decl_duplicate.toml", "predicate `pred1` is declared more than once", ":6:24"),
    ("decl_duplicate_across_sections.toml", "predicate `succ` is declared more than once", ":6:24"),
    // ---- Task files: [program] ----
    ("rules_undeclared_predicate.toml", "`targ`: not a declared predicate", ":10:1"),
    ("rules_for_extensional.toml", "`succ` is extensional", ":12:1"),
    ("rules_no_templates.toml", "`pred1` has 0 templates; give one or two", ":11:1"),
    ("rules_three_templates.toml", "`pred1` has 3 templates; give one or two", ":11:1"),
    ("rules_v_out_of_range.toml", "v = 4 is out of range (0 to 3)", ":11:10"),
    ("rules_missing_template.toml", "`pred1/1` has no rule template", ":6:13"),
    ("rules_template_allows_no_clause.toml", "allows no clause", ":9:11"),
    ("program_steps_zero.toml", "[program] steps must be at least 1", ":8:9"),
    // ---- Task files: [learn] ----
    ("learn_lr_negative.toml", "[learn] lr must be a positive number, got -0.5", ":13:6"),
    ("learn_lr_nan.toml", "[learn] lr must be a positive number, got NaN", ":13:6"),
    ("learn_init_std_zero.toml", "[learn] init_std must be a positive number", ":13:12"),
    // ---- Task files: worlds ----
    ("no_train_world.toml", "the task has no [[train]] world", "no_train_world.toml:"),
    ("world_without_constants.toml", "[train 1]: the world has no constants", ":12:1"),
    ("world_steps_zero.toml", "[train 1]: steps must be at least 1", ":13:9"),
    ("bad_constant.toml", "`Alice` is not a constant", ":16:14"),
    ("positive_and_negative.toml", "`target(2)` is both a positive and a negative example", "[train 1].negative:1:12"),
    // ---- Task files: fact and example texts ----
    ("fact_syntax_error.toml", "expected `.` after a ground atom", "[train 1].background:1:20"),
    ("fact_is_a_rule.toml", "rules are not allowed here", "[train 1].background:1:42"),
    ("fact_unterminated_string.toml", "unterminated string", "[train 1].background:1:37"),
    ("fact_unknown_predicate.toml", "unknown predicate `sux/2`", "[train 1].background:1:21"),
    ("fact_arity_clash.toml", "`succ` used with arity 1, but it has arity 2", "[train 1].background:1:21"),
    ("fact_variable.toml", "expected a ground atom, found a variable", "[train 1].background:1:21"),
    ("background_uses_target.toml", "background facts may not use the target", "[train 1].background:1:43"),
    ("positive_not_target.toml", "is not an example of the target predicate `target`", "[train 1].positive:1:12"),
    ("negative_unknown_predicate.toml", "unknown predicate `odd/1`", "[train 1].negative:1:12"),
    ("validation_world_error.toml", "expected a ground atom, found a variable", "[validation 1].positive:1:12"),
];

fn corpus_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/malformed"))
}

/// Runs `dilp run` on a program or `dilp clauses` on a task: (exit code, stderr).
fn refuse(file: &str) -> (Option<i32>, String) {
    let path = corpus_dir().join(file);
    let cmd = if file.ends_with(".dl") {
        "run"
    } else {
        "clauses"
    };
    let out = Command::new(env!("CARGO_BIN_EXE_dilp"))
        .arg(cmd)
        .arg(&path)
        .output()
        .expect("run dilp");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_malformed_file_is_refused_with_its_message_and_place() {
    let mut failures = Vec::new();
    for &(file, message, place) in CASES {
        let (code, err) = refuse(file);
        let place = if place.starts_with(':') {
            format!("{file}{place}")
        } else {
            place.to_string()
        };
        let ok = matches!(code, Some(c) if c != 0)
            && !err.contains("panicked")
            && err.contains(file)
            && err.contains(message)
            && err.contains(&place);
        if !ok {
            failures.push(format!(
                "{file}: exit {code:?}, want `{message}` at `{place}`, got:\n{err}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_lists_every_corpus_file_once() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(listed.len(), CASES.len(), "a file is listed twice");
    assert_eq!(on_disk, listed);
    assert!(CASES.len() >= 40);
}

#[test]
fn the_library_reports_the_same_place_as_the_binary() {
    // The located errors come from the library, not from the CLI's formatting.
    for &(file, message, place) in CASES {
        let path = corpus_dir().join(file);
        let err = if file.ends_with(".dl") {
            let text = std::fs::read_to_string(&path).unwrap();
            dilp::datalog::run_source(&text, file, None, None).map(|_| ())
        } else {
            dilp::ilp::load_task(&path).map(|_| ())
        }
        .expect_err(file)
        .to_string();
        assert!(err.contains(message), "{file}: {err}");
        if let Some(lc) = place.strip_prefix(':') {
            let name = if file.ends_with(".dl") {
                file.to_string()
            } else {
                path.display().to_string()
            };
            assert!(err.starts_with(&format!("{name}:{lc}")), "{file}: {err}");
        }
    }
}
