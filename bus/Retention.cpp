#include "Retention.h"

#include "LogQueries.h"
#include "RetentionDetail.h"

#include "BusLog.h"
#include "StoreScans.h"
#include "RowFormat.h"
#include "Timestamp.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlQuery>

#include <climits>

#include <QJsonDocument>
#include <QJsonObject>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

using namespace retention_detail;

namespace retention_detail {

QString cutoffText(const PruneOptions &o) { return timestamp::format(o.cutoff); }

} // namespace retention_detail

namespace {

// Older than the cutoff as an instant (never as text); values get its bound values.
QString olderWhere(const PruneOptions &o, QVariantList &values)
{
    return createdBeforeSql(timestamp::nanos(o.cutoff), values);
}

QString candidatesWhere(const PruneOptions &o, QVariantList &values)
{
    const QString older = olderWhere(o, values);
    return o.includeUnprocessed ? older : older + u" AND processed != 0"_s;
}

std::optional<Error> openArchive(PruneState &s)
{
    if (QFileInfo::exists(s.report.archivePath))
        return Error{ErrorCode::Storage, {}, u"cannot create the archive %1: it exists already"_s.arg(s.report.archivePath)};
    s.partPath = s.report.archivePath + u".part"_s;
    const QByteArray path = QFile::encodeName(s.partPath);
    s.fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (s.fd < 0)
        return Error{ErrorCode::Storage, {}, u"cannot create the archive %1: %2"_s.arg(s.partPath, QString::fromLocal8Bit(strerror(errno)))};
    // Held until this prune ends, through the rename: another run sees the archive is not left over.
    s.lockFd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (s.lockFd >= 0)
        ::flock(s.lockFd, LOCK_EX | LOCK_NB);
    s.archive = gzdopen(s.fd, "wb");
    if (!s.archive) {
        ::close(s.fd);
        QFile::remove(s.partPath);
        return Error{ErrorCode::Storage, {}, u"cannot start the archive %1"_s.arg(s.report.archivePath)};
    }
    return std::nullopt;
}

} // namespace

