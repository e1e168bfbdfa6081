//! `selftest soak N`: N insmod/rmmod operations over every sample module in
//! an order a seeded PRNG varies, each result checked against a model of
//! what Linux would answer, and the memory counters compared at the end.
//!
//! A long run is how leaks that one insmod/rmmod pair cannot show are
//! found: a page kept by the second of two modules sharing a dependency, a
//! vmap area left behind by a refused load, an export still listed after
//! its module went. The model ([`Model`]) is pure and host-tested; the
//! kernel side (`kernel.rs`: `run`, target only) only performs what it says.
//!
//! Each operation picks a module. If it is loaded, the operation is an
//! `rmmod`, which must fail with `EAGAIN` exactly when a loaded module uses
//! it; otherwise an `insmod`, which must succeed exactly when the module's
//! dependencies are loaded — except the samples built to be refused
//! (`failinit`: ENODEV from its init; `unknownsym` and `proprietary`:
//! ENOENT from symbol resolution), which must fail every time.

use crate::errno::Errno;

#[cfg(target_arch = "arm")]
mod kernel;
#[cfg(target_arch = "arm")]
pub use kernel::{run, soak};

/// A sample module and what loading it needs.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub name: &'static str,
    pub path: &'static str,
    pub args: &'static [&'static str],
    /// Modules whose exports it uses.
    pub deps: &'static [&'static str],
    /// `Some(errno)` for samples that must always be refused.
    pub refused: Option<Errno>,
}

const fn sample(name: &'static str, path: &'static str) -> Sample {
    Sample {
        name,
        path,
        args: &[],
        deps: &[],
        refused: None,
    }
}

/// The samples the soak cycles through (all of `/lib/modules` but
/// `wxtest`, whose modes exist to oops; `timerdemo`, whose init sleeps
/// about 150 ms: thousands of loads would measure the timer, not the
/// loader; and `apidemo`, which came later and has its own case,
/// `module_api_apidemo`).
pub const SAMPLES: [Sample; 12] = [
    Sample {
        args: &["count=0"],
        ..sample("hello", "/lib/modules/hello.ko")
    },
    sample("provider", "/lib/modules/provider.ko"),
    Sample {
        deps: &["provider"],
        ..sample("consumer", "/lib/modules/consumer.ko")
    },
    sample("memuser", "/lib/modules/memuser.ko"),
    sample("bigmod", "/lib/modules/bigmod.ko"),
    sample("thumbdemo", "/lib/modules/thumbdemo.ko"),
    sample("hugebss", "/lib/modules/hugebss.ko"),
    Sample {
        args: &["count=0"],
        ..sample("rust_hello", "/lib/modules/rust_hello.ko")
    },
    Sample {
        deps: &["provider"],
        ..sample("rust_consumer", "/lib/modules/rust_consumer.ko")
    },
    Sample {
        refused: Some(Errno::ENODEV),
        ..sample("failinit", "/lib/modules/failinit.ko")
    },
    Sample {
        refused: Some(Errno::ENOENT),
        ..sample("unknownsym", "/lib/modules/unknownsym.ko")
    },
    Sample {
        refused: Some(Errno::ENOENT),
        ..sample("proprietary", "/lib/modules/proprietary.ko")
    },
];

/// One step of the soak and the answer the model expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Insmod {
        sample: usize,
        expect: Result<(), Errno>,
    },
    Rmmod {
        sample: usize,
        expect: Result<(), Errno>,
    },
}

/// Which samples are loaded, and the PRNG choosing the next operation.
pub struct Model {
    samples: &'static [Sample],
    loaded: u32,
    rng: u64,
}

