//! A deterministic job-feed generator for tests and benches: the same seed gives the same bytes
//! on every machine.
//!
//! Records look like a job board's: a `@status` attribute, a `<reference>` id, a CDATA title, text
//! with entities and non-ASCII letters, an attribute-bearing `<salary>`, repeated `<category>`,
//! and a CDATA HTML description (about 2.5 KB a record on average). With [`GenOptions::tricky`]
//! every few records also carry the constructs a fast scanner gets wrong: `</job>` inside CDATA,
//! comments and processing instructions, a nested element named `job`, a namespaced element,
//! `>` inside an attribute value; the document gets a DOCTYPE with an internal subset.
//!
//! A second version of a feed ([`Revision`]) changes, removes and adds a given share of records,
//! and tells which ids it touched, so tests know the exact diff to expect.
//!
//! The text is drawn from a fixed vocabulary of pseudo-words, uniformly by default (long records
//! gzip about 3.3:1) or, with [`GenOptions::natural`], by a Zipf law as natural language is (about
//! 5.3:1, as real job feeds): benchmarks whose baseline is inflating the feed want the latter.

use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// PRNG seed.
    pub seed: u64,
    /// Records in the base version.
    pub records: u64,
    /// Add the tricky constructs (see the module documentation).
    pub tricky: bool,
    /// Start with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Use CRLF line endings.
    pub crlf: bool,
    /// Short records (about 230 bytes: id, title, city, salary, a one-sentence summary, and
    /// with `tricky` a CDATA note holding `</job>` every seventh record) for feeds of millions
    /// of records.
    pub short: bool,
    /// Draw the words of the text by a Zipf law (the word of rank `r` is `r^1.4375` times rarer
    /// than the most common one), as natural language has them, instead of uniformly from the
    /// vocabulary. Long records then gzip like real job feeds: about 5.3:1 at level 6 (2,370
    /// bytes a record), against 3.3:1 with uniform words.
    pub natural: bool,
}

impl GenOptions {
    /// `records` records from `seed`, tricky constructs on, LF, no BOM.
    pub fn new(seed: u64, records: u64) -> GenOptions {
        GenOptions {
            seed,
            records,
            tricky: true,
            bom: false,
            crlf: false,
            short: false,
            natural: false,
        }
    }
}

/// A second version of a feed: shares in basis points (1/100 of a percent) of the base
/// records that are changed, removed, and (as new records) added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    /// Seed of the revision's choices.
    pub seed: u64,
    /// Changed records, basis points.
    pub changed_bp: u32,
    /// Removed records, basis points.
    pub removed_bp: u32,
    /// Added records, basis points of the base count.
    pub added_bp: u32,
}

/// What happens to base record `i` in a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Same bytes.
    Kept,
    /// Different content, same id.
    Changed,
    /// Gone.
    Removed,
}

impl Revision {
    /// The fate of base record `i`.
    pub fn fate(&self, i: u64) -> Fate {
        let r = mix(self.seed ^ 0x5eed_0001, i) % 10_000;
        if r < u64::from(self.removed_bp) {
            Fate::Removed
        } else if r < u64::from(self.removed_bp + self.changed_bp) {
            Fate::Changed
        } else {
            Fate::Kept
        }
    }

    /// Whether a new record (index `records + i`) is added after base record `i`.
    pub fn adds_after(&self, i: u64) -> bool {
        mix(self.seed ^ 0x5eed_0002, i) % 10_000 < u64::from(self.added_bp)
    }
}

