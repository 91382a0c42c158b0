// Retention on a Redis stream (bus/Retention.h pruneStream).
#include "Retention.h"
#include "RetentionDetail.h"

#include "BusLog.h"
#include "RowFormat.h"
#include "StoreScans.h"
#include "Timestamp.h"

#include <QDir>
#include <QFileInfo>

using namespace Qt::StringLiterals;

namespace eventdesk {

using namespace retention_detail;

namespace {

// A stream prune's second phase: trimmed up to each archived page's end in turn.
void nextStreamTrim(RedisEventStore &store, const std::shared_ptr<PruneState> &s, DeskBook *book)
{
    if (s->deletedUpTo >= s->pageEnds.size()) {
        if (book && s->report.deleted > 0)
            book->audit(s->options.actor, u"prune"_s,
                        u"deleted %1 events (ids %2–%3) created before %4 from %5; archive %6"_s.arg(s->report.deleted)
                            .arg(s->report.firstId).arg(s->report.lastId)
                            .arg(cutoffText(s->options), store.location(), s->report.archivePath));
        finish(s, s->report);
        return;
    }
    const qint64 upTo = s->pageEnds.at(s->deletedUpTo);
    store.trimUpTo(upTo).then([&store, s, book, upTo](const Result<qint64> &trimmed) {
        if (!trimmed) {
            Error e = trimmed.error();
            e.message += u" (the archive %1 holds every row that was to go; those up to id %2 were deleted)"_s
                             .arg(s->report.archivePath).arg(s->report.lastId);
            finish(s, e);
            return;
        }
        const qint64 count = s->pageCounts.at(s->deletedUpTo);
        if (!s->report.firstId)
            s->report.firstId = s->archived.first();
        s->report.lastId = upTo;
        s->report.deleted += count;
        ++s->report.transactions;
        ++s->deletedUpTo;
        s->progress();
        nextStreamTrim(store, s, book);
    });
}

// A stream prune's first phase: the deletable prefix, a page at a time, into the archive.
void nextStreamPage(RedisEventStore &store, const std::shared_ptr<PruneState> &s, qint64 upTo, DeskBook *book)
{
    if (s->cancelled()) {
        finishCancelled(s);
        return;
    }
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
            s->archived.append(row.id);
            last = row.id;
            ++count;
        }
        if (last == 0) {
            if (s->archived.isEmpty()) {
                s->report.archivePath.clear();
                finish(s, s->report);
                return;
            }
            if (s->cancelled()) {
                finishCancelled(s);
                return;
            }
            if (auto e = sealArchive(*s)) {
                finish(s, *e);
                return;
            }
            nextStreamTrim(store, s, book);
            return;
        }
        if (auto e = appendToArchive(*s, lines)) {
            finish(s, *e);
            return;
        }
        s->pageEnds.append(last);
        s->pageCounts.append(count);
        s->afterId = last;
        s->progress();
        nextStreamPage(store, s, upTo, book);
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
            s->promise.setProgressRange(0, int(std::min<qint64>(INT_MAX / 2, walk->prefixCount) * 2));
            nextStreamPage(store, s, walk->prefixEnd, book);
        });
    return future;
}

} // namespace eventdesk
