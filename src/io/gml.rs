//! GML import and export (networkx `write_gml`, igraph `write_gml`, Gephi, yEd).
//!
//! The reader is a tokenizer (keys, integers, reals, quoted strings with GML's `&amp;`,
//! `&quot;`, `&lt;`, `&gt;`, `&apos;` and `&#NNN;`/`&#xHH;` character entities, `#` comments)
//! and a parser with an explicit stack of `[ ]` lists, its depth bounded by `max_json_depth`,
//! so no file can exhaust the stack. It reads `graph [ directed 0|1 node [ id .. ] edge [
//! source .. target .. ] ]`: a node's `id` is its source id, its `label` its label (networkx
//! writes the name the node had there as its label, which is kept); every other scalar key is
//! an attribute, numbers as numeric keys so `weight` is a weight. Nested lists inside a node
//! or an edge (`graphics [ x y w h ]`, yEd's `LabelGraphics`) are layout and are skipped, and
//! the import report says how many. A multigraph's edge `key` only tells parallel edges
//! apart, which our links are anyway, and is not kept. Per-edge `directed` is not GML: the
//! graph's `directed` decides (our own files mark undirected links of a mixed graph with
//! `copkit_directed 0`, which is read back).
//!
//! The writer follows the GraphML writer: nodes with integer ids (as GML and igraph require),
//! label, type, typed attribute columns, and grading, provenance and exact attributes as
//! `copkit_*` strings holding JSON; links and events as edges (events with `copkit_start`,
//! one-sided ones to the outside node). Text is written as 7-bit ASCII with character
//! entities, as the GML specification asks.

use super::export::Selection;
use super::graphflat::{
    FlatGraph, KeyTable, Value, check_field, check_rows, flatten, says_undirected, undirected_note,
    unique_labels, write_new,
};
use super::graphml::{GraphOptions, Item, Parsed, import_parsed};
use super::{ImportReport, IoError, Limits, RowProblem};
use crate::jobs::CancelToken;
use crate::store::Case;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Key(String),
    Int(i64),
    Real(f64),
    Str(String),
    Open,
    Close,
}

struct Tokenizer<'a> {
    text: &'a [u8],
    pos: usize,
    line: u64,
    path: &'a Path,
    limits: &'a Limits,
}

impl<'a> Tokenizer<'a> {
    fn err(&self, line: u64, reason: String) -> IoError {
        IoError::Parse {
            path: self.path.to_path_buf(),
            location: format!("line {line}"),
            reason,
        }
    }