/// The id of generated record `i`.
pub fn record_id(i: u64) -> String {
    format!("JOB-{i:08}")
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes the base version of a feed.
pub fn write_feed<W: Write>(w: W, opts: &GenOptions) -> io::Result<GenStats> {
    write_revision(w, opts, None)
}

/// Writes a feed: the base version, or with `revision` applied.
pub fn write_revision<W: Write>(
    w: W,
    opts: &GenOptions,
    revision: Option<&Revision>,
) -> io::Result<GenStats> {
    let mut out = Out {
        w,
        crlf: opts.crlf,
        stats: GenStats::default(),
        line: Vec::with_capacity(8 << 10),
    };
    if opts.bom {
        out.raw(&[0xEF, 0xBB, 0xBF])?;
    }
    out.put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if opts.tricky {
        out.put("<!DOCTYPE source [\n  <!ENTITY lol \"lol\">\n  <!-- a ] inside a comment --> <!ENTITY gt2 \"]>\">\n]>\n");
        out.put("<?feed-generator name=\"feedpipe\"?>\n");
    }
    out.put("<source xmlns:g=\"http://base.google.com/ns/1.0\">\n  <publisher>feedpipe generator</publisher>\n  <lastBuildDate>Mon, 23 Nov 2026 06:00:00 GMT</lastBuildDate>\n");
    if opts.tricky {
        out.put("  <jobs>\n");
    }
    for i in 0..opts.records {
        let variant = match revision.map(|r| r.fate(i)) {
            Some(Fate::Removed) => None,
            Some(Fate::Changed) => Some(1),
            _ => Some(0),
        };
        if let Some(v) = variant {
            record(&mut out, opts, i, v)?;
        }
        if revision.is_some_and(|r| r.adds_after(i)) {
            record(&mut out, opts, opts.records + i, 0)?;
        }
    }
    if opts.tricky {
        out.put("  </jobs>\n  <!-- </source> in a comment -->\n");
    }
    out.put("</source>\n");
    out.flush()?;
    Ok(out.stats)
}

struct Out<W: Write> {
    w: W,
    crlf: bool,
    stats: GenStats,
    line: Vec<u8>,
}

impl<W: Write> Out<W> {
    fn put(&mut self, s: &str) {
        if self.crlf {
            for (k, part) in s.split('\n').enumerate() {
                if k > 0 {
                    self.line.extend_from_slice(b"\r\n");
                }
                self.line.extend_from_slice(part.as_bytes());
            }
        } else {
            self.line.extend_from_slice(s.as_bytes());
        }
    }

    fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.line.extend_from_slice(b);
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.write_all(&self.line)?;
        self.stats.bytes += self.line.len() as u64;
        self.line.clear();
        Ok(())
    }
}

const TITLES: &[&str] = &[
    "Senior Rust Engineer",
    "Data Analyst",
    "Site Reliability Engineer",
    "Product Manager",
    "Backend Developer (m/f/d)",
    "Pflegefachkraft",
    "Ingénieur logiciel",
    "UX Designer",
    "Warehouse Operative",
    "Account Executive",
    "Électricien",
    "Büroassistenz",
];
const COMPANIES: &[&str] = &[
    "Example Systems",
    "Müller &amp; Söhne GmbH",
    "Façade Ltd",
    "Nordlicht AG",
    "Acme &lt;Labs&gt;",
    "Åkesson AB",
    "Grupo Señal",
    "Ōsaka Works",
];
const CITIES: &[&str] = &[
    "Berlin",
    "München",
    "Lisboa",
    "Zürich",
    "Kraków",
    "Göteborg",
    "São Paulo",
    "Dublin",
];
const CATEGORIES: &[&str] = &[
    "Engineering",
    "Data",
    "Operations",
    "Sales",
    "Health",
    "Logistics",
];
const SENTENCES: &[&str] = &[
    "We build streaming systems that keep millions of records in step every day.",
    "You will own services end to end, from design to on-call, with a team that cares.",
    "Flexible hours, a learning budget & 30 days of holiday — because rest matters.",
    "Experience with distributed systems, queues or databases is a plus.",
    "Wir freuen uns auf Ihre Bewerbung über unser Karriereportal.",
    "Nous offrons un environnement de travail stimulant et bienveillant.",
    "Salary depends on experience; the range is shown in the listing.",
    "Our office is close to public transport and has bike parking.",
];

