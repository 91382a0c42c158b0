// Retention: archive, then delete, the events older than a cutoff. The archive
// is a gzip file of JSON lines in the export row form, flushed to disk before
// the rows it holds are deleted. Deletes go in pages of at most 1,000 rows, one
// short transaction each, so the engine is never locked out for long. Rows not
// yet processed are kept unless forced — except in a log where no row was ever
// marked processed (the engine never marks any): there age alone decides.
#pragma once

#include "DeskPorts.h"
#include "RedisEventStore.h"
#include "SqliteEventStore.h"

namespace eventdesk {

// Runs on the store's writer thread, page by page; the future resolves when done.
// The archive bookkeeping, the audit entry and the row index are in the
// store's own database (its desk).
QFuture<Result<PruneReport>> prune(SqliteEventStore &store, const PruneOptions &options);

// The same on a Redis stream, which can only be trimmed from its start: the
// rows that go are the oldest ones up to the first that is newer than the
// cutoff (or, unless forced, not yet processed). Archived page by page, each
// page synced before the trim that removes it; audited in book when given.
// An empty archivePath puts the archive in archiveDir.
QFuture<Result<PruneReport>> pruneStream(RedisEventStore &store, const PruneOptions &options, const QString &archiveDir,
                                         DeskBook *book);

// The Retention port over either, chosen once by the composition root.
class LogRetention final : public Retention
{
public:
    explicit LogRetention(SqliteEventStore &file) : m_file(&file) {}
    LogRetention(RedisEventStore &stream, QString archiveDir, DeskBook *book)
        : m_stream(&stream), m_archiveDir(std::move(archiveDir)), m_book(book) {}
    QFuture<Result<PruneReport>> prune(const PruneOptions &options) override;

private:
    SqliteEventStore *m_file = nullptr;
    RedisEventStore *m_stream = nullptr;
    QString m_archiveDir;
    DeskBook *m_book = nullptr;
};

// Reads an archive back (for checks and for restoring with `import`).
Result<QList<QByteArray>> readArchive(const QString &path);

} // namespace eventdesk
