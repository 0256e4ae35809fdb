//! Caption tokenization as the COCO caption evaluation does it.
//!
//! pycocoevalcap's `PTBTokenizer` runs Stanford CoreNLP 3.4.1's PTBTokenizer
//! (`-preserveLines -lowerCase`) and then drops every token that is exactly one of
//! `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`. This module reimplements
//! that pipeline without Java: a hand-written scanner for the Penn Treebank rules that
//! captions meet, lower-casing, and the same removal list. It owns nothing else.
//!
//! What the scanner does, as the Java tokenizer does it:
//! - splits clitics: `man's` → `man 's`, `isn't` → `is n't`, `can't` → `ca n't`,
//!   `won't` → `wo n't`, `i'd've` → `i 'd 've`, `dogs'` → `dogs '`; splits
//!   `cannot gonna gotta wanna gimme lemme 'tis 'twas y'all` (`can not`, `gon na`, ...);
//!   keeps `o'clock`, `ma'am`, `'90s`, `'til`; `rock'n'roll` → `rock 'n' roll`;
//! - keeps hyphenated words (`black-and-white`, `5-year-old`), numbers with `. , :`
//!   (`3.5`, `1,000`, `10:30`), `black/white`, upper-case `AT&T`, `@name`, `#tag`,
//!   e-mail addresses and URLs, and words joined by a period before a letter (`u.s`);
//! - keeps the period of acronyms and abbreviations (`u.s.`, `a.`, `mr.`, `etc.`, `no.`
//!   before a number), splits it off anything else;
//! - turns brackets into `-lrb- -rrb- -lsb- -rsb- -lcb- -rcb-`: lower-cased, they are
//!   *not* in the removal list (which spells them in upper case), so they stay, as in
//!   every published COCO score;
//! - keeps runs of `!`/`?` as one token (`!!`, `?!` stay; `!` and `?` go), and every
//!   other symbol (`& * + = % $ # / ~ ^ | \`) as a token of its own;
//! - maps curly quotes to straight ones, `…` to `...`, and en/em dashes to `--`.
//!
//! How close it is: on every caption of the parity fixture (294 candidates, ~1100
//! references) the tokens are identical to the jar's, and so are the scores; on 4000
//! generated punctuation-heavy lines (clitics, abbreviations, quotes, numbers, dashes
//! glued to words at random) 22 lines differ. The differences we know of:
//! - pycocoevalcap feeds all captions to Java as one file, and Java's look-ahead
//!   crosses lines: `no.` (also `fig.`, `pp.`, ...) at the very end of a caption keeps
//!   its period when the *next* caption starts with a digit. We look at one caption;
//! - slash compounds with a clitic or a decimal number (`left/isn't`, `dogs/1.5kg`);
//! - SGML-like `<tags>` are split into `<`, word, `>`;
//! - words glued together by apostrophes or periods with no space (`it's2nd`,
//!   `Inc.y'know`) follow the simpler rules above;
//! - a carriage return is whitespace here but a line break for Java (which misaligns
//!   pycocoevalcap's output, a bug we do not copy);
//! - lower-casing is Rust's Unicode mapping, not Java's (they differ for a handful of
//!   characters such as `İ`); CoreNLP 3.4.1 does not americanize spellings, nor do we.

use super::ptb_words::{
    ABBREVIATIONS, ASSIMILATIONS, CAPITALIZED_ABBREVIATIONS, CLITICS, NUMBER_ABBREVIATIONS,
    is_acronym, is_apostrophe_word,
};

/// Tokens that pycocoevalcap removes after tokenization (its `PUNCTUATIONS`, compared
/// case-sensitively with the lower-cased tokens, so the bracket names never match).
pub const REMOVED_TOKENS: [&str; 17] = [
    "''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--",
    "...", ";",
];

