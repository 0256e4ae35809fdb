//! The word lists and small word tests of the PTB tokenizer ([`super::tokenize`]):
//! abbreviations that keep their period, clitics, assimilations. Measured against
//! Stanford CoreNLP 3.4.1 (the jar pycocoevalcap ships) by running it on each word.

/// Abbreviations that keep their period wherever they stand (lower case): the words
/// for which CoreNLP 3.4.1 keeps the period before a lower-case word, measured with
/// the jar (single letters such as `a.` and `v.` are acronyms, handled apart).
pub(super) const ABBREVIATIONS: &[&str] = &[
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon",
    "tue", "tues", "wed", "thu", "thurs", "fri", "ala", "ariz", "calif", "colo", "conn", "ct",
    "dak", "fla", "ga", "ind", "kan", "kans", "ky", "md", "mich", "minn", "mo", "mont", "neb",
    "nev", "okla", "penn", "tenn", "va", "vt", "wis", "wisc", "wyo", "inc", "co", "cos", "corp",
    "pty", "ptys", "ltd", "plc", "rt", "bancorp", "bhd", "assn", "univ", "intl", "sys", "tel",
    "est", "ext", "sq", "jr", "sr", "bros", "esq", "etc", "al", "seq", "bldg", "mr", "mrs", "ms",
    "drs", "dr", "prof", "profs", "sen", "sens", "rep", "reps", "atty", "attys", "lt", "col",
    "gen", "messrs", "gov", "govs", "adm", "rev", "maj", "sgt", "cpl", "pvt", "capt", "st", "ste",
    "ave", "pres", "lieut", "hon", "brig", "cmdr", "comdr", "pfc", "spc", "supt", "supts", "det",
    "mt", "ft", "adj", "adv", "asst", "assoc", "ens", "insp", "mlle", "mme", "msgr", "sfc", "invt",
    "elec", "natl", "mfg", "mtg", "dept", "blvd", "rd", "wm", "jos", "cie", "cf", "treas", "ph",
    "vs",
];

/// Abbreviations that keep their period only when capitalized (`Mass.`, but `mass.`
/// ends a sentence), as in 3.4.1; compared before lower-casing.
pub(super) const CAPITALIZED_ABBREVIATIONS: &[&str] = &[
    "Az", "Ark", "Del", "Ill", "La", "Mass", "Miss", "Ore", "Pa", "Tex", "Wash",
];

/// Abbreviations that keep their period only before a number (`no. 5`, `fig.3`: one
/// optional space, then a digit) or directly before `, ; :`, as in 3.4.1.
pub(super) const NUMBER_ABBREVIATIONS: &[&str] =
    &["ca", "fig", "figs", "prop", "no", "nos", "art", "pp", "op"];

/// Whole words that PTB splits into two tokens: (word, length of the first part).
pub(super) const ASSIMILATIONS: &[(&str, usize)] = &[
    ("cannot", 3),
    ("gonna", 3),
    ("gotta", 3),
    ("wanna", 3),
    ("gimme", 3),
    ("lemme", 3),
    ("'tis", 2),
    ("'twas", 2),
];

pub(super) const CLITICS: &[&str] = &["s", "m", "d", "re", "ve", "ll"];

/// Apostrophe-initial words kept whole (lower case, without the apostrophe).
pub(super) fn is_apostrophe_word(word: &str) -> bool {
    matches!(word, "em" | "til" | "till" | "cause" | "twixt")
}

/// `a`, `u.s`, `e.g`, `a.m`: single letters joined by periods.
pub(super) fn is_acronym(word: &str) -> bool {
    let mut expect_letter = true;
    for c in word.chars() {
        if expect_letter {
            if !c.is_alphabetic() {
                return false;
            }
        } else if c != '.' {
            return false;
        }
        expect_letter = !expect_letter;
    }
    !expect_letter
}
