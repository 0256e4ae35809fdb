//! Which stimulus files an export may copy. A session folder is data that may come from
//! anyone, and its `session.ron` names each trial's image by a path: an export copies
//! that file only when it lies inside the session folder or inside the image folder
//! of the study the session names (as that study file resolves it), and decodes as
//! an image. Anything else (`/etc/passwd`, `../../secret.png`, a link out of the
//! folder) is not copied, and the export says why.

use std::path::{Path, PathBuf};

use crate::session::SessionMeta;

/// The folders a session's stimuli may come from, resolved once per session.
#[derive(Debug, Clone)]
pub struct StimulusFolders {
    allowed: Vec<PathBuf>,
}

impl StimulusFolders {
    /// The session folder itself, and the image folder of its study when the study file
    /// it names still loads.
    pub fn of_session(session_root: &Path, meta: &SessionMeta) -> Self {
        let mut allowed = Vec::new();
        if let Ok(root) = session_root.canonicalize() {
            allowed.push(root);
        }
        if let Ok(study) = crate::study::load_study(Path::new(&meta.study_path)) {
            allowed.push(study.image_root);
        }
        Self { allowed }
    }

    /// The stimulus file to copy, resolved, or why it may not be copied.
    pub fn check(&self, image: &str) -> Result<PathBuf, String> {
        let resolved = Path::new(image)
            .canonicalize()
            .map_err(|e| format!("the stimulus {image} cannot be read ({e}); not copied"))?;
        if !self
            .allowed
            .iter()
            .any(|folder| resolved.starts_with(folder))
        {
            return Err(format!(
                "the stimulus {image} is outside the session folder and the study's image \
                 folder; not copied"
            ));
        }
        if image::image_dimensions(&resolved).is_err() {
            return Err(format!("the stimulus {image} is not an image; not copied"));
        }
        Ok(resolved)
    }
}
