//! The rows of the result tables: which method each is, and where the trained model
//! of a DEPER row lives (the main model folder, or `ablations/NAME/` beside it).

use std::path::{Path, PathBuf};

use crate::model::checkpoint::read_config;
use crate::model::deper::{Ablation, DeperConfig};

/// One row of a result table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The description model with no subject information (`<subj>` keeps its own
    /// embedding): what every personalized row must beat.
    Generic,
    /// The subject's own description of the most similar image they stand for.
    Trivial,
    /// DEPER with the named ablation ([`Ablation::named`]).
    Deper(&'static str),
}

/// The DEPER ablations of the table, in row order (`full` last).
pub const DEPER_ROWS: [&str; 7] = [
    "text-only",
    "no-dynamics",
    "no-reconstruction",
    "no-contrastive",
    "no-film",
    "saliency",
    "full",
];

/// Every row, in table order.
pub fn all_methods() -> Vec<Method> {
    let mut rows = vec![Method::Generic, Method::Trivial];
    rows.extend(DEPER_ROWS.iter().map(|&n| Method::Deper(n)));
    rows
}

impl Method {
    /// Short key used in JSON and file names.
    pub fn key(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::Trivial => "trivial",
            Self::Deper(name) => name,
        }
    }

    /// The row label of the tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Generic => "generic (zero-shot)",
            Self::Trivial => "trivial baseline",
            Self::Deper(name) => match name {
                "text-only" => "DEPER text-only",
                "no-dynamics" => "DEPER w/o dynamics",
                "no-reconstruction" => "DEPER w/o reconstruction",
                "no-contrastive" => "DEPER w/o contrastive",
                "no-film" => "DEPER w/o FiLM",
                "saliency" => "DEPER + saliency",
                "full" => "DEPER full",
                _ => "DEPER",
            },
        }
    }

    /// A short label for the chart's axis.
    pub fn short(self) -> &'static str {
        match self {
            Self::Generic => "gen",
            Self::Trivial => "triv",
            Self::Deper(name) => match name {
                "text-only" => "text",
                "no-dynamics" => "-dyn",
                "no-reconstruction" => "-rec",
                "no-contrastive" => "-con",
                "no-film" => "-FiLM",
                "saliency" => "+sal",
                _ => "full",
            },
        }
    }
}

/// Where the ablation models of `model_dir` are cached: `model_dir/ablations/NAME/`.
pub fn ablation_dir(model_dir: &Path, name: &str) -> PathBuf {
    model_dir.join("ablations").join(name)
}

/// True when `dir` holds a complete trained model (captioner and DEPER weights).
pub fn is_trained(dir: &Path) -> bool {
    ["captioner", "deper"]
        .iter()
        .all(|part| dir.join(part).join("model.safetensors").is_file())
}

/// The ablation the DEPER of `model_dir` was trained with.
pub fn trained_ablation(model_dir: &Path) -> crate::model::error::Result<Ablation> {
    let cfg: DeperConfig = read_config(&model_dir.join("deper").join("config.json"))?;
    Ok(cfg.ablation)
}

/// The model folder of a DEPER row: the main model when it was trained with that
/// ablation, else its cached ablation model; `None` when that is not trained yet.
pub fn model_for(model_dir: &Path, main: Ablation, name: &str) -> Option<PathBuf> {
    let wanted = Ablation::named(name)?;
    if wanted == main {
        return Some(model_dir.to_path_buf());
    }
    let dir = ablation_dir(model_dir, name);
    is_trained(&dir).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_the_papers_table_and_every_deper_row_is_a_known_ablation() {
        let rows = all_methods();
        assert_eq!(rows.len(), 9);
        assert_eq!(rows[0], Method::Generic);
        assert_eq!(rows[1], Method::Trivial);
        assert_eq!(rows[8], Method::Deper("full"));
        for name in DEPER_ROWS {
            assert!(Ablation::named(name).is_some(), "{name}");
            assert_ne!(Method::Deper(name).label(), "DEPER");
        }
        let keys: std::collections::BTreeSet<_> = rows.iter().map(|m| m.key()).collect();
        assert_eq!(keys.len(), rows.len(), "keys are unique");
    }

    #[test]
    fn the_main_model_serves_its_own_ablation_and_others_need_a_trained_folder() {
        let dir = tempfile::tempdir().unwrap();
        let full = Ablation::default();
        assert_eq!(model_for(dir.path(), full, "full"), Some(dir.path().into()));
        assert_eq!(model_for(dir.path(), full, "no-film"), None);
        let cached = ablation_dir(dir.path(), "no-film");
        for part in ["captioner", "deper"] {
            std::fs::create_dir_all(cached.join(part)).unwrap();
            std::fs::write(cached.join(part).join("model.safetensors"), b"x").unwrap();
        }
        assert_eq!(model_for(dir.path(), full, "no-film"), Some(cached));
        let text_only = Ablation::named("text-only").unwrap();
        assert_eq!(model_for(dir.path(), text_only, "full"), None);
    }
}
