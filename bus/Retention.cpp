#include "Retention.h"

#include "Logging.h"
#include "StoreScans.h"
#include "RowFormat.h"
#include "Timestamp.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlQuery>

#include <climits>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

struct PruneState {
    PruneOptions options;
    PruneReport report;
    qint64 afterId = 0;
    QList<qint64> lastPageIds;  // deleted by the last page: the row index forgets them
    gzFile archive = nullptr;
    int fd = -1;
    QPromise<Result<PruneReport>> promise;

    ~PruneState()
    {
        if (archive)
            gzclose(archive);
    }
};

QString cutoffText(const PruneOptions &o) { return timestamp::format(o.cutoff); }

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
    const QByteArray path = QFile::encodeName(s.report.archivePath);
    s.fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (s.fd < 0)
        return Error{ErrorCode::Storage, {}, u"cannot create the archive %1: %2"_s.arg(s.report.archivePath, QString::fromLocal8Bit(strerror(errno)))};
    s.archive = gzdopen(s.fd, "wb");
    if (!s.archive) {
        ::close(s.fd);
        return Error{ErrorCode::Storage, {}, u"cannot start the archive %1"_s.arg(s.report.archivePath)};
    }
    return std::nullopt;
}

// One page: select, archive (flushed and synced), delete — inside the writer's transaction.
std::optional<Error> prunePage(SqliteConnection &conn, PruneState &s, bool *done)
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
    QList<qint64> ids;
    QByteArray lines;
    while (q.next()) {
        StoredEvent row;
        row.id = q.value(0).toLongLong();
        row.eventType = q.value(1).toString();
        row.payload = q.value(2).toString().toUtf8();
        row.createdAtText = q.value(3).toString();
        row.createdAt = timestamp::parse(row.createdAtText);
        row.processed = q.value(4).toInt() != 0;
        if (!q.value(5).isNull())
            row.processedAt = timestamp::parse(q.value(5).toString());
        row.decode();
        lines += rows::toJsonLine(row) + '\n';
        ids.append(row.id);
    }
    q.finish();
    s.lastPageIds.clear();
    if (ids.isEmpty()) {
        *done = true;
        return std::nullopt;
    }
    if (!s.archive) {
        if (auto e = openArchive(s))
            return e;
    }
    if (gzwrite(s.archive, lines.constData(), unsigned(lines.size())) != int(lines.size())
        || gzflush(s.archive, Z_SYNC_FLUSH) != Z_OK || ::fsync(s.fd) != 0)
        return Error{ErrorCode::Storage, {}, u"cannot write the archive %1"_s.arg(s.report.archivePath)};

    QSqlQuery del(conn.database());
    if (!del.prepare(u"DELETE FROM app_events WHERE id = ?"_s))
        return conn.lastError(del, u"cannot prune"_s);
    for (qint64 id : std::as_const(ids)) {
        del.addBindValue(id);
        if (!del.exec())
            return conn.lastError(del, u"cannot prune"_s);
    }
    del.finish();
    if (!s.report.firstId)
        s.report.firstId = ids.first();
    s.report.lastId = ids.last();
    s.report.deleted += ids.size();
    s.afterId = ids.last();
    s.lastPageIds = ids;
    ++s.report.transactions;
    *done = ids.size() < qBound(1, s.options.pageSize, 1000);
    return std::nullopt;
}

