//! The task behind `dilp bench memory`: an uncle-like family with `n` people, in the paper's
//! illustration of its memory wall (App. E): three extensional relations, `target/2` with
//! templates (1, F) × (1, T) and an invented `pred1/2` with (0, F) × (0, F), T = 10.

/// People `p0..p{n-1}` in a binary family tree: the parents of `pk` (k ≥ 1) are `p((k-1)/2)`
/// (father when that index is even, mother when odd); children of one parent are brothers
/// when the elder's index is odd (a crude but deterministic sex assignment).
pub fn task_text(n: usize) -> String {
    let n = n.max(4);
    let parent = |k: usize| (k - 1) / 2;
    let mut bg = String::new();
    for k in 1..n {
        let p = parent(k);
        let rel = if p % 2 == 0 { "father" } else { "mother" };
        bg.push_str(&format!("{rel}(p{p},p{k}). "));
    }
    let male = |k: usize| k % 2 == 1 || k == 0;
    let mut brothers = vec![];
    for a in 1..n {
        for b in 1..n {
            if a != b && parent(a) == parent(b) && male(a) {
                brothers.push((a, b));
                bg.push_str(&format!("brother(p{a},p{b}). "));
            }
        }
    }
    let mut pos = String::new();
    for &(x, z) in &brothers {
        for y in 1..n {
            if parent(y) == z {
                pos.push_str(&format!("target(p{x},p{y}). "));
            }
        }
    }
    format!(
        "name = \"uncle_like_{n}\"\n\
         description = \"memory benchmark: an uncle-like family task with {n} people\"\n\
         [language]\n\
         extensional = [\"father/2\", \"mother/2\", \"brother/2\"]\n\
         target = \"target/2\"\n\
         invented = [\"pred1/2\"]\n\
         [program]\n\
         steps = 10\n\
         [program.rules]\n\
         target = [{{ v = 1, int = false }}, {{ v = 1, int = true }}]\n\
         pred1 = [{{ v = 0, int = false }}, {{ v = 0, int = false }}]\n\
         [[train]]\n\
         background = \"{bg}\"\n\
         positive = \"{pos}\"\n"
    )
}
