//! Where a reader's bytes come from (a file or memory, plain or gzip), line by line, and
//! errors at a line of it.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::limits::MAX_TRACE_LINE_BYTES;

/// Where a reader's bytes come from: a file, or bytes in memory with a name for
/// messages.
pub(crate) enum Input {
    /// A file on disk.
    File(PathBuf),
    /// Bytes in memory (plain or gzip).
    Memory {
        /// What messages call it.
        name: PathBuf,
        /// The content.
        data: Vec<u8>,
    },
}

impl Input {
    /// The file, or the name of the bytes.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Memory { name, .. } => name,
        }
    }

    /// A buffered reader over the content, decompressing gzip (recognised by its magic
    /// bytes).
    pub(crate) fn open(self) -> Result<Box<dyn BufRead + Send>, Error> {
        match self {
            Input::File(path) => open_input(&path),
            Input::Memory { name, data } => {
                ungzip(std::io::Cursor::new(data)).map_err(|source| Error::Io {
                    path: name.clone(),
                    source,
                })
            }
        }
    }
}

/// `path` taken from `base` when it is relative.
pub(crate) fn resolve(base: Option<&Path>, path: &str) -> PathBuf {
    let p = Path::new(path);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p.to_path_buf(),
    }
}

/// Opens `path` for reading, decompressing gzip (recognised by its magic bytes).
pub(crate) fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    ungzip(BufReader::with_capacity(1 << 18, file)).map_err(io)
}

/// `reader` itself, or a gzip decoder over it when it starts with the gzip magic bytes.
fn ungzip<R: BufRead + Send + 'static>(mut reader: R) -> std::io::Result<Box<dyn BufRead + Send>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(1 << 18, gz)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Reads lines (without the end of line) into a reused buffer, counting them.
pub(crate) struct LineReader {
    input: Box<dyn BufRead + Send>,
    path: PathBuf,
    /// 1-based number of the line last read (0 before the first).
    pub line: u64,
    buf: Vec<u8>,
}

impl LineReader {
    pub(crate) fn open(input: Input) -> Result<LineReader, Error> {
        Ok(LineReader {
            path: input.path().to_path_buf(),
            input: input.open()?,
            line: 0,
            buf: Vec::with_capacity(256),
        })
    }

    /// The next line (without `\n` / `\r\n`) with its 1-based number, or `None` at the
    /// end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, Error> {
        self.buf.clear();
        let cap = MAX_TRACE_LINE_BYTES;
        let n = (&mut self.input)
            .take(cap + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.len() as u64 > cap && self.buf.last() != Some(&b'\n') {
            self.buf = Vec::with_capacity(256);
            // Skip the rest of the line without holding it.
            loop {
                let chunk = self.input.fill_buf().map_err(|source| Error::Io {
                    path: self.path.clone(),
                    source,
                })?;
                if chunk.is_empty() {
                    break;
                }
                match chunk.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.input.consume(i + 1);
                        break;
                    }
                    None => {
                        let n = chunk.len();
                        self.input.consume(n);
                    }
                }
            }
            return Err(Error::Invalid {
                file: Some(self.path.display().to_string()),
                line: Some(self.line),
                key: None,
                message: format!(
                    "line longer than {} MiB: not a trace line (no line break?)",
                    cap >> 20
                ),
            });
        }
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        Ok(Some((self.line, &self.buf[..end])))
    }
}

/// An [`Error::Invalid`] at `file:line: key: message`.
pub(crate) fn bad(
    file: &str,
    line: u64,
    key: impl Into<String>,
    message: impl Into<String>,
) -> Error {
    let mut message: String = message.into();
    // A message quotes the bad cell; a cell of megabytes is cut (at a character boundary).
    const MAX_MESSAGE: usize = 200;
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("… (cut)");
    }
    Error::Invalid {
        file: Some(file.to_string()),
        line: Some(line),
        key: Some(key.into()),
        message,
    }
}
