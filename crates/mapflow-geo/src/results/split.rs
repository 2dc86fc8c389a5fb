//! Splitting a FeatureCollection, as it is read, into batches of whole features.
//!
//! A result of a million features is hundreds of MB: reading it whole before parsing would
//! hold all of it in memory, and one parser would use one core. [`Splitter`] is fed the
//! file block by block and finds the elements of the top-level `features` array by tracking
//! only strings and brackets; every few thousand features it hands a batch (`[f, f, …]`, its
//! own small JSON array) to be parsed on another thread. Everything outside that array (the
//! `type`, `crs`, `bbox` …) is kept as the *skeleton*, a small JSON text parsed at the end.
//!
//! The splitter only cuts: whether each piece is valid JSON is the parser's to say, and
//! [`Splitter::file_position`] turns a position in a batch or in the skeleton back into the
//! file's line and column, so an error names the place in the file.

/// A line and column (both from 1, columns in bytes), as serde_json reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Whole features, as a JSON array, and where its first byte after `[` is in the file.
#[derive(Debug)]
pub(crate) struct Batch {
    pub index: usize,
    pub bytes: Vec<u8>,
    pub start: Pos,
}

/// Where the skeleton skips over a features array: the skeleton's `]` at `skeleton_offset`
/// is the file's `]` at `file`.
#[derive(Clone, Copy, Debug)]
struct Cut {
    skeleton_offset: usize,
    file: Pos,
}

/// A bracket that does not close what is open, found while splitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub at: Pos,
    pub found: u8,
}

pub(crate) struct Splitter {
    batch_size: usize,
    /// Open brackets, outermost first.
    stack: Vec<u8>,
    in_string: bool,
    /// The last byte was a backslash inside a string.
    escape: bool,
    /// The string being read is at the top level of an object (a key, or a value).
    top_string: bool,
    key: Vec<u8>,
    /// The top level just read `"features":`.
    features_next: bool,
    /// Inside the top-level `features` array.
    in_features: bool,
    skeleton: Vec<u8>,
    cuts: Vec<Cut>,
    batch: Vec<u8>,
    batch_features: usize,
    batch_start: Pos,
    /// The batch began after a comma, so it must hold a feature.
    after_comma: bool,
    next_index: usize,
    /// Position of byte `counted` of the current block.
    line: usize,
    column: usize,
    counted: usize,
    mismatch: Option<Mismatch>,
}

impl Splitter {
    pub(crate) fn new(batch_size: usize) -> Self {
        Self {
            batch_size: batch_size.max(1),
            stack: Vec::new(),
            in_string: false,
            escape: false,
            top_string: false,
            key: Vec::new(),
            features_next: false,
            in_features: false,
            skeleton: Vec::new(),
            cuts: Vec::new(),
            batch: Vec::new(),
            batch_features: 0,
            batch_start: Pos::default(),
            after_comma: false,
            next_index: 0,
            line: 1,
            column: 1,
            counted: 0,
            mismatch: None,
        }
    }