fn record<W: Write>(out: &mut Out<W>, opts: &GenOptions, i: u64, variant: u64) -> io::Result<()> {
    let mut rng = Rng(mix(opts.seed, i));
    let pick = |rng: &mut Rng, list: &'static [&'static str]| {
        list[(rng.next() % list.len() as u64) as usize]
    };
    let tricky = opts.tricky && i % 7 == 3;
    let status = if variant == 0 { "active" } else { "updated" };
    if opts.short {
        return short_record(out, &mut rng, i, variant, tricky, opts.natural);
    }
    out.put(&format!(
        "  <job status=\"{status}\">\n    <reference>{}</reference>\n",
        record_id(i)
    ));
    out.put(&format!(
        "    <title><![CDATA[{}]]></title>\n",
        pick(&mut rng, TITLES)
    ));
    out.put(&format!(
        "    <company>{}</company>\n",
        pick(&mut rng, COMPANIES)
    ));
    out.put(&format!(
        "    <city>{}</city>\n    <country>DE</country>\n",
        pick(&mut rng, CITIES)
    ));
    out.put(&format!(
        "    <date>2026-11-{:02}</date>\n",
        1 + rng.next() % 28
    ));
    let salary = 30_000 + (rng.next() % 90) * 1000 + variant * 500;
    out.put(&format!(
        "    <salary currency=\"EUR\" period=\"year\">{salary}</salary>\n"
    ));
    out.put(&format!(
        "    <url>https://example.com/jobs/{i}?src=feed&amp;lang=de</url>\n"
    ));
    out.put("    <description><![CDATA[");
    let paragraphs = 4 + rng.next() % 6;
    let mut text = String::with_capacity(512);
    for p in 0..paragraphs {
        text.clear();
        text.push_str("<p>");
        for _ in 0..2 + rng.next() % 4 {
            sentence(&mut rng, &mut text, opts.natural);
        }
        if rng.next().is_multiple_of(4) {
            text.push_str(pick(&mut rng, SENTENCES));
        }
        text.push_str("</p>\n");
        out.put(&text);
        if tricky && p == 0 {
            out.put("<p>HTML may close tags like </job> or </description> inside CDATA.</p>");
        }
    }
    out.put("]]></description>\n");
    for _ in 0..1 + rng.next() % 3 {
        out.put(&format!(
            "    <category>{}</category>\n",
            pick(&mut rng, CATEGORIES)
        ));
    }
    if tricky {
        out.put("    <!-- a comment with </job> and <job> in it -->\n");
        out.put("    <?tracking id=\"x</job>\"?>\n");
        out.put(&format!(
            "    <link rel=\"alternate\" title=\"a > b &amp; c\" href='/jobs/{i}'/>\n"
        ));
        out.put(&format!("    <g:price>{salary} EUR</g:price>\n"));
        out.put("    <related><job><reference>NESTED-1</reference></job></related>\n");
        out.put("    <note>caf&#xE9; &#8364;5 &lt;ok&gt; &quot;q&quot; &apos;a&apos;</note>\n");
    }
    out.put("  </job>\n");
    out.stats.records += 1;
    if out.line.len() >= 64 << 10 {
        out.flush()?;
    }
    Ok(())
}

/// A short record on one line.
fn short_record<W: Write>(
    out: &mut Out<W>,
    rng: &mut Rng,
    i: u64,
    variant: u64,
    tricky: bool,
    natural: bool,
) -> io::Result<()> {
    let status = if variant == 0 { "active" } else { "updated" };
    let title = TITLES[(rng.next() % TITLES.len() as u64) as usize];
    let city = CITIES[(rng.next() % CITIES.len() as u64) as usize];
    let salary = 30_000 + (rng.next() % 90) * 1000 + variant * 500;
    let note = if tricky {
        "<note><![CDATA[</job>]]></note>"
    } else {
        ""
    };
    let mut summary = String::with_capacity(128);
    sentence(rng, &mut summary, natural);
    out.put(&format!(
        "  <job status=\"{status}\"><reference>{}</reference><title>{title}</title><city>{city}</city><salary currency=\"EUR\">{salary}</salary><summary>{}</summary>{note}</job>\n",
        record_id(i),
        summary.trim_end()
    ));
    out.stats.records += 1;
    if out.line.len() >= 64 << 10 {
        out.flush()?;
    }
    Ok(())
}

/// Syllables of the generated words.
const SYLLABLES: &[&str] = &[
    "ka", "re", "mon", "ti", "lo", "sa", "ber", "en", "ver", "ga", "di", "stra", "ne", "pu", "fo",
    "li", "an", "ter", "co", "mi", "de", "ro", "un", "ha", "bel", "qui", "to", "sen", "ar", "vi",
    "ü", "é", "ça", "ø", "ß", "ño", "pla", "ex", "zi", "wo", "ly", "tor", "ment", "ing", "ist",
    "ion", "ur", "ak",
];

