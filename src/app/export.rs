//! Exports as use cases: a table written page by page on a blocking thread and handed to
//! the HTTP layer as a stream of bytes, so an export of any size holds one page of rows in
//! memory (CSV leaves as it is written; an .xlsx is assembled in temporary files and sent
//! when whole). Every module's export goes through [`App::stream_table`].

use std::io::Write;

use tokio::sync::mpsc;

use super::App;
use crate::error::AppResult;
use crate::export::{Cell, ExportFormat, TableHead, TableWriter};
use crate::i18n::{Lang, t};

/// Rows read from the store at a time.
pub const EXPORT_PAGE: u64 = 2_000;

/// A file on its way to the client.
pub struct Download {
    /// E.g. `问题清单-20261202.xlsx`.
    pub file_name: String,
    pub format: ExportFormat,
    pub chunks: mpsc::Receiver<std::io::Result<Vec<u8>>>,
}

/// Whether personal data in an export is masked or in full (a full export is logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Personal {
    Masked,
    Full { reason: Option<String> },
}

impl Personal {
    pub fn is_full(&self) -> bool {
        matches!(self, Personal::Full { .. })
    }

    /// The note under an export's title.
    pub fn note(&self, lang: Lang) -> String {
        t(lang, if self.is_full() { "export.personal_full" } else { "export.personal_masked" }, &[])
    }
}

/// The writer end of a download: what a blocking producer writes into.
struct ChunkSink(mpsc::Sender<std::io::Result<Vec<u8>>>);

impl Write for ChunkSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.blocking_send(Ok(buf.to_vec())).map_err(|_| std::io::Error::other("the client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl App {
    /// The note "exported at …" under a title.
    pub fn export_time_note(&self, lang: Lang) -> String {
        let at = crate::domain::calendar::beijing_time(self.now()).format("%Y-%m-%d %H:%M").to_string();
        t(lang, "export.exported_at", &[("time", &at)])
    }

    /// Streams a table: `first` is the first page (read before answering, so a bad request
    /// still gets a proper error), `next_page` gives the following pages on a blocking
    /// thread (it may wait on the store with the runtime handle it is given) until it
    /// returns `None`.
    pub fn stream_table<F>(&self, head: TableHead, format: ExportFormat, stem: &str, first: Vec<Vec<Cell>>, mut next_page: F) -> Download
    where
        F: FnMut(&tokio::runtime::Handle) -> AppResult<Option<Vec<Vec<Cell>>>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(16);
        let temp = self.config().data_dir.join("tmp");
        let handle = tokio::runtime::Handle::current();
        let day = crate::domain::calendar::beijing_date(self.now()).format("%Y%m%d");
        let file_name = format!("{stem}-{day}.{}", format.as_str());
        tokio::task::spawn_blocking(move || {
            let mut sink = ChunkSink(tx.clone());
            let result = (|| -> AppResult<()> {
                let mut writer = TableWriter::new(format, head, &temp)?;
                let mut page = Some(first);
                while let Some(rows) = page {
                    for r in &rows {
                        writer.row(r)?;
                    }
                    let ready = writer.take_ready()?;
                    if !ready.is_empty() {
                        sink.write_all(&ready).map_err(crate::export::ExportError::from)?;
                    }
                    page = if rows.is_empty() { None } else { next_page(&handle)? };
                }
                writer.finish_into(&mut sink)?;
                Ok(())
            })();
            if let Err(e) = result {
                tracing::error!(error = %e, "an export failed part way; the download is cut short");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        });
        Download { file_name, format, chunks: rx }
    }
}