    /// Moves the line and column on to byte `to` of `block`.
    fn advance(&mut self, block: &[u8], to: usize) {
        let part = &block[self.counted..to];
        match memchr::memrchr(b'\n', part) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', part).count();
                self.column = part.len() - last;
            }
            None => self.column += part.len(),
        }
        self.counted = to;
    }

    fn position(&mut self, block: &[u8], at: usize) -> Pos {
        self.advance(block, at);
        Pos { line: self.line, column: self.column }
    }

    fn start_batch(&mut self, block: &[u8], first: usize, after_comma: bool) {
        self.batch.clear();
        self.batch.push(b'[');
        self.batch_features = 0;
        self.after_comma = after_comma;
        self.batch_start = self.position(block, first.min(block.len()));
    }

    fn take_batch(&mut self) -> Batch {
        self.batch.push(b']');
        let index = self.next_index;
        self.next_index += 1;
        let capacity = self.batch.capacity();
        Batch {
            index,
            bytes: std::mem::replace(&mut self.batch, Vec::with_capacity(capacity)),
            start: self.batch_start,
        }
    }

    /// Reads one block; complete batches go to `emit`. Stops at the first bracket that does
    /// not match (see [`Self::mismatch`]).
    pub(crate) fn feed(&mut self, block: &[u8], emit: &mut dyn FnMut(Batch)) {
        if self.mismatch.is_some() {
            return;
        }
        self.counted = 0;
        let n = block.len();
        // Ranges of this block still to copy into the skeleton or the batch.
        let mut copy_from = 0usize;
        let mut i = 0usize;
        while i < n {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    if self.top_string {
                        self.key.push(block[i]);
                    }
                    i += 1;
                    continue;
                }
                let Some(k) = memchr::memchr2(b'"', b'\\', &block[i..]) else {
                    if self.top_string {
                        self.key.extend_from_slice(&block[i..]);
                    }
                    break;
                };
                if self.top_string {
                    self.key.extend_from_slice(&block[i..i + k]);
                }
                i += k;
                if block[i] == b'\\' {
                    self.escape = true;
                    if self.top_string {
                        self.key.push(b'\\');
                    }
                } else {
                    self.in_string = false;
                }
                i += 1;
                continue;
            }
            let depth = self.stack.len();
            match block[i] {
                b'"' => {
                    self.in_string = true;
                    self.top_string = depth == 1 && self.stack[0] == b'{';
                    if self.top_string {
                        self.key.clear();
                        self.features_next = false;
                    }
                }
                b':' if depth == 1 => self.features_next = self.key == b"features",
                b'[' if depth == 1 && self.features_next && self.stack[0] == b'{' => {
                    self.features_next = false;
                    self.stack.push(b'[');
                    self.skeleton.extend_from_slice(&block[copy_from..=i]);
                    self.in_features = true;
                    self.start_batch(block, i + 1, false);
                    copy_from = i + 1;
                }
                open @ (b'{' | b'[') => {
                    self.features_next = false;
                    self.stack.push(open);
                }
                close @ (b'}' | b']') => {
                    let expected = if close == b'}' { b'{' } else { b'[' };
                    if self.stack.pop() != Some(expected) {
                        let at = self.position(block, i);
                        self.mismatch = Some(Mismatch { at, found: close });
                        return;
                    }
                    if self.in_features && self.stack.len() == 1 {
                        // The end of the features array.
                        self.batch.extend_from_slice(&block[copy_from..i]);
                        let empty = self.batch[1..].iter().all(u8::is_ascii_whitespace);
                        if empty && self.after_comma {
                            // A trailing comma: `[,]` keeps the parser's error and position.
                            self.batch = b"[,".to_vec();
                        }
                        emit(self.take_batch());
                        self.in_features = false;
                        let file = self.position(block, i);
                        self.cuts.push(Cut { skeleton_offset: self.skeleton.len(), file });
                        copy_from = i;
                    }
                }
                b',' if self.in_features && depth == 2 => {
                    self.batch_features += 1;
                    if self.batch_features >= self.batch_size {
                        self.batch.extend_from_slice(&block[copy_from..i]);
                        emit(self.take_batch());
                        self.start_batch(block, i + 1, true);
                        copy_from = i + 1;
                    }
                }
                b' ' | b'\n' | b'\r' | b'\t' => {}
                _ if depth == 1 => self.features_next = false,
                _ => {}
            }
            i += 1;
        }
        let rest = &block[copy_from.min(n)..];
        if self.in_features {
            self.batch.extend_from_slice(rest);
        } else {
            self.skeleton.extend_from_slice(rest);
        }
        self.advance(block, n);
    }

    /// The first bracket that did not match, if any.
    pub(crate) fn mismatch(&self) -> Option<Mismatch> {
        self.mismatch
    }

    /// Ends the input: the features of an unclosed array as a last batch (its parse then
    /// fails where the file ends), and the skeleton.
    pub(crate) fn finish(&mut self, emit: &mut dyn FnMut(Batch)) -> Vec<u8> {
        if self.in_features {
            // No closing `]`: the batch is left open so its parser reports the file's end.
            let index = self.next_index;
            self.next_index += 1;
            emit(Batch { index, bytes: std::mem::take(&mut self.batch), start: self.batch_start });
            self.in_features = false;
        }
        std::mem::take(&mut self.skeleton)
    }

    /// Number of batches handed out.
    pub(crate) fn batches(&self) -> usize {
        self.next_index
    }

    /// The file position of a parser's position in a batch that started at `start`.
    pub(crate) fn batch_position(start: Pos, at: Pos) -> Pos {
        if at.line <= 1 {
            // Column 1 is the `[` the batch was given.
            Pos { line: start.line, column: (start.column + at.column).saturating_sub(2).max(1) }
        } else {
            Pos { line: start.line + at.line - 1, column: at.column }
        }
    }

    /// The file position of a parser's position in the skeleton `skeleton`.
    pub(crate) fn skeleton_position(&self, skeleton: &[u8], at: Pos) -> Pos {
        // Skeleton line and column of each cut.
        let mut found: Option<(Pos, Pos)> = None;
        for cut in &self.cuts {
            let before = &skeleton[..cut.skeleton_offset.min(skeleton.len())];
            let line = 1 + memchr::memchr_iter(b'\n', before).count();
            let column = before.len() - memchr::memrchr(b'\n', before).map_or(0, |nl| nl + 1) + 1;
            let here = Pos { line, column };
            if here <= at {
                found = Some((here, cut.file));
            }
        }
        match found {
            None => at,
            Some((skel, file)) if at.line == skel.line => {
                Pos { line: file.line, column: file.column + (at.column - skel.column) }
            }
            Some((skel, file)) => Pos { line: file.line + (at.line - skel.line), column: at.column },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, batch: usize, block: usize) -> (Vec<String>, String, Splitter) {
        let mut splitter = Splitter::new(batch);
        let mut batches = Vec::new();
        for part in text.as_bytes().chunks(block.max(1)) {
            splitter.feed(part, &mut |b| batches.push(b));
        }
        let skeleton = splitter.finish(&mut |b| batches.push(b));
        for (n, b) in batches.iter().enumerate() {
            assert_eq!(b.index, n);
        }
        let texts = batches.into_iter().map(|b| String::from_utf8(b.bytes).unwrap()).collect();
        (texts, String::from_utf8(skeleton).unwrap(), splitter)
    }

    #[test]
    fn features_are_cut_into_batches_whatever_the_blocks() {
        let text = r#"{"type": "FeatureCollection", "name": "x [\"features\": [", "features": [{"a": "],}"}, {"b": [1, {"c": 2}]}, {"d": "\\"}], "bbox": [1, 2]}"#;
        for block in [1, 2, 3, 7, 1000] {
            let (batches, skeleton, _) = split(text, 2, block);
            assert_eq!(batches, [r#"[{"a": "],}"}, {"b": [1, {"c": 2}]}]"#, r#"[ {"d": "\\"}]"#], "blocks of {block}");
            assert_eq!(
                skeleton,
                r#"{"type": "FeatureCollection", "name": "x [\"features\": [", "features": [], "bbox": [1, 2]}"#
            );
        }
    }

    #[test]
    fn only_the_top_level_features_array_is_cut() {
        let (batches, skeleton, _) = split(r#"{"crs": {"features": [1, 2]}, "features": []}"#, 1, 5);
        assert_eq!(batches, ["[]"]);
        assert_eq!(skeleton, r#"{"crs": {"features": [1, 2]}, "features": []}"#);
        let (batches, skeleton, _) = split("[1, 2, 3]", 1, 5);
        assert!(batches.is_empty());
        assert_eq!(skeleton, "[1, 2, 3]");
    }

    #[test]
    fn broken_input_stays_broken() {
        let (batches, _, _) = split(r#"{"features": [{}, {}, ]}"#, 2, 4);
        assert_eq!(batches.last().map(String::as_str), Some("[,]"), "a trailing comma after a cut");
        let (batches, skeleton, _) = split(r#"{"features": [{}, {"#, 10, 4);
        assert_eq!(batches, [r#"[{}, {"#], "an unclosed array stays open");
        assert_eq!(skeleton, r#"{"features": ["#);
        let (_, _, splitter) = split("{\"features\": [{}\n, {]}", 10, 3);
        assert_eq!(splitter.mismatch(), Some(Mismatch { at: Pos { line: 2, column: 4 }, found: b']' }));
    }

    #[test]
    fn positions_map_back_to_the_file() {
        let text = "{\"features\": [\n{\"a\": 1},\n{\"b\": 2}\n], \"x\": oops}";
        let (_, skeleton, splitter) = split(text, 1, 6);
        // The skeleton is `{"features": [], "x": oops}`; serde stops at its `o`.
        let err = serde_json::from_slice::<serde_json::Value>(skeleton.as_bytes()).unwrap_err();
        let at = splitter.skeleton_position(skeleton.as_bytes(), Pos { line: err.line(), column: err.column() });
        assert_eq!(at, Pos { line: 4, column: 9 });
        assert_eq!(&text.lines().nth(3).unwrap()[8..9], "o");
        // In a batch that starts at line 3, column 2, its line 1 column 3 is the file's line 3 column 3.
        assert_eq!(
            Splitter::batch_position(Pos { line: 3, column: 2 }, Pos { line: 1, column: 3 }),
            Pos { line: 3, column: 3 }
        );
    }
}
