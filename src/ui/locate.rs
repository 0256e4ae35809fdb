//! Which study the app opens at start-up: the `--study` flag, else the bundled
//! `studies/demo.ron` under the current folder, else under the source checkout.
//!
//! Only looks at the file system once, before the window opens; it loads nothing.

use std::path::{Path, PathBuf};

/// The bundled demo study, relative to the package root.
pub const DEMO_STUDY: &str = "studies/demo.ron";

/// What the app does when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    /// Load this study file (it may still fail to load; the app then shows why).
    Open(PathBuf),
    /// No study was named and the demo study is nowhere to be found.
    NotFound {
        /// Every path that was tried, in order.
        searched: Vec<PathBuf>,
    },
}

/// Decides the start-up study: `flag` wins (even if it does not exist, so the user
/// sees the error for the path they typed), then `studies/demo.ron` under `cwd`,
/// then under `manifest_dir`.
pub fn startup_study(flag: Option<PathBuf>, cwd: &Path, manifest_dir: &Path) -> Startup {
    if let Some(path) = flag {
        return Startup::Open(path);
    }
    let searched: Vec<PathBuf> = [cwd, manifest_dir]
        .iter()
        .map(|root| root.join(DEMO_STUDY))
        .collect();
    match searched.iter().find(|path| path.is_file()) {
        Some(path) => Startup::Open(path.clone()),
        None => Startup::NotFound { searched },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_even_when_the_file_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("missing.ron");
        let startup = startup_study(Some(flag.clone()), dir.path(), dir.path());
        assert_eq!(startup, Startup::Open(flag));
    }

    #[test]
    fn current_folder_comes_before_the_checkout() {
        let cwd = tempfile::tempdir().unwrap();
        let checkout = tempfile::tempdir().unwrap();
        for root in [cwd.path(), checkout.path()] {
            std::fs::create_dir_all(root.join("studies")).unwrap();
            std::fs::write(root.join(DEMO_STUDY), "").unwrap();
        }
        let startup = startup_study(None, cwd.path(), checkout.path());
        assert_eq!(startup, Startup::Open(cwd.path().join(DEMO_STUDY)));

        std::fs::remove_file(cwd.path().join(DEMO_STUDY)).unwrap();
        let startup = startup_study(None, cwd.path(), checkout.path());
        assert_eq!(startup, Startup::Open(checkout.path().join(DEMO_STUDY)));
    }

    #[test]
    fn nothing_found_lists_where_it_looked() {
        let cwd = tempfile::tempdir().unwrap();
        let checkout = tempfile::tempdir().unwrap();
        let Startup::NotFound { searched } = startup_study(None, cwd.path(), checkout.path())
        else {
            panic!("expected NotFound");
        };
        assert_eq!(
            searched,
            vec![
                cwd.path().join(DEMO_STUDY),
                checkout.path().join(DEMO_STUDY)
            ]
        );
    }
}
