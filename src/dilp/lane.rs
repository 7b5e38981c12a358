//! The number type the training kernel is written over: one seed's value ([`f32`]) or eight
//! seeds' values side by side ([`f32x8`]), so that each operation of the kernel and each
//! optimiser is written once and runs on one seed or on eight.
//!
//! Every operation is lane-wise and IEEE-exact, and `f32`'s comparisons pick what SSE's
//! `maxps`/`minps` pick (the second operand unless the first is strictly larger/smaller), so
//! a seed's arithmetic is bit for bit the same in either type, whatever lane it sits in.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Sub, SubAssign};
use wide::f32x8;

/// A value per seed.
pub trait Lane:
    Copy
    + Debug
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + AddAssign
    + SubAssign
{
    /// Seeds per value.
    const WIDTH: usize;
    const ZERO: Self;
    fn splat(x: f32) -> Self;
    /// Lane `l` is `f(l)`.
    fn from_fn(f: impl FnMut(usize) -> f32) -> Self;
    /// Lane `l`'s value.
    fn lane(self, l: usize) -> f32;
    /// `self` where it is larger than `other`, else `other`.
    fn max(self, other: Self) -> Self;
    /// `self` where it is smaller than `other`, else `other`.
    fn min(self, other: Self) -> Self;
    /// `then` where `self > other`, else `otherwise`.
    fn if_gt(self, other: Self, then: Self, otherwise: Self) -> Self;
    /// `then` where `self == other`, else `otherwise`.
    fn if_eq(self, other: Self, then: Self, otherwise: Self) -> Self;
    /// Some lane is not zero.
    fn any_nonzero(self) -> bool;
    fn sqrt(self) -> Self;
    /// `f` on every lane.
    fn map(self, f: impl Fn(f32) -> f32) -> Self {
        Self::from_fn(|l| f(self.lane(l)))
    }
}

impl Lane for f32 {
    const WIDTH: usize = 1;
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn from_fn(mut f: impl FnMut(usize) -> f32) -> Self {
        f(0)
    }
    #[inline(always)]
    fn lane(self, _: usize) -> f32 {
        self
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        if self > other {
            self
        } else {
            other
        }
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        if self < other {
            self
        } else {
            other
        }
    }
    #[inline(always)]
    fn if_gt(self, other: Self, then: Self, otherwise: Self) -> Self {
        if self > other {
            then
        } else {
            otherwise
        }
    }
    #[inline(always)]
    fn if_eq(self, other: Self, then: Self, otherwise: Self) -> Self {
        if self == other {
            then
        } else {
            otherwise
        }
    }
    #[inline(always)]
    fn any_nonzero(self) -> bool {
        self != 0.0
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}

impl Lane for f32x8 {
    const WIDTH: usize = 8;
    const ZERO: Self = f32x8::ZERO;
    #[inline(always)]
    fn splat(x: f32) -> Self {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn from_fn(mut f: impl FnMut(usize) -> f32) -> Self {
        f32x8::new(std::array::from_fn(&mut f))
    }
    #[inline(always)]
    fn lane(self, l: usize) -> f32 {
        self.to_array()[l]
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        self.fast_max(other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        self.fast_min(other)
    }
    #[inline(always)]
    fn if_gt(self, other: Self, then: Self, otherwise: Self) -> Self {
        self.simd_gt(other).select(then, otherwise)
    }
    #[inline(always)]
    fn if_eq(self, other: Self, then: Self, otherwise: Self) -> Self {
        self.simd_eq(other).select(then, otherwise)
    }
    #[inline(always)]
    fn any_nonzero(self) -> bool {
        self.simd_ne(f32x8::ZERO).any()
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32x8::sqrt(self)
    }
}