void finish(const std::shared_ptr<PruneState> &s, Result<PruneReport> result)
{
    if (s->archive) {
        gzclose(s->archive);
        s->archive = nullptr;
    }
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

void nextPage(SqliteEventStore &store, const std::shared_ptr<PruneState> &s)
{
    auto done = std::make_shared<bool>(false);
    store.write([s, done](SqliteConnection &conn) { return prunePage(conn, *s, done.get()); })
        .then([&store, s, done](const Result<bool> &r) {
            if (!r) {
                // What was deleted was archived first; say how far it got.
                Error e = r.error();
                if (s->report.deleted)
                    e.message += u" (after archiving and deleting %1 rows, ids %2–%3, into %4)"_s.arg(s->report.deleted)
                                     .arg(s->report.firstId).arg(s->report.lastId).arg(s->report.archivePath);
                finish(s, e);
                return;
            }
            s->promise.setProgressValue(int(std::min<qint64>(INT_MAX, s->report.deleted)));
            DeskDatabase *desk = store.desk();
            if (desk && !s->lastPageIds.isEmpty())
                desk->forgetIndexed(s->lastPageIds);
            if (!*done) {
                nextPage(store, s);
                return;
            }
            if (s->report.deleted > 0 && desk) {
                const PruneReport rep = s->report;
                desk->write([rep, s](SqliteConnection &conn) {
                    return conn.exec(u"INSERT INTO eventdesk_archives(at, target, cutoff, first_id, last_id, rows) "
                                     "VALUES(?, ?, ?, ?, ?, ?)"_s,
                                     {timestamp::now(), rep.archivePath, cutoffText(s->options), rep.firstId, rep.lastId,
                                      rep.deleted});
                });
                desk->audit(s->options.actor, u"prune"_s,
                            u"deleted %1 events (ids %2–%3) created before %4; archive %5"_s.arg(rep.deleted)
                                .arg(rep.firstId).arg(rep.lastId).arg(cutoffText(s->options), rep.archivePath));
            }
            finish(s, s->report);
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
            // The future's progress: rows archived and deleted of those that go.
            s->promise.setProgressRange(0, int(std::min<qint64>(INT_MAX, s->report.matched - s->report.keptUnprocessed)));
            nextPage(store, s);
        });
    return future;
}

namespace {

// The pages of a stream prune, once the deletable prefix is known.
void nextStreamPage(RedisEventStore &store, const std::shared_ptr<PruneState> &s, qint64 upTo, DeskBook *book)
{
    const int pageSize = qBound(1, s->options.pageSize, 1000);
    store.fetchSince(s->afterId, pageSize).then([&store, s, upTo, book](const Result<QList<StoredEvent>> &page) {
        if (!page) {
            finish(s, page.error());
            return;
        }
        QByteArray lines;
        qint64 last = 0;
        qint64 count = 0;
        for (const StoredEvent &row : page.value()) {
            if (row.id > upTo)
                break;
            lines += rows::toJsonLine(row) + '\n';
            last = row.id;
            ++count;
        }
        if (count == 0) {
            if (book && s->report.deleted > 0)
                book->audit(s->options.actor, u"prune"_s,
                            u"deleted %1 events (ids %2–%3) created before %4 from %5; archive %6"_s.arg(s->report.deleted)
                                .arg(s->report.firstId).arg(s->report.lastId)
                                .arg(cutoffText(s->options), store.location(), s->report.archivePath));
            finish(s, s->report);
            return;
        }
        if (!s->archive) {
            if (auto e = openArchive(*s)) {
                finish(s, *e);
                return;
            }
        }
        if (gzwrite(s->archive, lines.constData(), unsigned(lines.size())) != int(lines.size())
            || gzflush(s->archive, Z_SYNC_FLUSH) != Z_OK || ::fsync(s->fd) != 0) {
            finish(s, Error{ErrorCode::Storage, {}, u"cannot write the archive %1"_s.arg(s->report.archivePath)});
            return;
        }
        store.trimUpTo(last).then([&store, s, upTo, book, last, count](const Result<qint64> &trimmed) {
            if (!trimmed) {
                Error e = trimmed.error();
                e.message += u" (the archive %1 holds the rows up to id %2)"_s.arg(s->report.archivePath).arg(last);
                finish(s, e);
                return;
            }
            if (!s->report.firstId)
                s->report.firstId = s->afterId + 1;
            s->report.lastId = last;
            s->report.deleted += count;
            ++s->report.transactions;
            s->afterId = last;
            nextStreamPage(store, s, upTo, book);
        });
    });
}

} // namespace

QFuture<Result<PruneReport>> pruneStream(RedisEventStore &store, const PruneOptions &options, const QString &archiveDir,
                                         DeskBook *book)
{
    auto s = startPrune(options);
    QFuture<Result<PruneReport>> future = s->promise.future();
    if (future.isFinished())
        return future;  // refused before starting
    s->report.archivePath = options.archivePath;
    if (s->report.archivePath.isEmpty())
        s->report.archivePath = QDir(archiveDir).filePath(u"%1-archive-%2.jsonl.gz"_s.arg(
            QString(store.endpoint().stream).replace(u'/', u'_').replace(u':', u'_'),
            QDateTime::currentDateTimeUtc().toString(u"yyyyMMdd-HHmmss-zzz"_s)));
    // First the walk: how many are older than the cutoff, and how far the
    // deletable prefix reaches.
    struct Walk {
        qint64 matched = 0;
        qint64 prefixEnd = 0;
        qint64 prefixCount = 0;
        bool prefixOpen = true;
    };
    auto walk = std::make_shared<Walk>();
    forEachPage(
        store, 0, 1000,
        [s, walk](const QList<StoredEvent> &page) {
            for (const StoredEvent &row : page) {
                const std::optional<qint64> at = timestamp::parseNanos(row.createdAtText);
                if (!at || *at >= timestamp::nanos(s->options.cutoff))
                    return false;
                ++walk->matched;
                if (walk->prefixOpen && (row.processed || s->options.includeUnprocessed)) {
                    walk->prefixEnd = row.id;
                    ++walk->prefixCount;
                } else {
                    walk->prefixOpen = false;
                }
            }
            return true;
        },
        [&store, s, walk, book](std::optional<Error> error) {
            if (error) {
                finish(s, *error);
                return;
            }
            s->report.matched = walk->matched;
            s->report.keptUnprocessed = walk->matched - walk->prefixCount;
            if (s->options.dryRun || walk->prefixCount == 0) {
                s->report.archivePath.clear();
                finish(s, s->report);
                return;
            }
            nextStreamPage(store, s, walk->prefixEnd, book);
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
