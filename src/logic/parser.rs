//! A hand-written parser for Prolog-style Datalog with located errors.
//!
//! Grammar: `clause := atom ('.' | ':-' atom (',' atom)* '.')`, `atom := name ('(' term (',' term)* ')')?`,
//! `term := Variable | _ | name | integer | "string"`; `%` starts a line comment. Variables start
//! with an upper-case letter or `_`; each bare `_` is a fresh variable.

use super::{Atom, Clause, GroundAtom, PredId, Term, VarId, Vocabulary};
use crate::error::{Error, Location, Result};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lower(String),
    Upper(String),
    Int(String),
    Str(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Implies,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
    text: String,
}

fn snippet(s: &str) -> String {
    let s: String = s.chars().take(40).collect();
    s.replace('\n', " ")
}

fn lex(src: &str, file: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut out = Vec::new();
    let err = |line, col, text: &str, msg: &str| Error::Syntax {
        loc: Location {
            file: file.to_string(),
            line,
            col,
            snippet: snippet(text),
        },
        msg: msg.to_string(),
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            col += 1;
            continue;
        }
        if c == '%' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let (start, sline, scol) = (i, line, col);
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '.' => {
                i += 1;
                Tok::Dot
            }
            ':' if chars.get(i + 1) == Some(&'-') => {
                i += 2;
                Tok::Implies
            }
            '"' => {
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    match chars[i] {
                        '\\' if i + 1 < chars.len() && chars[i + 1] != '\n' => i += 2,
                        '"' => {
                            i += 1;
                            closed = true;
                            break;
                        }
                        '\n' => break,
                        _ => i += 1,
                    }
                }
                if !closed {
                    let text: String = chars[start..i].iter().collect();
                    return Err(err(sline, scol, &text, "unterminated string"));
                }
                Tok::Str(chars[start..i].iter().collect())
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Int(chars[start..i].iter().collect())
            }
            c if c.is_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if c.is_uppercase() || c == '_' {
                    Tok::Upper(word)
                } else {
                    Tok::Lower(word)
                }
            }
            _ => {
                let text: String = chars[i..chars.len().min(i + 20)].iter().collect();
                return Err(err(
                    line,
                    col,
                    &text,
                    &format!("unexpected character `{c}`"),
                ));
            }
        };
        col += i - start;
        out.push(Token {
            tok,
            line: sline,
            col: scol,
            text: chars[start..i].iter().collect(),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        col,
        text: String::new(),
    });
    Ok(out)
}

/// Parses texts into one shared vocabulary, so that several texts (a task's worlds) agree on ids.
pub struct Parser<'v> {
    vocab: &'v mut Vocabulary,
    file: String,
}

struct Cursor<'t> {
    toks: &'t [Token],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }
    fn next(&mut self) -> &Token {
        let t = &self.toks[self.pos];
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
}

/// Variable names seen so far in one clause.
#[derive(Default)]
struct Vars {
    names: Vec<String>,
}
impl Vars {
    fn get(&mut self, name: &str) -> VarId {
        if name != "_" {
            if let Some(i) = self.names.iter().position(|n| n == name) {
                return VarId(i as u32);
            }
        }
        self.names.push(if name == "_" {
            format!("_G{}", self.names.len())
        } else {
            name.to_string()
        });
        VarId(self.names.len() as u32 - 1)
    }
}

impl<'v> Parser<'v> {
    pub fn new(vocab: &'v mut Vocabulary, file: impl Into<String>) -> Self {
        Parser {
            vocab,
            file: file.into(),
        }
    }

    fn loc(&self, t: &Token) -> Location {
        Location {
            file: self.file.clone(),
            line: t.line,
            col: t.col,
            snippet: snippet(&t.text),
        }
    }
    fn syntax(&self, t: &Token, msg: impl Into<String>) -> Error {
        Error::Syntax {
            loc: self.loc(t),
            msg: msg.into(),
        }
    }

    fn atom(&mut self, cur: &mut Cursor, vars: &mut Vars) -> Result<(Atom, Token)> {
        let name_tok = cur.next().clone();
        let name = match &name_tok.tok {
            Tok::Lower(n) => n.clone(),
            Tok::Upper(_) => {
                return Err(self.syntax(&name_tok, "expected a predicate name, found a variable"))
            }
            Tok::Eof => {
                return Err(self.syntax(
                    &name_tok,
                    "expected a predicate name, found the end of the text",
                ))
            }
            _ => {
                return Err(self.syntax(
                    &name_tok,
                    "expected a predicate name (lower-case identifier)",
                ))
            }
        };
        let mut args = Vec::new();
        if cur.peek().tok == Tok::LParen {
            cur.next();
            if cur.peek().tok != Tok::RParen {
                loop {
                    let t = cur.next().clone();
                    let term = match &t.tok {
                        Tok::Upper(v) => Term::Var(vars.get(v)),
                        Tok::Lower(c) | Tok::Int(c) | Tok::Str(c) => {
                            Term::Const(self.vocab.intern_const(c))
                        }
                        _ => return Err(self.syntax(&t, "expected a term (variable or constant)")),
                    };
                    args.push(term);
                    let sep = cur.next().clone();
                    match sep.tok {
                        Tok::Comma => continue,
                        Tok::RParen => break,
                        _ => return Err(self.syntax(&sep, "expected `,` or `)` in argument list")),
                    }
                }
            } else {
                cur.next();
            }
        }
        let pred = self.pred(&name, args.len(), &name_tok)?;
        Ok((Atom { pred, args }, name_tok))
    }

