// Importing a file of JSON lines (the export form or bare AppEvents), all or
// nothing, in constant memory: shared by `eventdesk import` and the window's
// File → Import. First every line is checked (check()); then the file is read
// again, a row at a time, into one transaction (rowsOf(), for
// SqliteEventStore::importStream). Either phase can be cancelled; a cancel in
// the second rolls the transaction back, so nothing is half imported.
#pragma once

#include "RowFormat.h"
#include "SqliteEventStore.h"

#include <QFile>

#include <atomic>
#include <functional>
#include <memory>

namespace eventdesk::importfile {

// Standard input ("" or "-") or a file, a line at a time.
class LineReader
{
public:
    explicit LineReader(const QString &path);
    bool ok() const { return m_ok; }
    QString error() const { return m_file.errorString(); }
    qint64 position() const { return m_file.pos(); }
    // One line without its end; nullopt at the end. A line over the codec's
    // limit is cut and flagged, so that it is reported, not decoded in part.
    std::optional<QByteArray> next(bool *tooLong);

private:
    QFile m_file;
    bool m_ok = false;
};

struct CheckOptions {
    bool keepIds = false;
    bool hold = false;                 // keep the events (a Redis stream takes them in one script)
    QIODevice *copyTo = nullptr;       // each line copied here (standard input, kept for the second read)
    std::function<void(qint64 bytesRead)> progress;  // every 1,024 lines
    const std::atomic<bool> *cancel = nullptr;
};

struct Check {
    qint64 rows = 0;      // good rows
    qint64 kept = 0;      // of those, with their created_at
    qint64 lines = 0;
    qint64 problems = 0;  // bad lines
    QString firstProblem;  // "line N: why"
    QList<rows::ImportedRow> held;  // with hold: the rows, in order
    // "nothing imported: line 3: … (and 2 more bad lines of 10)", or "" when all are good.
    QString refusal() const;
};

// An Error when the copy fails or the check was cancelled (code Usage, "cancelled").
Result<Check> check(LineReader &in, const CheckOptions &options);

// The rows of path again, for importStream; written counts them; a cancel
// makes the next read an error, which rolls the import back.
SqliteEventStore::RowSource rowsOf(const QString &path, std::shared_ptr<std::atomic<qint64>> written,
                                   std::shared_ptr<std::atomic<bool>> cancel = {});

inline const QString Cancelled = QStringLiteral("cancelled");

} // namespace eventdesk::importfile

namespace eventdesk {

// The window's import (LogImport) into an SQLite log: the check on a worker
// thread, the rows on the store's writer, the notifier told after the commit.
class FileImporter final : public LogImport
{
public:
    FileImporter(SqliteEventStore &store, Notifier &notifier) : m_store(store), m_notifier(notifier) {}
    QFuture<Result<ImportReport>> importFile(const QString &path, std::shared_ptr<ImportProgress> progress) override;

private:
    SqliteEventStore &m_store;
    Notifier &m_notifier;
};

} // namespace eventdesk
