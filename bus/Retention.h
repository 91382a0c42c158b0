// Retention: archive, then delete, the events older than a cutoff. The archive
// is a gzip file of JSON lines in the export row form, flushed to disk before
// the rows it holds are deleted. Deletes go in pages of at most 1,000 rows, one
// short transaction each, so the engine is never locked out for long. Rows not
// yet processed are kept unless forced — except in a log where no row was ever
// marked processed (the engine never marks any): there age alone decides.
#pragma once

#include "RedisEventStore.h"
#include "SqliteEventStore.h"

namespace eventdesk {

struct PruneOptions {
    QDateTime cutoff;          // events created before this go
    bool includeUnprocessed = false;
    bool dryRun = false;       // count only
    QString archivePath;       // .jsonl.gz; empty: next to the database, named by the time
    int pageSize = 1000;       // rows per transaction (1..1000)
    QString actor = QStringLiteral("eventdesk");  // for the audit log
};

struct PruneReport {
    qint64 matched = 0;          // rows older than the cutoff
    qint64 keptUnprocessed = 0;  // of those, kept because processed = 0
    bool ageAlone = false;       // no row of the log was ever processed: unprocessed ones go too
    qint64 deleted = 0;          // archived and deleted (0 on a dry run)
    qint64 firstId = 0;
    qint64 lastId = 0;
    int transactions = 0;
    QString archivePath;
};

// Runs on the store's writer thread, page by page; the future resolves when done.
QFuture<Result<PruneReport>> prune(SqliteEventStore &store, const PruneOptions &options);

// The same on a Redis stream, which can only be trimmed from its start: the
// rows that go are the oldest ones up to the first that is newer than the
// cutoff (or, unless forced, not yet processed). Archived page by page, each
// page synced before the trim that removes it; audited in book when given.
// An empty archivePath puts the archive in archiveDir.
QFuture<Result<PruneReport>> pruneStream(RedisEventStore &store, const PruneOptions &options, const QString &archiveDir,
                                         SqliteEventStore *book);

// Reads an archive back (for checks and for restoring with `import`).
Result<QList<QByteArray>> readArchive(const QString &path);

} // namespace eventdesk

Q_DECLARE_METATYPE(eventdesk::PruneReport)
