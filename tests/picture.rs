//! A run's picture (`pairs.png`): written by every run, decodable, of the grid's size, each
//! cell framed right or wrong and the held-out items' cells banded. Needs MNIST
//! (`scripts/setup.sh`).
#![cfg(feature = "torch")]

use dilp::experiment::mnist::picture::{chosen, ITEMS};
use dilp::experiment::mnist::run_one;
use dilp::report::pair_grid::{canvas_size, cell_origin, cell_size, HELD_OUT, RIGHT, WRONG};
use dilp::vision::{PairSpec, PairSplit};

#[path = "support/tiny_mnist.rs"]
mod tiny_mnist;
use tiny_mnist::{tiny_less_than_context, tiny_run};

#[test]
fn a_less_than_run_writes_its_picture() {
    tch::set_num_threads(1);
    let mut ctx = tiny_less_than_context();
    let run = tiny_run(0.5);
    let out = std::env::temp_dir().join(format!("dilp-picture-{}", std::process::id()));
    run_one(&mut ctx, &run, &out).unwrap();
    let img = image::open(out.join("pairs.png")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), canvas_size(ITEMS));
    // The same split the run drew: its first 32 seen and 32 held-out test items.
    let spec = PairSpec {
        seed: run.seed,
        held_out: run.held_out,
        n_train: run.pairs,
        n_test: run.test_pairs,
    };
    let split = PairSplit::build(&spec, &ctx.mnist.train_digits, &ctx.mnist.test_digits).unwrap();
    let shown = chosen(&split);
    assert_eq!(shown.len(), ITEMS);
    assert_eq!(shown.iter().filter(|(_, held)| *held).count(), ITEMS / 2);
    let (w, h) = cell_size();
    for (k, (_, held)) in shown.iter().enumerate() {
        let (x, y) = cell_origin(k);
        let frame = *img.get_pixel(x + 1, y + h / 2);
        assert!(
            frame == RIGHT || frame == WRONG,
            "cell {k}'s frame is {frame:?}"
        );
        let corner = *img.get_pixel(x + w - 3, y + 2);
        assert_eq!(corner == HELD_OUT, *held, "cell {k}'s corner");
    }
    let _ = std::fs::remove_dir_all(&out);
}
