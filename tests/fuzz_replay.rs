//! Replays every fuzz artifact (`fuzz/artifacts/TARGET/*`: inputs that once crashed) and every seed
//! (`fuzz/seeds/TARGET/*`) through the same function the fuzz target calls, as ordinary tests; and runs
//! each target on arbitrary bytes with proptest, so no-panic is checked on every `cargo test`.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use proptest::prelude::*;
use rdpdiag::fuzz_targets::TARGETS;

fn replay_dir(dir: &Path, target: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            target(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    n
}

#[test]
fn artifacts_and_seeds_replay_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seeds = 0;
    for (name, target) in TARGETS {
        replay_dir(&root.join("artifacts").join(name), *target);
        seeds += replay_dir(&root.join("seeds").join(name), *target);
    }
    assert!(
        seeds >= TARGETS.len(),
        "every target has at least one seed (found {seeds})"
    );
}

#[test]
fn every_fuzz_target_has_a_cargo_fuzz_binary() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml lacks target {name}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for (_, target) in TARGETS {
            target(&data);
        }
    }

    /// Mostly-valid input reaches deeper than random bytes: a TPKT header with a plausible length
    /// followed by arbitrary content.
    #[test]
    fn framed_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), code in any::<u8>()) {
        let mut data = vec![3, 0, 0, 0, u8::try_from(body.len().min(250)).unwrap(), code];
        data.extend_from_slice(&body);
        let len = u16::try_from(data.len()).unwrap();
        data[2..4].copy_from_slice(&len.to_be_bytes());
        for (_, target) in TARGETS {
            target(&data);
        }
    }
}