/// A fixed vocabulary of 2048 pseudo-words: text drawn from it compresses about as well as
/// real job descriptions (about 5:1 with gzip -6), unlike repeated sentences (30:1 and more).
fn vocabulary() -> &'static [String] {
    static WORDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut rng = Rng(0x00C0_FFEE);
        (0..2048)
            .map(|_| {
                let n = 1 + rng.next() % 3;
                (0..n)
                    .map(|_| SYLLABLES[(rng.next() % SYLLABLES.len() as u64) as usize])
                    .collect()
            })
            .collect()
    })
}

/// A sentence of 6 to 17 vocabulary words, sometimes with a number.
fn sentence(rng: &mut Rng, out: &mut String, natural: bool) {
    let words = vocabulary();
    for k in 0..6 + rng.next() % 12 {
        if k > 0 {
            out.push(' ');
        }
        let w = &words[if natural {
            zipf_rank(rng.next())
        } else {
            (rng.next() % words.len() as u64) as usize
        }];
        if k == 0 {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                out.extend(first.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(w);
        }
        if rng.next().is_multiple_of(16) {
            out.push_str(&format!(" {}", rng.next() % 10_000));
        }
    }
    out.push_str(". ");
}

/// The rank of a word drawn by a Zipf law from a uniform `draw`: rank `r` (from 0) comes
/// `(r + 1)^1.4375` times less often than rank 0. The exponent makes long records gzip about
/// 5.3:1, as the job feed of the project's performance notes does (511 MB of XML, 97 MB gz);
/// it is 1 + 1/4 + 1/8 + 1/16 so that the weights take only square roots, products and
/// quotients, which IEEE 754 rounds alike on every machine (`powf` need not).
fn zipf_rank(draw: u64) -> usize {
    static CUMULATIVE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let cumulative = CUMULATIVE.get_or_init(|| {
        let mut sum = 0.0;
        (0..vocabulary().len())
            .map(|r| {
                let x = (r + 1) as f64;
                let q4 = x.sqrt().sqrt();
                let q8 = q4.sqrt();
                sum += 1.0 / (x * q4 * q8 * q8.sqrt());
                sum
            })
            .collect()
    });
    let total = cumulative.last().copied().unwrap_or(1.0);
    let x = (draw >> 11) as f64 / (1u64 << 53) as f64 * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len() - 1)
}

/// SplitMix64 finaliser over a seed and an index.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0, 0)
    }
}

/// A gzip writer (level 6, as `gzip` uses by default) for generated feeds.
pub struct GzWriter<W: Write>(flate2::write::GzEncoder<W>);

impl<W: Write> GzWriter<W> {
    /// Compresses into `w`.
    pub fn new(w: W) -> GzWriter<W> {
        GzWriter(flate2::write::GzEncoder::new(
            w,
            flate2::Compression::new(6),
        ))
    }

    /// Writes the gzip trailer and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.0.finish()
    }
}

impl<W: Write> Write for GzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `bytes` gzipped (level 6).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut w = GzWriter::new(Vec::with_capacity(bytes.len() / 4));
    // Writing to a Vec cannot fail.
    let _ = w.write_all(bytes);
    w.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(natural: bool) -> Vec<u8> {
        let mut o = GenOptions::new(42, 2000);
        o.natural = natural;
        let mut v = Vec::new();
        write_feed(&mut v, &o).unwrap();
        v
    }

    #[test]
    fn natural_text_gzips_like_a_job_feed() {
        let (uniform, natural) = (generate(false), generate(true));
        let ratio = |v: &[u8]| v.len() as f64 / gzip(v).len() as f64;
        let (u, n) = (ratio(&uniform), ratio(&natural));
        assert!((3.0..3.7).contains(&u), "uniform words: {u:.2}");
        assert!((5.0..5.6).contains(&n), "natural words: {n:.2}");
        // The most common word is about a third of all (1 / the sum of 1 / r^1.4375).
        let ranks: Vec<usize> = (0..10_000u64).map(|i| zipf_rank(mix(9, i))).collect();
        let top = ranks.iter().filter(|&&r| r == 0).count();
        assert!((3_200..3_900).contains(&top), "{top}");
        assert!(ranks.iter().all(|&r| r < vocabulary().len()));
        assert_eq!(generate(true), natural, "deterministic");
    }
}
