//! The paper's published figures (Evans & Grefenstette 2018), to print beside ours.

/// Table 3: % of 200 runs with validation MSE < 1e-4, by task file stem.
pub const TABLE3: [(&str, f64); 20] = [
    ("predecessor", 100.0),
    ("even_odd", 100.0),
    ("even_succ2", 48.5),
    ("less_than", 100.0),
    ("fizz", 10.0),
    ("buzz", 14.0),
    ("member", 100.0),
    ("length", 92.5),
    ("son", 100.0),
    ("grandparent", 96.5),
    ("husband", 100.0),
    ("uncle", 70.0),
    ("relatedness", 100.0),
    ("father", 100.0),
    ("undirected_edge", 100.0),
    ("adjacent_to_red", 50.5),
    ("two_children", 95.0),
    ("graph_colouring", 94.5),
    ("connectedness", 100.0),
    ("cyclic", 100.0),
];

pub fn table3(task: &str) -> Option<f64> {
    TABLE3.iter().find(|(t, _)| *t == task).map(|(_, v)| *v)
}

/// Table 4's proportions of mislabelled training examples.
pub const NOISE_RHO: [f64; 13] = [
    0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
];

/// Table 4: mean squared test error of ∂ILP against ρ, by task file stem.
pub const TABLE4: [(&str, [f64; 13]); 6] = [
    (
        "predecessor",
        [
            0.0, 0.0, 0.0, 0.007, 0.117, 0.279, 0.425, 0.629, 0.686, 0.695, 0.705, 0.715, 0.727,
        ],
    ),
    (
        "less_than",
        [
            0.0, 0.0, 0.0, 0.006, 0.005, 0.064, 0.071, 0.276, 0.486, 0.616, 0.761, 0.788, 0.753,
        ],
    ),
    (
        "member",
        [
            0.0, 0.0, 0.0, 0.002, 0.013, 0.029, 0.034, 0.127, 0.174, 0.199, 0.202, 0.203, 0.182,
        ],
    ),
    (
        "son",
        [
            0.0, 0.0, 0.065, 0.171, 0.171, 0.328, 0.400, 0.455, 0.483, 0.480, 0.503, 0.507, 0.504,
        ],
    ),
    (
        "connectedness",
        [
            0.0, 0.0, 0.005, 0.030, 0.079, 0.161, 0.250, 0.326, 0.483, 0.648, 0.686, 0.793, 0.833,
        ],
    ),
    (
        "undirected_edge",
        [
            0.0, 0.0, 0.0, 0.005, 0.007, 0.032, 0.032, 0.134, 0.302, 0.369, 0.469, 0.474, 0.499,
        ],
    ),
];

pub fn table4(task: &str, rho: f64) -> Option<f64> {
    let i = NOISE_RHO.iter().position(|r| (r - rho).abs() < 1e-9)?;
    TABLE4.iter().find(|(t, _)| *t == task).map(|(_, v)| v[i])
}
