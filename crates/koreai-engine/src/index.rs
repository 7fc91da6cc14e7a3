//! A TF-IDF index over short texts (training utterances, FAQ questions) answering cosine
//! similarity, best document per label.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Index {
    vocabulary: HashMap<String, u32>,
    /// Documents' raw term counts, until [`Index::finish`].
    pending: Vec<(usize, HashMap<u32, f32>)>,
    /// term → (document, weight of the term in the normalised document vector).
    postings: Vec<Vec<(u32, f32)>>,
    idf: Vec<f32>,
    labels: Vec<usize>,
}

impl Index {
    /// Adds a document (its analysed terms) under `label`.
    pub fn add(&mut self, label: usize, terms: &[String]) {
        if terms.is_empty() {
            return;
        }
        let mut counts = HashMap::new();
        for term in terms {
            let next = self.vocabulary.len() as u32;
            let id = *self.vocabulary.entry(term.clone()).or_insert(next);
            *counts.entry(id).or_insert(0.0) += 1.0;
        }
        self.pending.push((label, counts));
    }

    /// Computes weights; call once after the last [`Index::add`].
    pub fn finish(&mut self) {
        let docs = self.pending.len() as f32;
        let mut df = vec![0f32; self.vocabulary.len()];
        for (_, counts) in &self.pending {
            for &t in counts.keys() {
                df[t as usize] += 1.0;
            }
        }
        self.idf = df.iter().map(|&d| ((docs + 1.0) / (d + 1.0)).ln() + 1.0).collect();
        self.postings = vec![Vec::new(); self.vocabulary.len()];
        for (doc, (label, counts)) in std::mem::take(&mut self.pending).into_iter().enumerate() {
            let weights: Vec<(u32, f32)> =
                counts.iter().map(|(&t, &c)| (t, (1.0 + c.ln()) * self.idf[t as usize])).collect();
            let norm = weights.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(f32::EPSILON);
            for (t, w) in weights {
                self.postings[t as usize].push((doc as u32, w / norm));
            }
            self.labels.push(label);
        }
    }

    /// Labels with their best cosine similarity to `terms`, best first. Terms the index has
    /// never seen count in the query's length, so unknown words lower the score.
    pub fn search(&self, terms: &[String]) -> Vec<(usize, f32)> {
        let mut counts: HashMap<Option<u32>, (f32, f32)> = HashMap::new();
        let unseen_idf = ((self.labels.len() as f32 + 1.0).ln() + 1.0).max(1.0);
        for term in terms {
            let id = self.vocabulary.get(term).copied();
            let idf = id.map_or(unseen_idf, |t| self.idf[t as usize]);
            let entry = counts.entry(id).or_insert((0.0, idf));
            entry.0 += 1.0;
        }
        // Unseen words are distinct terms: weigh each one separately.
        let mut norm = 0f32;
        let mut query = Vec::new();
        for term in terms {
            if !self.vocabulary.contains_key(term) {
                norm += unseen_idf * unseen_idf;
            }
        }
        for (id, (count, idf)) in &counts {
            if let Some(t) = id {
                let w = (1.0 + count.ln()) * idf;
                norm += w * w;
                query.push((*t, w));
            }
        }
        let norm = norm.sqrt().max(f32::EPSILON);
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (t, w) in query {
            for &(doc, dw) in &self.postings[t as usize] {
                *scores.entry(doc).or_insert(0.0) += dw * w / norm;
            }
        }
        let mut best: HashMap<usize, f32> = HashMap::new();
        for (doc, score) in scores {
            let label = self.labels[doc as usize];
            let slot = best.entry(label).or_insert(0.0);
            *slot = slot.max(score.min(1.0));
        }
        let mut out: Vec<(usize, f32)> = best.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn best_label_first() {
        let mut index = Index::default();
        index.add(0, &terms("get weather forecast"));
        index.add(0, &terms("is it raining"));
        index.add(1, &terms("pay my bill"));
        index.finish();
        let found = index.search(&terms("get weather forecast"));
        assert_eq!(found[0].0, 0);
        assert!(found[0].1 > 0.99);
        let found = index.search(&terms("pay bill now"));
        assert_eq!(found[0].0, 1);
        assert!(found[0].1 < 0.99);
        assert!(index.search(&terms("xyzzy plugh")).is_empty());
    }
}
