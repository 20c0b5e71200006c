//! LATENCY GRAPH's drawing: an ASCII sparkline of an event's samples, four rows high, with
//! each sample's age written down under it, as Redis's `sparkline.c` draws it (filled mode).

/// Levels within a row, low to high.
const FILL: [u8; 3] = *b"_o#";
/// Blank lines between the graph and the labels.
const LABEL_MARGIN: usize = 1;

/// Draws `samples` (value, label) in blocks of `columns`, each `rows` high.
pub fn render(samples: &[(f64, String)], columns: usize, rows: usize) -> String {
    let mut out = String::new();
    let (min, max) = samples
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &(v, _)| {
            (lo.min(v), hi.max(v))
        });
    // Label rows are drawn when any sample of the series has a label.
    let labelled = samples.iter().any(|(_, label)| !label.is_empty());
    for (n, block) in samples.chunks(columns.max(1)).enumerate() {
        if n > 0 {
            out.push('\n');
        }
        render_block(&mut out, block, (min, max), rows, labelled);
    }
    out
}

fn render_block(
    out: &mut String,
    block: &[(f64, String)],
    (min, max): (f64, f64),
    rows: usize,
    labelled: bool,
) {
    let range = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = FILL.len() * rows;
    // Each sample's height in steps: the truncated share of the range, as Redis computes it
    // (`(int)(relval*steps)/relmax`).
    let heights: Vec<usize> = block
        .iter()
        .map(|&(v, _)| {
            let step = (((v - min) * steps as f64) as i64) as f64 / range;
            (step as i64).clamp(0, steps as i64 - 1) as usize
        })
        .collect();
    for row in 0..rows {
        let line: String = heights
            .iter()
            .map(|&step| {
                let level = step as i64 - ((rows - row - 1) * FILL.len()) as i64;
                match level {
                    l if l < 0 => ' ',
                    l if (l as usize) < FILL.len() => FILL[l as usize] as char,
                    _ => '|',
                }
            })
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
    if !labelled {
        return;
    }
    for _ in 0..LABEL_MARGIN {
        out.push_str(&" ".repeat(block.len()));
        out.push('\n');
    }
    let longest = block.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for i in 0..longest {
        let line: String = block
            .iter()
            .map(|(_, label)| label.as_bytes().get(i).map_or(' ', |&b| b as char))
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[f64]) -> Vec<(f64, String)> {
        values.iter().map(|&v| (v, format!("{v}s"))).collect()
    }

    #[test]
    fn draws_heights_and_labels_downwards() {
        let graph = render(&samples(&[1.0, 12.0, 6.0]), 80, 4);
        // 12 is the top (step 11 of 12): '#' over bars; 6 is step 5; 1 the bottom.
        let expected = [" # ", " | ", " |#", "_||", "   ", "116", "s2s", " s ", ""].join("\n");
        assert_eq!(graph, expected);
    }

    #[test]
    fn equal_samples_sit_at_the_bottom() {
        let graph = render(&[(5.0, String::new()), (5.0, String::new())], 80, 2);
        assert_eq!(graph, "  \n__\n");
    }

    #[test]
    fn long_series_wrap_in_blocks() {
        let values: Vec<(f64, String)> = (0..5).map(|v| (v as f64, String::new())).collect();
        assert_eq!(render(&values, 3, 1), "__o\n\n##\n");
    }
}
