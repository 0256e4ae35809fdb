//! Hostile and damaged inputs, generated: valid studies, gaze CSVs, dataset records,
//! Localized Narratives files and session folders are mutated (bytes flipped, cut,
//! duplicated; numbers swapped for extremes such as -2^63, 1e308 and NaN; paths
//! swapped for `../` escapes and absolute paths) and fed to the command a user would
//! run on them. For every mutation:
//! - the program does not panic (exit status 101, "panicked" on stderr);
//! - when it fails, its message names the file (or the session folder) it read;
//! - it writes nothing outside its output folder.
//!
//! Each property runs a few dozen cases per CI run, on a fixed seed so that a failure
//! is reproducible; proptest shrinks a failing case to its smallest mutation.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod replay_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use scanscribe::gaze::GazeSample;

/// Values that have broken parsers and time arithmetic elsewhere; the first
/// `NUMBERS` are numbers.
const NUMBERS: usize = 10;
const TOKENS: &[&str] = &[
    "-9223372036854775808",
    "9223372036854775807",
    "18446744073709551616",
    "1e308",
    "-1e300",
    "NaN",
    "inf",
    "-0",
    "0",
    "4000000000",
    "\"../../escape_probe\"",
    "\"/etc/passwd\"",
    "\"\"",
    "\u{feff}",
    "\0",
    "[]",
    "{}",
    "null",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        token: usize,
    },
    /// Replaces the `nth` number of the text (wrapping) with a token.
    SwapNumber {
        nth: usize,
        token: usize,
    },
    /// Replaces the `nth` quoted string of the text (wrapping) with a token.
    SwapString {
        nth: usize,
        token: usize,
    },
    /// Replaces every `every`-th number of the text, from the `from`-th, with a number.
    SwapNumbers {
        from: usize,
        every: usize,
        token: usize,
    },
    Truncate {
        keep_per_mille: u16,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = 0..TOKENS.len();
    // Number and string swaps weigh most: they reach the parsers' later checks and
    // the arithmetic, where flipped bytes mostly stop at the syntax.
    prop_oneof![
        1 => (any::<usize>(), 0_u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => (any::<usize>(), 1_usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1_usize..256).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        2 => (any::<usize>(), token.clone()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        6 => (any::<usize>(), token.clone())
            .prop_map(|(nth, token)| Mutation::SwapNumber { nth, token }),
        3 => (any::<usize>(), token).prop_map(|(nth, token)| Mutation::SwapString { nth, token }),
        3 => (0_usize..8, 1_usize..8, 0..NUMBERS)
            .prop_map(|(from, every, token)| Mutation::SwapNumbers { from, every, token }),
        1 => (0_u16..1000).prop_map(|keep_per_mille| Mutation::Truncate { keep_per_mille }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..4)
}

/// Byte ranges of the numbers (`-?[0-9][0-9.eE+-]*`) or the quoted strings of `bytes`.
fn spans(bytes: &[u8], strings: bool) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if strings && bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += 1 + usize::from(bytes[i] == b'\\');
            }
            found.push((start, (i + 1).min(bytes.len())));
        } else if !strings && (bytes[i].is_ascii_digit() || bytes[i] == b'-') {
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || b".+-".contains(&bytes[i]))
            {
                i += 1;
            }
            found.push((start, i));
            continue;
        }
        i += 1;
    }
    found
}

fn apply(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::FlipBit { at, bit } => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= 1 << bit;
                }
            }
            Mutation::Delete { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Duplicate { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
            Mutation::Insert { at, token } => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, TOKENS[token].bytes());
            }
            Mutation::SwapNumber { nth, token } | Mutation::SwapString { nth, token } => {
                let found = spans(bytes, matches!(m, Mutation::SwapString { .. }));
                if !found.is_empty() {
                    let (start, end) = found[nth % found.len()];
                    bytes.splice(start..end, TOKENS[token].bytes());
                }
            }
            Mutation::SwapNumbers { from, every, token } => {
                // From the back, so earlier spans keep their places.
                let found = spans(bytes, false);
                for &(start, end) in found.iter().skip(from).step_by(every).rev() {
                    bytes.splice(start..end, TOKENS[token].bytes());
                }
            }
            Mutation::Truncate { keep_per_mille } => {
                let keep = bytes.len() * usize::from(keep_per_mille) / 1000;
                bytes.truncate(keep);
            }
        }
    }
}