    fn pred(&mut self, name: &str, arity: usize, at: &Token) -> Result<PredId> {
        self.vocab.intern_pred(name, arity).map_err(|known| Error::Semantic {
            loc: self.loc(at),
            msg: format!("predicate `{name}` used with arity {arity}, but it has arity {known} elsewhere"),
        })
    }

    /// Parses a whole text of facts and rules, appending to `facts` and `rules`.
    pub fn parse_into(
        &mut self,
        src: &str,
        facts: &mut Vec<GroundAtom>,
        rules: &mut Vec<Clause>,
    ) -> Result<()> {
        let toks = lex(src, &self.file)?;
        let mut cur = Cursor {
            toks: &toks,
            pos: 0,
        };
        while cur.peek().tok != Tok::Eof {
            let mut vars = Vars::default();
            let (head, head_tok) = self.atom(&mut cur, &mut vars)?;
            let t = cur.next().clone();
            match t.tok {
                Tok::Dot => match head.to_ground() {
                    Some(g) => facts.push(g),
                    None => {
                        return Err(Error::Semantic {
                            loc: self.loc(&head_tok),
                            msg: format!(
                                "fact `{}` contains a variable; facts must be ground",
                                head.display(self.vocab, &vars.names)
                            ),
                        })
                    }
                },
                Tok::Implies => {
                    let mut body = Vec::new();
                    loop {
                        let (b, _) = self.atom(&mut cur, &mut vars)?;
                        body.push(b);
                        let sep = cur.next().clone();
                        match sep.tok {
                            Tok::Comma => continue,
                            Tok::Dot => break,
                            _ => {
                                return Err(
                                    self.syntax(&sep, "expected `,` or `.` after a body atom")
                                )
                            }
                        }
                    }
                    let clause = Clause {
                        head,
                        body,
                        var_names: vars.names,
                    };
                    if !clause.is_safe() {
                        let missing: Vec<&str> = clause
                            .head
                            .vars()
                            .filter(|v| !clause.body.iter().any(|b| b.vars().any(|w| w == *v)))
                            .map(|v| clause.var_names[v.index()].as_str())
                            .collect();
                        return Err(Error::Semantic {
                            loc: self.loc(&head_tok),
                            msg: format!(
                                "unsafe rule `{}`: head variable {} does not occur in the body",
                                clause.display(self.vocab),
                                missing.join(", ")
                            ),
                        });
                    }
                    rules.push(clause);
                }
                _ => return Err(self.syntax(&t, "expected `.` or `:-` after an atom")),
            }
        }
        Ok(())
    }

    /// Parses a list of ground atoms (`a(1). b(2,3).`); rules and variables are errors.
    pub fn ground_atoms(&mut self, src: &str) -> Result<Vec<(GroundAtom, Location)>> {
        let toks = lex(src, &self.file)?;
        let mut cur = Cursor {
            toks: &toks,
            pos: 0,
        };
        let mut out = Vec::new();
        while cur.peek().tok != Tok::Eof {
            let mut vars = Vars::default();
            let (atom, at) = self.atom(&mut cur, &mut vars)?;
            let t = cur.next().clone();
            if t.tok != Tok::Dot {
                return Err(self.syntax(
                    &t,
                    "expected `.` after a ground atom (rules are not allowed here)",
                ));
            }
            match atom.to_ground() {
                Some(g) => out.push((g, self.loc(&at))),
                None => {
                    return Err(Error::Semantic {
                        loc: self.loc(&at),
                        msg: "expected a ground atom, found a variable".into(),
                    })
                }
            }
        }
        Ok(out)
    }

    /// Parses one atom, optionally followed by a period (a query such as `path(a,X)`).
    pub fn query(&mut self, src: &str) -> Result<(Atom, Vec<String>)> {
        let toks = lex(src, &self.file)?;
        let mut cur = Cursor {
            toks: &toks,
            pos: 0,
        };
        let mut vars = Vars::default();
        let (atom, _) = self.atom(&mut cur, &mut vars)?;
        if cur.peek().tok == Tok::Dot {
            cur.next();
        }
        let t = cur.peek().clone();
        if t.tok != Tok::Eof {
            return Err(self.syntax(&t, "unexpected text after the query atom"));
        }
        Ok((atom, vars.names))
    }
}

/// Parses a complete program with a fresh vocabulary. `file` names the source in errors.
pub fn parse_program(src: &str, file: &str) -> Result<super::Program> {
    let mut prog = super::Program::default();
    let mut facts = Vec::new();
    let mut rules = Vec::new();
    Parser::new(&mut prog.vocab, file).parse_into(src, &mut facts, &mut rules)?;
    prog.facts = facts;
    prog.rules = rules;
    Ok(prog)
}

/// Parses a query atom against an existing vocabulary (new names are interned).
pub fn parse_atom(src: &str, vocab: &mut Vocabulary, file: &str) -> Result<(Atom, Vec<String>)> {
    Parser::new(vocab, file).query(src)
}

/// Parses ground atoms against an existing vocabulary.
pub fn parse_ground_atoms(
    src: &str,
    vocab: &mut Vocabulary,
    file: &str,
) -> Result<Vec<(GroundAtom, Location)>> {
    Parser::new(vocab, file).ground_atoms(src)
}
