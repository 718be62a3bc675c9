//! Anchor ids for the title and headings, and the contents they make.

use std::collections::BTreeSet;

use super::{Block, Document};

/// The anchor id of the title and of each heading block.
pub(crate) struct Outline {
    pub title_id: String,
    /// By block index; `None` for blocks that are not headings.
    ids: Vec<Option<String>>,
}

/// One entry of a table of contents.
pub(crate) struct Entry<'d> {
    pub level: u8,
    pub text: &'d str,
    pub id: &'d str,
}

impl Outline {
    /// Ids are made the way GitHub makes them (lower case, punctuation
    /// dropped, spaces to `-`, repeats suffixed `-1`, `-2`, ...) so the
    /// Markdown's links work there as well as in the HTML.
    pub(crate) fn of(doc: &Document) -> Outline {
        let mut taken = BTreeSet::new();
        let title_id = unique(slug(&doc.title), &mut taken);
        let ids = doc
            .blocks
            .iter()
            .map(|block| match block {
                Block::Heading(_, text) => Some(unique(slug(text), &mut taken)),
                _ => None,
            })
            .collect();
        Outline { title_id, ids }
    }

    pub(crate) fn id(&self, block: usize) -> Option<&str> {
        self.ids.get(block)?.as_deref()
    }

    /// The headings of `doc` (this outline's document) of level `max_level`
    /// or less, in order.
    pub(crate) fn contents<'d>(&'d self, doc: &'d Document, max_level: u8) -> Vec<Entry<'d>> {
        doc.blocks
            .iter()
            .zip(&self.ids)
            .filter_map(|(block, id)| match (block, id) {
                (Block::Heading(level, text), Some(id)) if level_of(*level) <= max_level => {
                    Some(Entry {
                        level: level_of(*level),
                        text,
                        id,
                    })
                }
                _ => None,
            })
            .collect()
    }
}

/// A heading level as rendered: 1 to 6.
pub(crate) fn level_of(level: u8) -> u8 {
    level.clamp(1, 6)
}

fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            _ if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

fn unique(slug: String, taken: &mut BTreeSet<String>) -> String {
    // An HTML id must not be empty; GitHub would leave it so.
    let base = if slug.is_empty() {
        "section".to_string()
    } else {
        slug
    };
    let mut id = base.clone();
    let mut n = 0;
    while !taken.insert(id.clone()) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_github_and_are_unique() {
        let mut doc = Document::new("Results");
        doc.push(Block::Heading(2, "PSNR: γ = 0.5!".into()))
            .push(Block::Paragraph("text".into()))
            .push(Block::Heading(2, "Results".into()))
            .push(Block::Heading(3, "?!".into()));
        let outline = Outline::of(&doc);
        assert_eq!(outline.title_id, "results");
        assert_eq!(outline.id(0), Some("psnr-γ--05"));
        assert_eq!(outline.id(1), None);
        assert_eq!(outline.id(2), Some("results-1"));
        assert_eq!(outline.id(3), Some("section"));
        let contents: Vec<&str> = outline.contents(&doc, 2).iter().map(|e| e.id).collect();
        assert_eq!(contents, ["psnr-γ--05", "results-1"]);
    }
}