namespace retention_detail {

std::optional<Error> appendToArchive(PruneState &s, const QByteArray &lines)
{
    if (!s.archive) {
        if (auto e = openArchive(s))
            return e;
    }
    if (gzwrite(s.archive, lines.constData(), unsigned(lines.size())) != int(lines.size()))
        return Error{ErrorCode::Storage, {}, u"cannot write the archive %1"_s.arg(s.partPath)};
    return std::nullopt;
}


// The archive whole: flushed, synced, closed, renamed to its name (and the
// folder synced), before any row is deleted.
std::optional<Error> sealArchive(PruneState &s)
{
    const Error failed{ErrorCode::Storage, {}, u"cannot finish the archive %1"_s.arg(s.report.archivePath)};
    if (gzflush(s.archive, Z_FINISH) != Z_OK || ::fsync(s.fd) != 0)
        return failed;
    const int closed = gzclose(s.archive);
    s.archive = nullptr;
    if (closed != Z_OK || ::rename(QFile::encodeName(s.partPath).constData(), QFile::encodeName(s.report.archivePath).constData()) != 0) {
        QFile::remove(s.partPath);
        return failed;
    }
    const int dir = ::open(QFile::encodeName(QFileInfo(s.report.archivePath).absolutePath()).constData(), O_RDONLY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return std::nullopt;
}

} // namespace retention_detail

namespace {

// Stopped while archiving: the half-written archive goes; nothing was deleted.
void dropArchive(PruneState &s)
{
    if (s.archive) {
        gzclose(s.archive);
        s.archive = nullptr;
    }
    if (!s.partPath.isEmpty())
        QFile::remove(s.partPath);
}

// Phase one, a page: the next rows that go, written to the archive (read
// lane: the engine's writes are not held up).
std::optional<Error> archivePage(SqliteConnection &conn, PruneState &s, bool *done)
{
    QSqlQuery q(conn.database());
    q.setForwardOnly(true);
    QVariantList values{s.afterId};
    const QString where = candidatesWhere(s.options, values);
    values.append(qBound(1, s.options.pageSize, 1000));
    if (!conn.prepareAndExec(q, u"SELECT id, event_type, payload, created_at, processed, processed_at FROM app_events "
                                "WHERE id > ? AND "_s + where + u" ORDER BY id LIMIT ?"_s,
                             values))
        return conn.lastError(q, u"cannot read events to prune"_s);
    QList<StoredEvent> page;
    while (q.next())
        page.append(logsql::rowFrom(q));
    q.finish();
    // A recorded message of today's engine is archived with its world, as export writes it.
    logsql::placeRecorded(conn.handle(), page);
    QByteArray lines;
    const qsizetype count = page.size();
    for (const StoredEvent &row : page) {
        lines += rows::toJsonLine(row) + '\n';
        s.archived.append(row.id);
    }
    *done = count < qBound(1, s.options.pageSize, 1000);
    if (count == 0)
        return std::nullopt;
    s.afterId = s.archived.last();
    return appendToArchive(s, lines);
}

// Phase two, a page: archived rows deleted, in the writer's transaction.
std::optional<Error> deletePage(SqliteConnection &conn, PruneState &s, bool *done)
{
    const QList<qint64> ids = s.archived.mid(s.deletedUpTo, qBound(1, s.options.pageSize, 1000));
    QSqlQuery del(conn.database());
    if (!del.prepare(u"DELETE FROM app_events WHERE id = ?"_s))
        return conn.lastError(del, u"cannot prune"_s);
    qint64 gone = 0;  // a resumed prune's rows may be gone already
    for (qint64 id : ids) {
        del.addBindValue(id);
        if (!del.exec())
            return conn.lastError(del, u"cannot prune"_s);
        gone += del.numRowsAffected();
    }
    del.finish();
    s.deletedUpTo += ids.size();
    if (!ids.isEmpty()) {
        if (!s.report.firstId)
            s.report.firstId = ids.first();
        s.report.lastId = ids.last();
    }
    s.report.deleted += gone;
    s.lastPageIds = ids;
    ++s.report.transactions;
    *done = s.deletedUpTo >= s.archived.size();
    return std::nullopt;
}

} // namespace

namespace retention_detail {

void finish(const std::shared_ptr<PruneState> &s, Result<PruneReport> result)
{
    dropArchive(*s);  // a finished archive was closed and renamed already
    s->promise.addResult(std::move(result));
    s->promise.finish();
}


// The shared start of both prunes: the state, and the checks that refuse at once.
std::shared_ptr<PruneState> startPrune(const PruneOptions &options)
{
    auto s = std::make_shared<PruneState>();
    s->options = options;
    s->promise.start();
    if (!options.cutoff.isValid())
        finish(s, Error{ErrorCode::Usage, {}, u"no cutoff given"_s});
    return s;
}


void finishCancelled(const std::shared_ptr<PruneState> &s)
{
    PruneReport r = s->report;
    r.cancelled = true;
    r.deleted = 0;
    r.archivePath.clear();
    finish(s, r);
}

} // namespace retention_detail

namespace {

// The archive's record in the desk (no desk: no record, nothing to resume).
QFuture<Result<bool>> setRecord(DeskDatabase *desk, qint64 record, const QString &state, const PruneReport &r, qint64 rows)
{
    if (!desk || !record)
        return QtFuture::makeReadyFuture(Result<bool>(true));
    return desk->write([record, state, first = r.firstId, last = r.lastId, rows](SqliteConnection &conn) {
        return conn.exec(u"UPDATE eventdesk_archives SET state = ?, first_id = ?, last_id = ?, rows = ? WHERE id = ?"_s,
                         {state, first, last, rows, record});
    });
}

QFuture<Result<bool>> dropRecord(DeskDatabase *desk, qint64 record)
{
    if (!desk || !record)
        return QtFuture::makeReadyFuture(Result<bool>(true));
    return desk->write([record](SqliteConnection &conn) {
        return conn.exec(u"DELETE FROM eventdesk_archives WHERE id = ?"_s, {record});
    });
}

// Phase two: every archived row deleted, page by page; then the record says done.
void nextDeletePage(SqliteEventStore &store, const std::shared_ptr<PruneState> &s,
                    std::function<void(Result<PruneReport>)> done)
{
    auto last = std::make_shared<bool>(false);
    store.write([s, last](SqliteConnection &conn) { return deletePage(conn, *s, last.get()); })
        .then([&store, s, last, done](const Result<bool> &r) {
            if (!r) {
                // Everything archived stays in the archive; say how far the deletion got.
                Error e = r.error();
                e.message += u" (the archive %1 holds every row that was to go; %2 of them were deleted; the next "
                             "prune deletes the rest)"_s.arg(s->report.archivePath).arg(s->report.deleted);
                done(e);
                return;
            }
            s->progress();
            DeskDatabase *desk = store.desk();
            if (desk && !s->lastPageIds.isEmpty())
                desk->forgetIndexed(s->lastPageIds);
            if (!*last) {
                nextDeletePage(store, s, done);
                return;
            }
            setRecord(desk, s->record, u"done"_s, s->report, s->report.deleted).then([s, done](const Result<bool> &) {
                done(s->report);
            });
        });
}

// The ids an archive holds, in order.
Result<QList<qint64>> archiveIds(const QString &path)
{
    Result<QList<QByteArray>> lines = readArchive(path);
    if (!lines)
        return lines.error();
    QList<qint64> ids;
    ids.reserve(lines->size());
    for (const QByteArray &line : lines.value()) {
        const QJsonValue id = QJsonDocument::fromJson(line).object().value(u"id"_s);
        if (!id.isDouble())
            return Error{ErrorCode::Storage, {}, u"the archive %1 is damaged: a line without an id"_s.arg(path)};
        ids.append(id.toInteger());
    }
    return ids;
}

// Whether another process holds this file's flock (a prune under way).
bool lockedByAnother(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);  // drops the lock if it was taken here
    return locked;
}

struct Unfinished {
    qint64 record = 0;
    QString target;
    QString state;
};

// Finishes what interrupted prunes left (see the top of this file), one record
// at a time, then calls next.
void resumeInterrupted(SqliteEventStore &store, const std::shared_ptr<PruneState> &s, QList<Unfinished> left,
                       std::function<void()> next)
{
    if (left.isEmpty()) {
        next();
        return;
    }
    const Unfinished u = left.takeFirst();
    DeskDatabase *desk = store.desk();
    const QString part = u.target + u".part"_s;
    if (lockedByAnother(u.target) || lockedByAnother(part)) {
        finish(s, Error{ErrorCode::Busy, {}, u"another prune of this log is under way (its archive: %1); try again when "
                                                 "it is done"_s.arg(u.target)});
        return;
    }
    const auto carryOn = [&store, s, left, next] { resumeInterrupted(store, s, left, next); };
    if (u.state == u"writing"_s && !QFileInfo::exists(u.target)) {
        // Killed while its archive was written: nothing of it was deleted.
        QFile::remove(part);
        qCInfo(lcStore).noquote() << "prune: removed the unfinished archive" << part << "of an interrupted prune";
        dropRecord(desk, u.record).then([carryOn](const Result<bool> &) { carryOn(); });
        return;
    }
    QFile::remove(part);  // renamed already: a .part of that name is not this archive's
    Result<QList<qint64>> ids = archiveIds(u.target);
    if (!ids) {
        // Its rows were not all deleted and the archive that holds them is
        // gone or damaged: they stay in the log, and the record says so.
        qCWarning(lcStore).noquote() << "prune: an interrupted prune's archive cannot be read:" << ids.error().message
                                     << "- its rows that are still in the log stay there";
        PruneReport none;
        setRecord(desk, u.record, u"unreadable"_s, none, 0).then([carryOn](const Result<bool> &) { carryOn(); });
        return;
    }
    auto r = std::make_shared<PruneState>();
    r->options = s->options;
    r->report.archivePath = u.target;
    r->record = u.record;
    r->archived = ids.value();
    r->lockFd = ::open(QFile::encodeName(u.target).constData(), O_RDONLY | O_CLOEXEC);
    if (r->lockFd >= 0)
        ::flock(r->lockFd, LOCK_EX | LOCK_NB);
    if (r->archived.isEmpty()) {
        setRecord(desk, u.record, u"done"_s, r->report, 0).then([carryOn](const Result<bool> &) { carryOn(); });
        return;
    }
    nextDeletePage(store, r, [s, r, carryOn](Result<PruneReport> done) {
        if (!done) {
            finish(s, done.error());
            return;
        }
        s->report.resumedDeleted += done->deleted;
        s->report.resumedArchives.append(r->report.archivePath);
        qCInfo(lcStore).noquote() << "prune: finished an interrupted prune:" << done->deleted
                                  << "events deleted that" << r->report.archivePath << "holds";
        carryOn();
    });
}

void nextArchivePage(SqliteEventStore &store, const std::shared_ptr<PruneState> &s)
{
    if (s->cancelled()) {
        dropArchive(*s);
        dropRecord(store.desk(), s->record).then([s](const Result<bool> &) { finishCancelled(s); });
        return;
    }
    auto done = std::make_shared<bool>(false);
    store.read<bool>([s, done](SqliteConnection &conn) -> Result<bool> {
             if (auto e = archivePage(conn, *s, done.get()))
                 return *e;
             return true;
         }, SqliteEventStore::Lane::Scans)
        .then([&store, s, done](const Result<bool> &r) {
            if (!r) {
                dropArchive(*s);  // nothing deleted; the half archive goes
                dropRecord(store.desk(), s->record).then([s, e = r.error()](const Result<bool> &) { finish(s, e); });
                return;
            }
            s->progress();
            if (!*done) {
                nextArchivePage(store, s);
                return;
            }
            DeskDatabase *desk = store.desk();
            if (s->cancelled() || s->archived.isEmpty()) {
                dropArchive(*s);
                dropRecord(desk, s->record).then([s](const Result<bool> &) {
                    if (s->cancelled()) {
                        finishCancelled(s);
                        return;
                    }
                    s->report.archivePath.clear();
                    finish(s, s->report);
                });
                return;
            }
            if (auto e = sealArchive(*s)) {
                dropRecord(desk, s->record).then([s, e](const Result<bool> &) { finish(s, *e); });
                return;
            }
            PruneReport sealed;
            sealed.firstId = s->archived.first();
            sealed.lastId = s->archived.last();
            setRecord(desk, s->record, u"sealed"_s, sealed, s->archived.size()).then([&store, s](const Result<bool> &) {
                // Failing to say so costs nothing: a 'writing' record whose archive has its name counts as sealed.
                nextDeletePage(store, s, [&store, s](Result<PruneReport> done) {
                    if (done && done->deleted > 0)
                        if (DeskDatabase *desk = store.desk())
                            desk->audit(s->options.actor, u"prune"_s,
                                        u"deleted %1 events (ids %2–%3) created before %4; archive %5"_s.arg(done->deleted)
                                            .arg(done->firstId).arg(done->lastId).arg(cutoffText(s->options), done->archivePath));
                    finish(s, std::move(done));
                });
            });
        });
}

} // namespace