impl Model {
    pub fn new(samples: &'static [Sample], seed: u64) -> Self {
        Model {
            samples,
            loaded: 0,
            // xorshift64* must not start at zero.
            rng: seed | 1,
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64* (Vigna): small, deterministic, good enough to vary
        // the order.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.samples.iter().position(|s| s.name == name)
    }

    fn is_loaded(&self, i: usize) -> bool {
        self.loaded & (1 << i) != 0
    }

    /// Whether a loaded module uses sample `i`.
    fn in_use(&self, i: usize) -> bool {
        let name = self.samples[i].name;
        (0..self.samples.len()).any(|j| self.is_loaded(j) && self.samples[j].deps.contains(&name))
    }

    /// The next operation; call [`Model::record`] with its real result.
    pub fn next_op(&mut self) -> Op {
        let sample = (self.next_random() % self.samples.len() as u64) as usize;
        if self.is_loaded(sample) {
            let expect = if self.in_use(sample) {
                Err(Errno::EAGAIN)
            } else {
                Ok(())
            };
            Op::Rmmod { sample, expect }
        } else {
            let s = &self.samples[sample];
            let deps_loaded = s
                .deps
                .iter()
                .all(|d| self.index_of(d).is_some_and(|j| self.is_loaded(j)));
            let expect = match s.refused {
                Some(e) => Err(e),
                None if !deps_loaded => Err(Errno::ENOENT),
                None => Ok(()),
            };
            Op::Insmod { sample, expect }
        }
    }

    /// Updates the loaded set after `op` returned `result`.
    pub fn record(&mut self, op: Op, result: Result<(), Errno>) {
        match (op, result) {
            (Op::Insmod { sample, .. }, Ok(())) => self.loaded |= 1 << sample,
            (Op::Rmmod { sample, .. }, Ok(())) => self.loaded &= !(1 << sample),
            _ => {}
        }
    }

    /// The loaded samples in an order that can unload them all: users
    /// before the modules they use.
    pub fn unload_order(&self) -> impl Iterator<Item = usize> + '_ {
        let users = (0..self.samples.len()).filter(|&i| !self.samples[i].deps.is_empty());
        let rest = (0..self.samples.len()).filter(|&i| self.samples[i].deps.is_empty());
        users.chain(rest).filter(|&i| self.is_loaded(i))
    }
}

/// What a soak did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub loaded: u32,
    pub unloaded: u32,
    /// Refusals the model expected (EAGAIN, ENOENT, ENODEV).
    pub refused: u32,
    /// Results the model did not expect.
    pub unexpected: u32,
}

impl Tally {
    pub fn count(&mut self, op: Op, result: Result<(), Errno>) {
        let expect = match op {
            Op::Insmod { expect, .. } | Op::Rmmod { expect, .. } => expect,
        };
        if result != expect {
            self.unexpected += 1;
        } else if result.is_err() {
            self.refused += 1;
        } else if matches!(op, Op::Insmod { .. }) {
            self.loaded += 1;
        } else {
            self.unloaded += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_follows_dependencies_and_refusals() {
        let mut m = Model::new(&SAMPLES, 7);
        let mut tally = Tally::default();
        let mut seen_eagain = false;
        for _ in 0..5000 {
            let op = m.next_op();
            // The "kernel" here does exactly what the model expects.
            let result = match op {
                Op::Insmod { expect, .. } | Op::Rmmod { expect, .. } => expect,
            };
            seen_eagain |= result == Err(Errno::EAGAIN);
            if let Op::Insmod {
                sample,
                expect: Ok(()),
            } = op
            {
                for d in SAMPLES[sample].deps {
                    let j = SAMPLES.iter().position(|s| s.name == *d).unwrap();
                    assert!(m.is_loaded(j), "{} loaded before {d}", SAMPLES[sample].name);
                }
            }
            tally.count(op, result);
            m.record(op, result);
        }
        assert_eq!(tally.unexpected, 0);
        assert!(tally.loaded > 500 && tally.unloaded > 500 && tally.refused > 100);
        assert!(
            seen_eagain,
            "provider must be refused while a consumer uses it"
        );
        // Everything can be unloaded, users first.
        let order: Vec<usize> = m.unload_order().collect();
        for (k, &i) in order.iter().enumerate() {
            for d in SAMPLES[i].deps {
                let j = SAMPLES.iter().position(|s| s.name == *d).unwrap();
                assert!(!order[..k].contains(&j), "{d} unloaded before its user");
            }
        }
    }

    #[test]
    fn an_unexpected_result_is_counted() {
        let mut m = Model::new(&SAMPLES, 1);
        let op = m.next_op();
        let mut tally = Tally::default();
        tally.count(op, Err(Errno::ENOMEM));
        assert_eq!(tally.unexpected, 1);
    }

    #[test]
    fn the_order_depends_on_the_seed() {
        let ops = |seed| {
            let mut m = Model::new(&SAMPLES, seed);
            (0..20).map(|_| m.next_op()).collect::<Vec<_>>()
        };
        assert_eq!(ops(3), ops(3));
        assert_ne!(ops(3), ops(4));
    }
}
