//! What the app remembers between runs (eframe persistence): the recently opened
//! studies. Plain serde data with `#[serde(default)]`, so an older or partial saved
//! state still loads; runtime resources (textures, workers, channels) never go here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The key the settings are stored under in eframe's storage.
pub const STORAGE_KEY: &str = "scanscribe.settings";

/// How many recent studies are kept.
pub const MAX_RECENT_STUDIES: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Study files opened before, most recent first, without duplicates.
    pub recent_studies: Vec<PathBuf>,
}

impl Settings {
    /// Reads the settings from eframe's storage; defaults when absent or unreadable.
    pub fn from_storage(storage: Option<&dyn eframe::Storage>) -> Self {
        storage
            .and_then(|storage| eframe::get_value(storage, STORAGE_KEY))
            .unwrap_or_default()
    }

    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, self);
    }

    /// Puts `path` first in the recent list, dropping an older entry for it and the
    /// oldest entries past [`MAX_RECENT_STUDIES`].
    pub fn remember_study(&mut self, path: &Path) {
        self.recent_studies.retain(|recent| recent != path);
        self.recent_studies.insert(0, path.to_path_buf());
        self.recent_studies.truncate(MAX_RECENT_STUDIES);
    }

    pub fn forget_study(&mut self, path: &Path) {
        self.recent_studies.retain(|recent| recent != path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_moves_a_study_to_the_top_without_duplicates() {
        let mut settings = Settings::default();
        settings.remember_study(Path::new("/a.ron"));
        settings.remember_study(Path::new("/b.ron"));
        settings.remember_study(Path::new("/a.ron"));
        assert_eq!(
            settings.recent_studies,
            vec![PathBuf::from("/a.ron"), PathBuf::from("/b.ron")]
        );
        settings.forget_study(Path::new("/a.ron"));
        assert_eq!(settings.recent_studies, vec![PathBuf::from("/b.ron")]);
    }

    #[test]
    fn the_list_keeps_the_newest_entries() {
        let mut settings = Settings::default();
        for i in 0..MAX_RECENT_STUDIES + 3 {
            settings.remember_study(Path::new(&format!("/s{i}.ron")));
        }
        assert_eq!(settings.recent_studies.len(), MAX_RECENT_STUDIES);
        assert_eq!(
            settings.recent_studies[0],
            PathBuf::from(format!("/s{}.ron", MAX_RECENT_STUDIES + 2))
        );
    }

    #[test]
    fn missing_fields_in_saved_state_fall_back_to_defaults() {
        let settings: Settings = ron::from_str("()").unwrap();
        assert_eq!(settings, Settings::default());
        let saved = ron::to_string(&Settings {
            recent_studies: vec![PathBuf::from("/x.ron")],
        })
        .unwrap();
        let settings: Settings = ron::from_str(&saved).unwrap();
        assert_eq!(settings.recent_studies, vec![PathBuf::from("/x.ron")]);
    }
}