/// Every file under `root` outside `except`, with its size and modification time.
fn files_outside(root: &Path, except: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.starts_with(except) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else {
                files.insert(path, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    files
}

/// Runs scanscribe in `dir` and checks the three properties; `names` is what a failure
/// must mention (the input file's or folder's name).
fn check_run(
    dir: &Path,
    out: &Path,
    args: &[&std::ffi::OsStr],
    names: &str,
) -> Result<(), TestCaseError> {
    check_run_watching(dir, None, out, args, names)
}

/// [`check_run`], watching `also` (a folder the input refers to) for writes too.
fn check_run_watching(
    dir: &Path,
    also: Option<&Path>,
    out: &Path,
    args: &[&std::ffi::OsStr],
    names: &str,
) -> Result<(), TestCaseError> {
    RUNS.with(|runs| {
        let (all, failed) = runs.get();
        runs.set((all + 1, failed));
    });
    let snapshot = || {
        let mut files = files_outside(dir, out);
        if let Some(also) = also {
            files.extend(files_outside(also, out));
        }
        files
    };
    let before = snapshot();
    let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    prop_assert!(
        output.status.code() != Some(101) && !stderr.contains("panicked"),
        "panic: {stderr}"
    );
    if !output.status.success() {
        RUNS.with(|runs| {
            let (all, failed) = runs.get();
            runs.set((all, failed + 1));
        });
        prop_assert!(
            stderr.contains(names),
            "the error does not name {names}: {stderr}"
        );
    }
    let after = snapshot();
    prop_assert_eq!(before, after, "files outside {} changed", out.display());
    Ok(())
}

thread_local! {
    /// (runs, failed runs) of this test's thread: the mutations must make some inputs
    /// fail, or the test would check nothing.
    static RUNS: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Asserts that some runs of this test failed (the mutations did damage) and some
/// did not (a few mutations are harmless, like a flipped digit in a sample).
fn assert_mixed_outcomes(need_successes: bool) {
    let (all, failed) = RUNS.with(std::cell::Cell::get);
    assert!(failed > 0, "none of {all} mutated inputs failed");
    if need_successes {
        assert!(failed < all, "all {all} mutated inputs failed");
    }
    eprintln!("{failed} of {all} mutated inputs were refused");
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the same cases every run, so a failure reproduces.
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

/// Writes `bytes` mutated by `m` to `dir/name`.
fn mutated(dir: &Path, name: &str, bytes: &[u8], m: &[Mutation]) -> PathBuf {
    let mut bytes = bytes.to_vec();
    apply(&mut bytes, m);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn demo_images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo")
}

#[test]
fn mutated_studies_are_validated_without_panic_and_named() {
    let study =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/demo.ron"))
            .unwrap()
            .replace("../assets/demo", &demo_images().display().to_string());
    runner(200)
        .run(&mutations(), |m| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            let path = mutated(dir.path(), "study.ron", study.as_bytes(), &m);
            check_run(
                dir.path(),
                &out,
                &[os("validate"), path.as_os_str()],
                "study.ron",
            )
        })
        .unwrap();
    assert_mixed_outcomes(true);
}

#[test]
fn mutated_gaze_csvs_give_fixations_or_a_named_error() {
    let samples: Vec<GazeSample> = (0..600)
        .map(|i| {
            let target = [0.2 + 0.15 * (i / 100) as f32, 0.5];
            let tremor = 0.002 * ((i * 7919) % 13) as f32 / 13.0;
            GazeSample::binocular(
                1_000_000 + i * 3333,
                [target[0] + tremor, target[1] - tremor],
            )
        })
        .collect();
    let template = tempfile::tempdir().unwrap();
    let csv = template.path().join("gaze.csv");
    scanscribe::gaze::csv::write_samples(&csv, &samples).unwrap();
    let bytes = std::fs::read(&csv).unwrap();
    runner(200)
        .run(&(mutations(), any::<bool>()), |(m, ivt)| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            std::fs::create_dir(&out).unwrap();
            let path = mutated(dir.path(), "gaze.csv", &bytes, &m);
            let fixations = out.join("fixations.csv");
            check_run(
                dir.path(),
                &out,
                &[
                    os("fixations"),
                    os("--input"),
                    path.as_os_str(),
                    os("--method"),
                    os(if ivt { "ivt" } else { "idt" }),
                    os("--out"),
                    fixations.as_os_str(),
                ],
                "gaze.csv",
            )
        })
        .unwrap();
    assert_mixed_outcomes(true);
}

/// The Localized Narratives fixture and its two images, in `dir`.
fn narratives_input(dir: &Path) -> (Vec<u8>, PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/localized_narratives/narratives.jsonl");
    let images = dir.join("images-in");
    std::fs::create_dir_all(&images).unwrap();
    let image = image::RgbImage::from_pixel(64, 48, image::Rgb([120, 160, 90]));
    image.save(images.join("000000137576.jpg")).unwrap();
    image.save(images.join("1007129816.jpg")).unwrap();
    (std::fs::read(fixture).unwrap(), images)
}

#[test]
fn mutated_localized_narratives_import_or_are_named() {
    runner(160)
        .run(&mutations(), |m| {
            let dir = tempfile::tempdir().unwrap();
            let (bytes, images) = narratives_input(dir.path());
            let out = dir.path().join("out");
            let path = mutated(dir.path(), "narratives.jsonl", &bytes, &m);
            check_run(
                dir.path(),
                &out,
                &[
                    os("import"),
                    os("localized-narratives"),
                    os("--narratives"),
                    path.as_os_str(),
                    os("--images"),
                    images.as_os_str(),
                    os("--out"),
                    out.as_os_str(),
                ],
                "narratives.jsonl",
            )
        })
        .unwrap();
    assert_mixed_outcomes(true);
}

#[test]
fn mutated_dataset_records_are_scored_or_named() {
    // Valid records with their images, from the importer.
    let template = tempfile::tempdir().unwrap();
    let (narratives, images) = narratives_input(template.path());
    let source = template.path().join("narratives.jsonl");
    std::fs::write(&source, narratives).unwrap();
    let dataset = template.path().join("dataset");
    scanscribe::interop::localized_narratives::import_localized_narratives(
        &source,
        &images,
        &dataset,
        None,
        &Default::default(),
    )
    .unwrap();
    let records = std::fs::read(dataset.join("records.jsonl")).unwrap();
    runner(160)
        .run(&mutations(), |m| {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            copy_tree(&dataset, &data);
            let out = dir.path().join("out");
            let path = mutated(&data, "records.jsonl", &records, &m);
            check_run(
                dir.path(),
                &out,
                &[
                    os("score"),
                    os("--candidates"),
                    path.as_os_str(),
                    os("--references"),
                    path.as_os_str(),
                    os("--metrics"),
                    os("bleu,cider,cls"),
                ],
                "records.jsonl",
            )
        })
        .unwrap();
    assert_mixed_outcomes(true);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// One recorded two-trial session (made once for all cases) and its file list.
fn recorded_session() -> &'static (replay_support::Recorded, PathBuf, Vec<PathBuf>) {
    static SESSION: OnceLock<(replay_support::Recorded, PathBuf, Vec<PathBuf>)> = OnceLock::new();
    SESSION.get_or_init(|| {
        let recorded = replay_support::Recorded::new("hostile");
        let root = recorded.record("s01", 0);
        let mut files = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                if entry.file_type().unwrap().is_dir() {
                    stack.push(entry.path());
                } else {
                    files.push(entry.path().strip_prefix(&root).unwrap().to_path_buf());
                }
            }
        }
        files.sort();
        (recorded, root, files)
    })
}

#[test]
fn mutated_session_folders_export_in_every_format_or_are_named() {
    let (recorded, session, files) = recorded_session();
    let session_name = session.file_name().unwrap().to_string_lossy().into_owned();
    runner(120)
        .run(&(mutations(), any::<usize>()), |(m, which)| {
            let dir = tempfile::tempdir().unwrap();
            let copy = dir.path().join("sessions").join(&session_name);
            copy_tree(session, &copy);
            let file = &files[which % files.len()];
            let bytes = std::fs::read(session.join(file)).unwrap();
            let target = copy.join(file);
            let name = target.file_name().unwrap().to_string_lossy().into_owned();
            mutated(target.parent().unwrap(), &name, &bytes, &m);
            for format in ["csv", "bids", "records"] {
                let out = dir.path().join(format!("out-{format}"));
                check_run_watching(
                    dir.path(),
                    Some(recorded.dir.path()),
                    &out,
                    &[
                        os("export"),
                        os("--format"),
                        os(format),
                        os("--out"),
                        out.as_os_str(),
                        copy.as_os_str(),
                    ],
                    &session_name,
                )?;
            }
            Ok(())
        })
        .unwrap();
    assert_mixed_outcomes(true);
}
