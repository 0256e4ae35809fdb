//! The subject's ratings of generated descriptions, saved with the session as
//! `ratings.jsonl` (one JSON object a line, appended and synced, so a saved rating is
//! never lost or rewritten; for cohort records the file is `ratings/<subject>.jsonl`
//! beside the records). The descriptions are shown blind, as "A" and "B" in an order
//! fixed per subject and image; each line records which was which.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::deper::demo_model::default_demo_dir;

/// Which model wrote a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionKind {
    Generic,
    Personalized,
}

/// One rated description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatedDescription {
    /// What the subject saw it as ("A" or "B").
    pub label: String,
    pub kind: DescriptionKind,
    pub text: String,
    /// 1 (not at all how I would say it) to 5 (exactly how I would say it).
    pub rating: u8,
    pub comment: String,
}

/// One line of the ratings file: one image, both descriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingEntry {
    /// When it was saved, seconds since the Unix epoch.
    pub saved_unix_s: u64,
    pub subject: String,
    /// The model and the trials the subject was enrolled from.
    pub model_fingerprint: String,
    pub support_trials: Vec<String>,
    pub image: String,
    /// What the subject said about the image, if they described it.
    pub said: Option<String>,
    pub descriptions: Vec<RatedDescription>,
}

/// Whether the personalized description is shown first ("A") for this subject and
/// image: a fixed coin flip (FNV-1a of both), so the order is the same each time the
/// image is shown, and differs between images.
pub fn personalized_first(subject: &str, image: &str) -> bool {
    let hash = subject
        .bytes()
        .chain([0u8])
        .chain(image.bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    hash >> 63 == 1
}

/// Where ratings go: `<session>/ratings.jsonl`, or `<records dir>/ratings/<subject>.jsonl`.
pub fn ratings_path(session: Option<&Path>, records: Option<&Path>, subject: &str) -> PathBuf {
    subject_file(
        session,
        records,
        subject,
        ("ratings.jsonl", "ratings", "jsonl"),
    )
}

/// Where a subject's enrolled profile is saved by default: `<session>/profile.ron`,
/// or `profiles/<subject>.ron` beside a records file.
pub fn profile_path(session: Option<&Path>, records: Option<&Path>, subject: &str) -> PathBuf {
    subject_file(
        session,
        records,
        subject,
        ("profile.ron", "profiles", "ron"),
    )
}

/// `<session>/<in_session>` for a session, else `<folder>/<subject>.<extension>` beside
/// the records file (or in the working folder). Records in the demo's cache folder
/// (which a rebuild deletes) send it to the user's data folder instead:
/// `<data>/demo/<folder>/<subject>.<extension>` (see [`user_data_dir`]).
fn subject_file(
    session: Option<&Path>,
    records: Option<&Path>,
    subject: &str,
    (in_session, folder, extension): (&str, &str, &str),
) -> PathBuf {
    if let Some(session) = session {
        return session.join(in_session);
    }
    let beside = records.map_or(Path::new(""), |r| r.parent().unwrap_or(Path::new(".")));
    let file = format!("{subject}.{extension}");
    if is_inside(beside, &default_demo_dir()) {
        return user_data_dir().join("demo").join(folder).join(file);
    }
    beside.join(folder).join(file)
}

/// Whether `path` is `folder` or inside it (compared after resolving links where the
/// paths exist).
fn is_inside(path: &Path, folder: &Path) -> bool {
    let resolve = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    !path.as_os_str().is_empty() && resolve(path).starts_with(resolve(folder))
}

/// Where scanscribe keeps what users make outside sessions (ratings and profiles of
/// demo subjects): `$SCANSCRIBE_DATA_DIR`, else `$XDG_DATA_HOME/scanscribe`, else
/// `~/.local/share/scanscribe`.
pub fn user_data_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("SCANSCRIBE_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(data) = var("XDG_DATA_HOME") {
        return PathBuf::from(data).join("scanscribe");
    }
    let home = var("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local").join("share").join("scanscribe")
}

/// The entries already in `path` (none if it does not exist); a line that is not an
/// entry is an error naming the file and line, so nobody appends to a broken file.
pub fn read_ratings(path: &Path) -> Result<Vec<RatingEntry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| {
                format!(
                    "{} line {}: not a rating ({e}); the file was left as it is",
                    path.display(),
                    index + 1
                )
            })
        })
        .collect()
}

/// Appends `entry` to `path` (checked first with [`read_ratings`]) and syncs it to
/// disk. Returns how many entries the file holds now.
pub fn append_rating(path: &Path, entry: &RatingEntry) -> Result<usize, String> {
    let before = read_ratings(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let mut line = serde_json::to_string(entry).map_err(|e| e.to_string())?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(before.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(image: &str) -> RatingEntry {
        RatingEntry {
            saved_unix_s: 1,
            subject: "s01".into(),
            model_fingerprint: "abc".into(),
            support_trials: vec!["t1".into()],
            image: image.into(),
            said: None,
            descriptions: vec![RatedDescription {
                label: "A".into(),
                kind: DescriptionKind::Generic,
                text: "a red circle".into(),
                rating: 3,
                comment: "too short".into(),
            }],
        }
    }

    #[test]
    fn ratings_of_demo_subjects_never_go_into_the_demo_cache() {
        let records = default_demo_dir().join("data").join("records.jsonl");
        let path = ratings_path(None, Some(&records), "s21");
        assert!(!path.starts_with(default_demo_dir()), "{}", path.display());
        assert_eq!(
            path,
            user_data_dir()
                .join("demo")
                .join("ratings")
                .join("s21.jsonl")
        );
        let profile = profile_path(None, Some(&records), "s21");
        assert!(
            !profile.starts_with(default_demo_dir()),
            "{}",
            profile.display()
        );
    }

    #[test]
    fn ratings_append_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ratings.jsonl");
        assert_eq!(append_rating(&path, &entry("a.png")).unwrap(), 1);
        assert_eq!(append_rating(&path, &entry("b.png")).unwrap(), 2);
        let back = read_ratings(&path).unwrap();
        assert_eq!(back, vec![entry("a.png"), entry("b.png")]);
    }

    #[test]
    fn a_broken_file_is_named_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ratings.jsonl");
        std::fs::write(&path, "{\"not\": \"a rating\"}\n").unwrap();
        let error = append_rating(&path, &entry("a.png")).unwrap_err();
        assert!(error.contains("ratings.jsonl line 1"), "{error}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"not\": \"a rating\"}\n"
        );
    }

    #[test]
    fn the_blind_order_is_fixed_per_image_and_varies_between_images() {
        let firsts: Vec<bool> = (0..32)
            .map(|i| personalized_first("s01", &format!("img{i}.png")))
            .collect();
        assert!(firsts.iter().any(|&f| f) && firsts.iter().any(|&f| !f));
        assert_eq!(
            personalized_first("s01", "img3.png"),
            personalized_first("s01", "img3.png")
        );
    }

    #[test]
    fn ratings_live_with_the_session_or_beside_the_records() {
        assert_eq!(
            ratings_path(Some(Path::new("/s/x")), None, "s01"),
            Path::new("/s/x/ratings.jsonl")
        );
        assert_eq!(
            ratings_path(None, Some(Path::new("/d/records.jsonl")), "s01"),
            Path::new("/d/ratings/s01.jsonl")
        );
    }
}
