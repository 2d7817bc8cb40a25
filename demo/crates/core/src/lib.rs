//! The demo workspace's library crate: a tiny tokenizer and a word counter.

/// Splits text into lower-case words.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Counts how often each word occurs, most frequent first (ties in alphabetical order).
pub fn word_counts(text: &str) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for w in tokenize(text) {
        *counts.entry(w).or_insert(0usize) += 1;
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        assert_eq!(word_counts("a b a")[0], ("a".to_string(), 2));
    }
}