    /// The next token and the line it starts on; `None` at the end of the text.
    fn next(&mut self) -> Result<Option<(Token, u64)>, IoError> {
        // Whitespace and `#` comments.
        while let Some(&b) = self.text.get(self.pos) {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => {
                    while self.text.get(self.pos).is_some_and(|&c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let line = self.line;
        let Some(&b) = self.text.get(self.pos) else {
            return Ok(None);
        };
        let start = self.pos;
        let token = match b {
            b'[' => {
                self.pos += 1;
                Token::Open
            }
            b']' => {
                self.pos += 1;
                Token::Close
            }
            b'"' => {
                self.pos += 1;
                let body = self.pos;
                while let Some(&c) = self.text.get(self.pos) {
                    if c == b'"' {
                        break;
                    }
                    if c == b'\n' {
                        self.line += 1;
                    }
                    self.pos += 1;
                }
                if self.pos >= self.text.len() {
                    return Err(self.err(
                        line,
                        "a string opened here is never closed (the file is truncated or a quote is missing)".into(),
                    ));
                }
                check_field(self.path, self.limits, self.pos - body, line, "string")?;
                let raw = String::from_utf8_lossy(&self.text[body..self.pos]).into_owned();
                self.pos += 1;
                Token::Str(unescape(&raw))
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                while self
                    .text
                    .get(self.pos)
                    .is_some_and(|c| matches!(c, b'+' | b'-' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.pos += 1;
                }
                let word = String::from_utf8_lossy(&self.text[start..self.pos]).into_owned();
                if let Ok(i) = word.parse::<i64>() {
                    Token::Int(i)
                } else {
                    match word.parse::<f64>() {
                        Ok(r) if r.is_finite() => Token::Real(r),
                        _ => return Err(self.err(line, format!("'{word}' is not a number"))),
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while self
                    .text
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.pos += 1;
                }
                check_field(self.path, self.limits, self.pos - start, line, "key")?;
                Token::Key(String::from_utf8_lossy(&self.text[start..self.pos]).into_owned())
            }
            _ => {
                let c = std::str::from_utf8(&self.text[start..])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                return Err(self.err(
                    line,
                    format!(
                        "unexpected character '{c}' (GML has keys, numbers, quoted strings and [ ])"
                    ),
                ));
            }
        };
        Ok(Some((token, line)))
    }
}

/// GML's character entities: the XML five and numeric ones; any other `&name;` is kept as
/// written.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&j| j <= 12).and_then(|j| {
            let name = &rest[1..j];
            let c = match name {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .map_or_else(
                        || name.strip_prefix('#').and_then(|d| d.parse::<u32>().ok()),
                        |h| u32::from_str_radix(h, 16).ok(),
                    )
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &rest[j + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where the parser is: each open list is one of these.
enum Frame {
    Top,
    Graph,
    Node(Item),
    Edge(Item),
    /// A list whose content is not read (a second graph, `graphics`, top-level extras).
    Skip,
}

struct ParsedGml {
    parsed: Parsed,
    skipped_lists: usize,
}

fn scalar_text(t: &Token) -> String {
    match t {
        Token::Int(i) => i.to_string(),
        Token::Real(r) => r.to_string(),
        Token::Str(s) | Token::Key(s) => s.clone(),
        Token::Open | Token::Close => String::new(),
    }
}

fn parse(
    path: &Path,
    text: &str,
    limits: &Limits,
    cancel: &CancelToken,
) -> Result<ParsedGml, IoError> {
    let mut tok = Tokenizer {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
        path,
        limits,
    };
    let perr = |line: u64, reason: String| IoError::Parse {
        path: path.to_path_buf(),
        location: format!("line {line}"),
        reason,
    };
    let mut keys = KeyTable::default();
    let mut stack: Vec<(Frame, u64)> = vec![(Frame::Top, 1)];
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut directed = false;
    let mut saw_graph = false;
    let mut skipped_lists = 0usize;
    let mut tokens = 0u64;
    loop {
        tokens += 1;
        if tokens.is_multiple_of(65_536) {
            cancel.check().map_err(|_| IoError::Cancelled)?;
        }
        let Some((token, line)) = tok.next()? else {
            break;
        };
        let key = match token {
            Token::Close => {
                if stack.len() <= 1 {
                    return Err(perr(
                        line,
                        "a ']' closes a list that was never opened".into(),
                    ));
                }
                let Some((frame, _)) = stack.pop() else {
                    continue;
                };
                match frame {
                    Frame::Node(item) => {
                        if item.id.is_empty() {
                            return Err(perr(item.line, "a node has no id".into()));
                        }
                        nodes.push(item);
                    }
                    Frame::Edge(item) => {
                        for (end, field) in [(&item.source, "source"), (&item.target, "target")] {
                            if end.is_empty() {
                                return Err(perr(item.line, format!("an edge has no {field}")));
                            }
                        }
                        edges.push(item);
                    }
                    Frame::Top | Frame::Graph | Frame::Skip => {}
                }
                continue;
            }
            Token::Key(k) => k,
            other => {
                return Err(perr(
                    line,
                    format!("expected a key, found the value {}", scalar_text(&other)),
                ));
            }
        };
        let Some((value, _)) = tok.next()? else {
            return Err(perr(
                line,
                format!("the key '{key}' has no value: the file ends here (truncated?)"),
            ));
        };
        if value == Token::Close {
            return Err(perr(
                line,
                format!("the key '{key}' has no value before ']'"),
            ));
        }
        if let Token::Key(v) = &value {
            return Err(perr(
                line,
                format!(
                    "the key '{key}' is followed by the word '{v}': a value is a number, a quoted string or a [ list ]"
                ),
            ));
        }
        let frame = &mut stack
            .last_mut()
            .ok_or_else(|| perr(line, "unbalanced lists".into()))?
            .0;
        if value == Token::Open {
            let next = match (&*frame, key.as_str()) {
                (Frame::Top, "graph") if !saw_graph => {
                    saw_graph = true;
                    Frame::Graph
                }
                (Frame::Graph, "node" | "edge") => {
                    check_rows(path, limits, (nodes.len() + edges.len()) as u64 + 1, line)?;
                    let item = Item {
                        line,
                        ..Item::default()
                    };
                    if key == "node" {
                        Frame::Node(item)
                    } else {
                        Frame::Edge(item)
                    }
                }
                (Frame::Node(_) | Frame::Edge(_), _) => {
                    skipped_lists += 1;
                    Frame::Skip
                }
                _ => Frame::Skip,
            };
            stack.push((next, line));
            if stack.len() > limits.max_json_depth {
                return Err(IoError::Bound {
                    path: path.to_path_buf(),
                    bound: "max_json_depth",
                    detail: format!(
                        "GML lists nested deeper than {} at line {line}",
                        limits.max_json_depth
                    ),
                });
            }
            continue;
        }
        let numeric = matches!(value, Token::Int(_) | Token::Real(_));
        let v = scalar_text(&value);
        match frame {
            Frame::Graph if key == "directed" => directed = v != "0",
            Frame::Node(item) => {
                if key == "id" {
                    item.id = v;
                } else {
                    let id = keys.id(true, &key, numeric);
                    item.data.push((id, v, String::new()));
                }
            }
            Frame::Edge(item) => match key.as_str() {
                "source" => item.source = v,
                "target" => item.target = v,
                "key" => {}
                "copkit_directed" => item.directed = Some(!says_undirected(&v)),
                _ => {
                    let id = keys.id(false, &key, numeric);
                    item.data.push((id, v, String::new()));
                }
            },
            _ => {}
        }
    }
    if let Some((_, opened)) = stack.last().filter(|_| stack.len() > 1) {
        return Err(perr(
            tok.line,
            format!(
                "the file ends inside a list opened at line {opened} (it is truncated or a ']' is missing)"
            ),
        ));
    }
    if !saw_graph {
        return Err(IoError::WrongFormat {
            path: path.to_path_buf(),
            what: "a file without a GML 'graph [ ... ]' list".into(),
            expected: "GML",
        });
    }
    Ok(ParsedGml {
        parsed: Parsed {
            keys: keys.keys,
            directed_default: directed,
            nodes,
            edges,
        },
        skipped_lists,
    })
}

/// Imports a GML file as one batch.
pub fn import_gml(
    case: &mut Case,
    path: &Path,
    opts: &GraphOptions,
    cancel: &CancelToken,
) -> Result<ImportReport, IoError> {
    let (src, decoded) = super::read_source_text(path, &opts.limits, "a GML file")?;
    let ParsedGml {
        parsed,
        skipped_lists,
    } = parse(path, &decoded.text, &opts.limits, cancel)?;
    let mut report = import_parsed(
        case,
        path,
        &src,
        decoded.encoding,
        parsed,
        opts,
        cancel,
        "gml",
    )?;
    if skipped_lists > 0 {
        report.warnings.push(RowProblem {
            line: 0,
            field: None,
            reason: format!(
                "{skipped_lists} nested lists inside nodes and edges (layout such as graphics [ x y ]) were not imported"
            ),
        });
    }
    Ok(report)
}

/// A GML string: 7-bit ASCII, `&`, `"` and everything past ASCII as character entities,
/// control characters dropped (and counted).
fn gml_string(s: &str, dropped: &mut usize) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => *dropped += 1,
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("&#{};", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A GML real: always with a decimal point, which tells it from an integer.
fn gml_real(r: f64) -> String {
    let s = format!("{r:?}");
    if s.contains('.') {
        s
    } else if let Some(i) = s.find(['e', 'E']) {
        format!("{}.0{}", &s[..i], &s[i..])
    } else {
        format!("{s}.0")
    }
}

/// A key GML accepts (a letter, then letters, digits or `_`).
fn gml_key(name: &str) -> String {
    let mut k: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !k.starts_with(|c: char| c.is_ascii_alphabetic()) {
        k.insert(0, 'p');
    }
    k
}

fn gml_value(v: &Value, dropped: &mut usize) -> String {
    match v {
        Value::Text(t) => gml_string(t, dropped),
        Value::Number(n) => gml_real(*n),
        Value::Flag(b) => i32::from(*b).to_string(),
    }
}

/// Writes the selection as GML; returns what the format could not carry, in words.
pub(crate) fn write_gml(path: &Path, sel: &Selection<'_>) -> Result<Vec<String>, IoError> {
    let g = flatten(sel);
    let (text, mut cannot) = gml_text(&g);
    write_new(path, &text)?;
    cannot.extend(g.cannot.iter().cloned());
    Ok(cannot)
}

fn gml_text(g: &FlatGraph) -> (String, Vec<String>) {
    use std::fmt::Write;
    let mut dropped = 0usize;
    let mut renamed = std::collections::BTreeSet::new();
    let mut out = String::from("Creator \"COPKIT Workbench\"\ngraph [\n");
    let _ = writeln!(out, "  directed {}", i32::from(g.directed));
    if g.parallel {
        out.push_str("  multigraph 1\n");
    }
    // networkx reads nodes by label unless told otherwise and refuses a repeated one: a
    // repeated label gets its node id, and the label itself travels in copkit_label.
    let (labels, relabelled) = unique_labels(&g.nodes);
    let index: std::collections::HashMap<&str, usize> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut pair = |out: &mut String, name: &str, v: &Value, dropped: &mut usize| {
        let key = gml_key(name);
        if key != name {
            renamed.insert(name.to_string());
        }
        let _ = writeln!(out, "    {key} {}", gml_value(v, dropped));
    };
    for (i, (n, label)) in g.nodes.iter().zip(&labels).enumerate() {
        let _ = writeln!(out, "  node [\n    id {i}");
        pair(&mut out, "label", &Value::Text(label.clone()), &mut dropped);
        if *label != n.label {
            pair(
                &mut out,
                "copkit_label",
                &Value::Text(n.label.clone()),
                &mut dropped,
            );
        }
        for (name, v) in &n.values {
            pair(&mut out, name, v, &mut dropped);
        }
        out.push_str("  ]\n");
    }
    for (k, e) in g.edges.iter().enumerate() {
        let (Some(s), Some(t)) = (index.get(e.source.as_str()), index.get(e.target.as_str()))
        else {
            continue;
        };
        let _ = writeln!(out, "  edge [\n    source {s}\n    target {t}");
        if g.parallel {
            let _ = writeln!(out, "    key {k}");
        }
        if let Some(w) = e.weight {
            pair(&mut out, "weight", &Value::Number(w), &mut dropped);
        }
        if let Some(l) = &e.label {
            pair(&mut out, "label", &Value::Text(l.clone()), &mut dropped);
        }
        for (name, v) in &e.values {
            pair(&mut out, name, v, &mut dropped);
        }
        out.push_str("  ]\n");
    }
    out.push_str("]\n");
    let mut cannot = Vec::new();
    if let Some(n) = undirected_note(g, "GML") {
        cannot.push(n);
    }
    if relabelled > 0 {
        cannot.push(format!(
            "{relabelled} nodes share a label with another: their GML label has the entity id added (networkx reads nodes by label), the label itself is in copkit_label"
        ));
    }
    if !renamed.is_empty() {
        cannot.push(format!(
            "attribute names GML keys cannot hold were written with '_' for other characters: {}",
            renamed.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if dropped > 0 {
        cannot.push(format!(
            "{dropped} control characters were dropped (GML strings cannot hold them)"
        ));
    }
    (out, cannot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ParsedGml, IoError> {
        parse(
            Path::new("t.gml"),
            text,
            &Limits::default(),
            &CancelToken::new(),
        )
    }

    #[test]
    fn entities_and_reals_are_read() {
        assert_eq!(
            unescape("A &amp; B &#233; &#x41; &nope; &"),
            "A & B é A &nope; &"
        );
        let p = parse_str(
            "Creator \"x\"\ngraph [ directed 1 node [ id 1 label \"Al &quot;B&quot;\" age 3.5 graphics [ x 1 ] ]\n node [ id 2 ] edge [ source 1 target 2 weight 2 ] ]",
        )
        .unwrap();
        assert!(p.parsed.directed_default);
        assert_eq!(p.skipped_lists, 1);
        assert_eq!(p.parsed.nodes[0].data[0].1, "Al \"B\"");
        assert_eq!(p.parsed.nodes[0].data[1].1, "3.5");
        assert_eq!(p.parsed.keys["n:age"].kind, "double");
        assert_eq!(p.parsed.edges[0].line, 3);
    }

    #[test]
    fn broken_gml_names_the_line() {
        let e = parse_str("graph [\n node [ id 1\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("opened at line 2"),
            "{e}"
        );
        let e = parse_str("graph [\n node [ id 1 ]\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("opened at line 1"), "{e}");
        let e = parse_str("graph [\n node [ id \"x ]\n]")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("line 2") && e.contains("never closed"), "{e}");
        let e = parse_str("graph [ ] ]").err().unwrap().to_string();
        assert!(e.contains("never opened"), "{e}");
        let deep = format!("graph [ {} ]", "a [ ".repeat(100));
        let e = parse_str(&deep).err().unwrap().to_string();
        assert!(e.contains("max_json_depth"), "{e}");
    }

    #[test]
    fn strings_and_reals_are_written_as_gml_wants() {
        let mut d = 0;
        assert_eq!(
            gml_string("Zoë & \"x\"\u{1}", &mut d),
            "\"Zo&#235; &amp; &quot;x&quot;\""
        );
        assert_eq!(d, 1);
        assert_eq!(gml_real(180.0), "180.0");
        assert_eq!(gml_real(1e300), "1.0e300");
        assert_eq!(gml_key("start date"), "start_date");
        assert_eq!(gml_key("2x"), "p2x");
    }
}