QFuture<Result<PruneReport>> prune(SqliteEventStore &store, const PruneOptions &options)
{
    auto s = startPrune(options);
    QFuture<Result<PruneReport>> future = s->promise.future();
    if (future.isFinished())
        return future;  // refused before starting
    if (store.options().readOnly && !options.dryRun) {
        finish(s, Error{ErrorCode::Usage, {}, u"the database is open read-only"_s});
        return future;
    }
    s->report.archivePath = options.archivePath;
    if (s->report.archivePath.isEmpty()) {
        const QFileInfo db(store.location());
        s->report.archivePath = db.absoluteDir().filePath(
            u"%1-archive-%2.jsonl.gz"_s.arg(db.completeBaseName(),
                                            QDateTime::currentDateTimeUtc().toString(u"yyyyMMdd-HHmmss-zzz"_s)));
    }
    struct Counts {
        qint64 older = 0, unprocessed = 0;
        bool anyProcessed = false;
    };
    const auto start = [&store, s, options] {
        // Count first: the report (and a dry run) says what goes and what stays.
        store.read<Counts>([options](SqliteConnection &conn) -> Result<Counts> {
                 QSqlQuery q(conn.database());
                 Counts c;
                 if (!conn.prepareAndExec(q, u"SELECT EXISTS(SELECT 1 FROM app_events WHERE processed != 0)"_s))
                     return conn.lastError(q, u"cannot count events to prune"_s);
                 c.anyProcessed = q.next() && q.value(0).toInt() != 0;
                 QVariantList values;
                 const QString older = olderWhere(options, values);
                 if (!conn.prepareAndExec(q, u"SELECT count(*), coalesce(sum(processed = 0), 0) FROM app_events WHERE "_s + older,
                                          values))
                     return conn.lastError(q, u"cannot count events to prune"_s);
                 q.next();
                 c.older = q.value(0).toLongLong();
                 c.unprocessed = q.value(1).toLongLong();
                 q.finish();
                 return c;
             }, SqliteEventStore::Lane::Scans)
            .then([&store, s](const Result<Counts> &counts) {
                if (!counts) {
                    finish(s, counts.error());
                    return;
                }
                // A log where nothing was ever marked processed (the engine's own) would
                // otherwise keep every row for ever: there, age alone decides.
                if (!counts->anyProcessed && !s->options.includeUnprocessed) {
                    s->options.includeUnprocessed = true;
                    s->report.ageAlone = true;
                }
                s->report.matched = counts->older;
                s->report.keptUnprocessed = s->options.includeUnprocessed ? 0 : counts->unprocessed;
                if (s->options.dryRun || s->report.matched == s->report.keptUnprocessed) {
                    s->report.archivePath.clear();
                    finish(s, s->report);
                    return;
                }
                // The future's progress: rows archived, then deleted, of those that go (each counts twice).
                s->promise.setProgressRange(0, int(std::min<qint64>(INT_MAX / 2, s->report.matched - s->report.keptUnprocessed) * 2));
                DeskDatabase *desk = store.desk();
                if (!desk || desk->isReadOnly()) {
                    nextArchivePage(store, s);
                    return;
                }
                // The archive's record, before its file exists (the top of this file says why).
                desk->writeValue<qint64>([s](SqliteConnection &conn) -> Result<qint64> {
                        QSqlQuery q(conn.database());
                        if (!conn.prepareAndExec(q, u"INSERT INTO eventdesk_archives(at, target, cutoff, first_id, last_id, rows, state) "
                                                    "VALUES(?, ?, ?, NULL, NULL, 0, 'writing')"_s,
                                                 {timestamp::now(), s->report.archivePath, cutoffText(s->options)}))
                            return conn.lastError(q, u"cannot record the archive"_s);
                        return q.lastInsertId().toLongLong();
                    })
                    .then([&store, s](const Result<qint64> &record) {
                        if (!record) {
                            finish(s, record.error());
                            return;
                        }
                        s->record = record.value();
                        nextArchivePage(store, s);
                    });
            });
    };
    if (options.dryRun || !store.desk() || store.desk()->isReadOnly()) {
        start();
        return future;
    }
    store.desk()
        ->read<QList<Unfinished>>([](SqliteConnection &conn) -> Result<QList<Unfinished>> {
            QSqlQuery q(conn.database());
            if (!conn.prepareAndExec(q, u"SELECT id, target, state FROM eventdesk_archives "
                                        "WHERE state IN ('writing', 'sealed') ORDER BY id"_s))
                return conn.lastError(q, u"cannot read the archives' records"_s);
            QList<Unfinished> out;
            while (q.next())
                out.append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString()});
            return out;
        })
        .then([&store, s, start](const Result<QList<Unfinished>> &left) {
            if (!left) {
                finish(s, left.error());
                return;
            }
            resumeInterrupted(store, s, left.value(), start);
        });
    return future;
}

QFuture<Result<PruneReport>> LogRetention::prune(const PruneOptions &options)
{
    if (m_stream)
        return pruneStream(*m_stream, options, m_archiveDir, m_book);
    return eventdesk::prune(*m_file, options);
}

Result<QList<QByteArray>> readArchive(const QString &path)
{
    gzFile f = gzopen(QFile::encodeName(path).constData(), "rb");
    if (!f)
        return Error{ErrorCode::Storage, {}, u"cannot open the archive %1"_s.arg(path)};
    QByteArray all;
    char buf[65536];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        all.append(buf, n);
    const bool failed = n < 0;
    gzclose(f);
    if (failed)
        return Error{ErrorCode::Storage, {}, u"the archive %1 is damaged"_s.arg(path)};
    QList<QByteArray> lines = all.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

} // namespace eventdesk