/// Tokenizes one caption as pycocoevalcap does: PTB tokens, lower-cased, punctuation
/// removed, joined by single spaces. Newlines are spaces (one caption is one line).
pub fn coco_tokenize(caption: &str) -> String {
    ptb_tokens(caption)
        .into_iter()
        .filter(|t| !REMOVED_TOKENS.contains(&t.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The lower-cased PTB tokens of a caption, punctuation included.
pub fn ptb_tokens(caption: &str) -> Vec<String> {
    let chars: Vec<char> = caption.chars().map(normalize_char).collect();
    let mut scanner = Scanner {
        chars: &chars,
        pos: 0,
        tokens: Vec::new(),
    };
    scanner.run();
    scanner
        .tokens
        .into_iter()
        .map(|t| t.to_lowercase())
        .collect()
}

fn normalize_char(c: char) -> char {
    match c {
        '\u{2019}' | '\u{00B4}' => '\'',
        '\u{2018}' | '\u{201B}' => '`',
        '\u{201C}' | '\u{201D}' | '\u{201E}' => '"',
        '\u{2013}' | '\u{2014}' | '\u{2015}' => '\u{2014}',
        c if c.is_whitespace() => ' ',
        c => c,
    }
}

struct Scanner<'a> {
    chars: &'a [char],
    pos: usize,
    tokens: Vec<String>,
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn emit(&mut self, start: usize, end: usize) {
        self.tokens.push(self.chars[start..end].iter().collect());
    }

    fn push(&mut self, token: &str) {
        self.tokens.push(token.to_owned());
    }

    fn run(&mut self) {
        while let Some(c) = self.at(self.pos) {
            let start = self.pos;
            match c {
                ' ' => self.pos += 1,
                '"' => self.single("''"),
                '`' => self.run_of('`', "`", "``"),
                '(' => self.single("-LRB-"),
                ')' => self.single("-RRB-"),
                '[' => self.single("-LSB-"),
                ']' => self.single("-RSB-"),
                '{' => self.single("-LCB-"),
                '}' => self.single("-RCB-"),
                '\u{2014}' => self.single("--"),
                '\u{2026}' => self.single("..."),
                '-' | '+' | '.' | ',' | ':' if self.number_end(start).is_some() => {
                    self.pos = self.number_end(start).unwrap_or(start + 1);
                    self.emit(start, self.pos);
                }
                '.' => self.periods(),
                '-' => self.run_of('-', "-", "--"),
                '!' | '?' => {
                    while matches!(self.at(self.pos), Some('!' | '?')) {
                        self.pos += 1;
                    }
                    self.emit(start, self.pos);
                }
                '\'' => self.apostrophe(),
                '#' if self.at(start + 1) == Some('#') => {
                    while self.at(self.pos) == Some('#') {
                        self.pos += 1;
                    }
                    self.emit(start, self.pos);
                }
                '#' | '@' if self.at(start + 1).is_some_and(is_word_start) => {
                    self.pos += 1;
                    while self
                        .at(self.pos)
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                    {
                        self.pos += 1;
                    }
                    self.emit(start, self.pos);
                }
                c if c.is_alphanumeric() => self.word(),
                _ => {
                    self.pos += 1;
                    self.emit(start, self.pos);
                }
            }
        }
    }

    /// End of a number that starts with a sign or a separator (`-3`, `+2`, `.5`,
    /// `-3.5`, `:30`), as the PTB lexer reads one wherever a token starts.
    fn number_end(&self, start: usize) -> Option<usize> {
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        let mut i = start;
        if matches!(self.at(i), Some('-' | '+')) {
            i += 1;
        }
        let mut has_digits = false;
        while digit(i) {
            i += 1;
            has_digits = true;
        }
        let mut groups = 0;
        while matches!(self.at(i), Some('.' | ',' | ':')) && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
            groups += 1;
        }
        (has_digits || groups > 0).then_some(i)
    }

    fn single(&mut self, token: &str) {
        self.pos += 1;
        self.push(token);
    }

    /// `-` → `-`, `--`/`---` → `--`; `` ` `` → `` ` ``, ``` `` ``` → ``` `` ```.
    fn run_of(&mut self, c: char, one: &str, many: &str) {
        let start = self.pos;
        while self.at(self.pos) == Some(c) {
            self.pos += 1;
        }
        self.push(if self.pos - start == 1 { one } else { many });
    }

    fn periods(&mut self) {
        let start = self.pos;
        while self.at(self.pos) == Some('.') {
            self.pos += 1;
        }
        let n = self.pos - start;
        if n >= 3 {
            self.push("...");
        } else {
            for _ in 0..n {
                self.push(".");
            }
        }
    }

    /// An apostrophe not inside a word: a clitic (`'s` after a space), an
    /// apostrophe-initial word (`'90s`, `'til`, `'em`, `'n'`, `'tis`) or a quote.
    fn apostrophe(&mut self) {
        let start = self.pos;
        if let Some(len) = self.assimilation(start) {
            self.emit(start, start + len);
            self.pos = start + len;
            return;
        }
        let rest = self.alpha_run(start + 1);
        let word: String = self.chars[start + 1..rest].iter().collect::<String>();
        let lower = word.to_lowercase();
        let after = self.at(rest);
        let ends_word = !after.is_some_and(char::is_alphanumeric);
        if lower == "n" && after == Some('\'') {
            self.emit(start, rest + 1);
            self.pos = rest + 1;
        } else if ends_word && (CLITICS.contains(&lower.as_str()) || is_apostrophe_word(&lower)) {
            self.emit(start, rest);
            self.pos = rest;
        } else if self
            .digits_then_s(start + 1)
            .is_some_and(|end| !self.at(end).is_some_and(char::is_alphanumeric))
        {
            let end = self.digits_then_s(start + 1).unwrap_or(start + 1);
            self.emit(start, end);
            self.pos = end;
        } else {
            self.pos += 1;
            while self.at(self.pos) == Some('\'') {
                self.pos += 1;
            }
            self.push(if self.pos - start == 1 { "'" } else { "''" });
        }
    }

    /// `'90s` and `'90 `: two digits and an `s` or a space, returning where they end
    /// (before other characters, as in `'90:`, 3.4.1 reads a quote and a number).
    fn digits_then_s(&self, from: usize) -> Option<usize> {
        let two_digits = self.at(from).is_some_and(|c| c.is_ascii_digit())
            && self.at(from + 1).is_some_and(|c| c.is_ascii_digit());
        if !two_digits {
            return None;
        }
        match self.at(from + 2) {
            Some('s') => Some(from + 3),
            None | Some(' ') => Some(from + 2),
            Some(_) => None,
        }
    }

    fn alpha_run(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(char::is_alphabetic) {
            i += 1;
        }
        i
    }

    /// Length of the first token when a whole-word assimilation starts at `start`.
    fn assimilation(&self, start: usize) -> Option<usize> {
        let end = if self.at(start) == Some('\'') {
            self.alpha_run(start + 1)
        } else {
            self.alpha_run(start)
        };
        let clitic_follows =
            self.at(end) == Some('\'') && self.at(end + 1).is_some_and(char::is_alphabetic);
        if self.at(end).is_some_and(char::is_alphanumeric) || clitic_follows {
            return None;
        }
        let word: String = self.chars[start..end].iter().collect::<String>();
        let lower = word.to_lowercase();
        ASSIMILATIONS
            .iter()
            .find(|(w, _)| *w == lower)
            .map(|&(_, len)| len)
    }

    /// A word starting with a letter or digit, with what may follow it.
    fn word(&mut self) {
        let start = self.pos;
        if let Some(len) = self.assimilation(start) {
            self.emit(start, start + len);
            self.pos = start + len;
            return;
        }
        if let Some(end) = self.url_or_email(start) {
            self.emit(start, end);
            self.pos = end;
            return;
        }
        // y'all → y' all
        if matches!(self.at(start), Some('y' | 'Y'))
            && self.at(start + 1) == Some('\'')
            && self.at(start + 2).is_some_and(char::is_alphabetic)
            && !self.clitic_at(start + 1)
        {
            self.emit(start, start + 2);
            self.pos = start + 2;
            return;
        }
        let mut end = self.word_core(start);
        // `n't`: the word ends one letter early (`is|n't`, `ca|n't`).
        if end >= start + 2
            && matches!(self.at(end - 1), Some('n' | 'N'))
            && self.at(end) == Some('\'')
            && matches!(self.at(end + 1), Some('t' | 'T'))
            && !self.at(end + 2).is_some_and(char::is_alphanumeric)
        {
            self.emit(start, end - 1);
            self.emit(end - 1, end + 2);
            self.pos = end + 2;
            return;
        }
        if self.at(end) == Some('.') && self.keeps_period(start, end) {
            end += 1;
        }
        self.emit(start, end);
        self.pos = end;
    }

    /// End of a word: letters and digits, joined by `-` (between letters or digits),
    /// `.` before a letter (after a letter-initial part), `. , :` between digits,
    /// `/` between words, `&` between upper-case letters, and internal apostrophes
    /// that are not clitics (`o'clock`).
    fn word_core(&self, start: usize) -> usize {
        let alnum = |i: usize| self.at(i).is_some_and(char::is_alphanumeric);
        let mut i = start;
        let mut part_is_number = false;
        loop {
            // One part: a run of letters/digits (a number part stops at letters).
            let part_start = i;
            if part_is_number {
                while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            } else {
                while alnum(i) {
                    i += 1;
                }
            }
            let part_all_digits = self.chars[part_start..i].iter().all(|c| c.is_ascii_digit());
            let Some(sep) = self.at(i) else { return i };
            let next = self.at(i + 1);
            let prev = self.chars[i - 1];
            let joins = match sep {
                '-' => next.is_some_and(char::is_alphanumeric),
                '.' => {
                    (next.is_some_and(char::is_alphabetic) && !self.starts_with_digit(start))
                        || (part_all_digits && next.is_some_and(|c| c.is_ascii_digit()))
                }
                ',' | ':' => part_all_digits && next.is_some_and(|c| c.is_ascii_digit()),
                '/' => {
                    let so_far = &self.chars[start..i];
                    next.is_some_and(|c| c.is_ascii_alphanumeric())
                        && so_far
                            .iter()
                            .all(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '/')
                        && so_far.iter().filter(|c| **c == '/').count() < 2
                }
                '&' => prev.is_uppercase() && next.is_some_and(char::is_uppercase),
                '\'' => {
                    next.is_some_and(char::is_alphabetic) && !self.clitic_at(i) && {
                        // o'clock, ma'am, o'neill: not a clitic and not `n't`.
                        !(matches!(prev, 'n' | 'N') && matches!(next, Some('t' | 'T')))
                    }
                }
                _ => false,
            };
            if !joins {
                return i;
            }
            part_is_number = matches!(sep, '.' | ',' | ':') && part_all_digits;
            i += 1;
        }
    }

    fn starts_with_digit(&self, start: usize) -> bool {
        self.at(start).is_some_and(|c| c.is_ascii_digit())
    }

    /// Whether `'` at `i` starts a clitic (`'s 'm 'd 're 've 'll`, `'n'`) followed by a
    /// non-letter.
    fn clitic_at(&self, i: usize) -> bool {
        let end = self.alpha_run(i + 1);
        let word: String = self.chars[i + 1..end].iter().collect::<String>();
        let lower = word.to_lowercase();
        let after = self.at(end);
        (lower == "n" && after == Some('\''))
            || (CLITICS.contains(&lower.as_str()) && !after.is_some_and(char::is_alphanumeric))
    }

    /// Whether the word `start..end`, followed by a period, keeps it.
    fn keeps_period(&self, start: usize, end: usize) -> bool {
        let word: String = self.chars[start..end].iter().collect::<String>();
        let lower = word.to_lowercase();
        if is_acronym(&lower)
            || ABBREVIATIONS.contains(&lower.as_str())
            || CAPITALIZED_ABBREVIATIONS.contains(&word.as_str())
        {
            return true;
        }
        if NUMBER_ABBREVIATIONS.contains(&lower.as_str()) {
            if matches!(self.at(end + 1), Some(',' | ';' | ':')) {
                return true;
            }
            let i = if self.at(end + 1) == Some(' ') {
                end + 2
            } else {
                end + 1
            };
            return self.at(i).is_some_and(|c| c.is_ascii_digit());
        }
        false
    }

    /// URLs (`http://...`, `www....`) and e-mail addresses, up to the next space,
    /// without trailing punctuation.
    fn url_or_email(&self, start: usize) -> Option<usize> {
        let mut end = start;
        while self.at(end).is_some_and(|c| c != ' ') {
            end += 1;
        }
        let chunk_chars = &self.chars[start..end];
        let may_be_url = matches!(chunk_chars[0], 'h' | 'H' | 'f' | 'F' | 'w' | 'W');
        if !may_be_url && !chunk_chars.contains(&'@') {
            return None;
        }
        let chunk: String = chunk_chars.iter().collect();
        let lower = chunk.to_lowercase();
        let is_url = ["http://", "https://", "ftp://", "www."]
            .iter()
            .any(|p| lower.starts_with(p));
        let is_email = chunk.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty()
                && user
                    .chars()
                    .all(|c| c.is_alphanumeric() || "._%+-".contains(c))
                && host.contains('.')
                && host.chars().next().is_some_and(char::is_alphanumeric)
        });
        if !is_url && !is_email {
            return None;
        }
        while end > start
            && self
                .at(end - 1)
                .is_some_and(|c| ".,!?;:'\")]}".contains(c) || c == '-')
        {
            end -= 1;
        }
        Some(end)
    }
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> String {
        ptb_tokens(s).join(" ")
    }

    #[test]
    fn splits_clitics_and_negations_like_the_java_tokenizer() {
        assert_eq!(
            tokens("isn't aren't can't won't i'd've dogs' the man's"),
            "is n't are n't ca n't wo n't i 'd 've dogs ' the man 's"
        );
        assert_eq!(
            tokens("Cannot gonna 'tis y'all o'clock rock'n'roll '90s"),
            "can not gon na 't is y' all o'clock rock 'n' roll '90s"
        );
    }

    #[test]
    fn keeps_numbers_hyphens_and_acronyms_together() {
        assert_eq!(
            tokens("A 5-year-old, 1,000 dogs at 10:30 in the U.S. e.g. 3.5 mph."),
            "a 5-year-old , 1,000 dogs at 10:30 in the u.s. e.g. 3.5 mph ."
        );
        assert_eq!(
            tokens("1.5kg 3rd 5pm dogs:cats"),
            "1.5 kg 3rd 5pm dogs : cats"
        );
    }

    #[test]
    fn removes_the_coco_punctuation_but_keeps_lower_cased_brackets() {
        assert_eq!(
            coco_tokenize("A dog (brown) -- \"running\"... fast!! Yes!"),
            "a dog -lrb- brown -rrb- running fast !! yes"
        );
        assert_eq!(coco_tokenize(""), "");
        assert_eq!(coco_tokenize(" . , ; "), "");
    }
}
