#include "RedisEventStore.h"

#include "RedisWorker.h"
#include "WorkerThread.h"

#include <QPromise>

using namespace Qt::StringLiterals;

namespace eventdesk {

// --- the store (any thread) --------------------------------------------------------

RedisEventStore::RedisEventStore(RedisEndpoint endpoint, QObject *parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , m_knownHead(std::make_shared<std::atomic<qint64>>(0))
    , m_worker(std::make_unique<WorkerThread<RedisWorker>>(u"eventdesk-redis"_s))
{
    m_worker->create(m_endpoint, m_knownHead, this);
}

RedisEventStore::~RedisEventStore()
{
    m_worker->stop();
}

template <typename T, typename F>
QFuture<Result<T>> RedisEventStore::onWorker(F &&fn)
{
    auto promise = std::make_shared<QPromise<Result<T>>>();
    promise->start();
    QFuture<Result<T>> future = promise->future();
    RedisWorker *worker = m_worker->object();
    if (!worker) {
        promise->addResult(Error{ErrorCode::Unavailable, {}, u"the Redis bus is closed"_s});
        promise->finish();
        return future;
    }
    QMetaObject::invokeMethod(
        worker,
        [worker, promise, fn = std::forward<F>(fn)]() mutable {
            fn(*worker, [promise](Result<T> r) {
                promise->addResult(std::move(r));
                promise->finish();
            });
        },
        Qt::QueuedConnection);
    return future;
}

QFuture<Result<bool>> RedisEventStore::open()
{
    return onWorker<bool>([](RedisWorker &w, Done<bool> done) { w.open(std::move(done)); });
}

Result<bool> RedisEventStore::openAndWait()
{
    QFuture<Result<bool>> f = open();
    f.waitForFinished();
    return f.result();
}

QFuture<BatchPublishResult> RedisEventStore::append(const QList<AppEvent> &events)
{
    QList<RedisRow> rows;
    rows.reserve(events.size());
    for (const AppEvent &e : events) {
        Result<QByteArray> payload = storedPayload(e);
        if (!payload)
            return QtFuture::makeReadyFuture(BatchPublishResult(payload.error()));
        rows.append(RedisRow{e.typeName(), std::move(payload).value(), {}, e.worldId(), 0});
    }
    return appendRows(rows);
}

QFuture<BatchPublishResult> RedisEventStore::appendRows(const QList<RedisRow> &rows)
{
    return onWorker<QList<qint64>>([rows](RedisWorker &w, Done<QList<qint64>> done) { w.append(rows, {}, std::move(done)); });
}

QFuture<BatchPublishResult> RedisEventStore::appendForwarded(const QString &source, const QList<RedisRow> &rows)
{
    if (source.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(Error{ErrorCode::Usage, {}, u"a forward needs a source name"_s}));
    return onWorker<QList<qint64>>([source, rows](RedisWorker &w, Done<QList<qint64>> done) { w.append(rows, source, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::forwardCursor(const QString &source)
{
    return onWorker<qint64>([source](RedisWorker &w, Done<qint64> done) { w.forwardCursor(source, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::trimUpTo(qint64 lastId)
{
    return onWorker<qint64>([lastId](RedisWorker &w, Done<qint64> done) { w.trim(lastId, std::move(done)); });
}

QFuture<Result<QList<StoredEvent>>> RedisEventStore::fetchSince(qint64 afterId, int limit)
{
    return onWorker<QList<StoredEvent>>([afterId, limit](RedisWorker &w, Done<QList<StoredEvent>> done) {
        w.fetchSince(afterId, limit, std::move(done));
    });
}

QFuture<Result<QList<StoredEvent>>> RedisEventStore::fetchPage(const EventQuery &query)
{
    return onWorker<QList<StoredEvent>>([query](RedisWorker &w, Done<QList<StoredEvent>> done) { w.fetchPage(query, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::count(const EventQuery &query)
{
    return onWorker<qint64>([query](RedisWorker &w, Done<qint64> done) { w.count(query, std::move(done)); });
}

QFuture<Result<QStringList>> RedisEventStore::distinctWorlds()
{
    return onWorker<QStringList>([](RedisWorker &w, Done<QStringList> done) { w.worlds(std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::headId()
{
    return onWorker<qint64>([](RedisWorker &w, Done<qint64> done) { w.head(std::move(done)); });
}

QFuture<Result<int>> RedisEventStore::markProcessed(const QList<qint64> &ids, bool processed)
{
    if (ids.isEmpty())
        return QtFuture::makeReadyFuture(Result<int>(0));
    return onWorker<int>([ids, processed](RedisWorker &w, Done<int> done) { w.mark(ids, processed, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::loadCursor(const QString &name)
{
    return onWorker<qint64>([name](RedisWorker &w, Done<qint64> done) { w.loadCursor(name, std::move(done)); });
}

QFuture<Result<bool>> RedisEventStore::saveCursor(const QString &name, qint64 lastId)
{
    return onWorker<bool>([name, lastId](RedisWorker &w, Done<bool> done) { w.saveCursor(name, lastId, std::move(done)); });
}

} // namespace eventdesk

