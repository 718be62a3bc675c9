//! Several reports combined into one.

use super::outline::level_of;
use super::{Block, Document};

/// One document holding `docs` as parts: a table of contents linking to
/// each part, then each part's title as a level-2 heading followed by its
/// blocks, headings one level deeper. The parts' own contents blocks are
/// dropped: the combined document has one, at its top.
pub fn concat(title: impl Into<String>, docs: &[Document]) -> Document {
    let mut out = Document::new(title);
    out.push(Block::Contents { max_level: 2 });
    for doc in docs {
        out.push(Block::Heading(2, doc.title.clone()));
        for block in &doc.blocks {
            match block {
                Block::Heading(level, text) => {
                    out.push(Block::Heading(
                        level_of(level.saturating_add(1)),
                        text.clone(),
                    ));
                }
                Block::Contents { .. } => {}
                _ => {
                    out.push(block.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_become_sections_under_one_contents() {
        let mut a = Document::new("MNIST");
        a.push(Block::Contents { max_level: 3 })
            .push(Block::Heading(2, "PSNR".into()))
            .push(Block::Heading(6, "deep".into()));
        let mut b = Document::new("CelebA");
        b.push(Block::Paragraph("p".into()));
        let all = concat("All", &[a, b]);
        assert_eq!(all.title, "All");
        assert_eq!(
            all.blocks,
            [
                Block::Contents { max_level: 2 },
                Block::Heading(2, "MNIST".into()),
                Block::Heading(3, "PSNR".into()),
                Block::Heading(6, "deep".into()),
                Block::Heading(2, "CelebA".into()),
                Block::Paragraph("p".into()),
            ]
        );
    }
}
