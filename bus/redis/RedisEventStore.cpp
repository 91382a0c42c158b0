#include "RedisEventStore.h"

#include "RedisDirect.h"
#include "RedisWorker.h"
#include "StoredPayload.h"
#include "WorkerThread.h"

#include <QCoreApplication>
#include <QPromise>
#include <QThread>

using namespace Qt::StringLiterals;

namespace eventdesk {

// --- the store (any thread) --------------------------------------------------------

RedisEventStore::RedisEventStore(RedisEndpoint endpoint, QObject *parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , m_head(std::make_shared<RedisHead>())
    , m_worker(std::make_unique<WorkerThread<RedisWorker>>(u"eventdesk-redis"_s))
{
    appendCommandResp(m_execAndRead, {"EXEC"});
    for (const QByteArrayList &call : counterReadCalls(m_endpoint))
        appendCommandResp(m_execAndRead, call);
    m_worker->create(m_endpoint, m_head, this);
}

RedisEventStore::~RedisEventStore()
{
    m_worker->stop();
    std::lock_guard lock(m_directLock);  // a producer thread may still be in appendDirect
    m_direct.reset();
}

template <typename T, typename F>
QFuture<Result<T>> RedisEventStore::onWorker(F &&fn)
{
    auto promise = std::make_shared<QPromise<Result<T>>>();
    promise->start();
    QFuture<Result<T>> future = promise->future();
    RedisWorker *worker = m_worker->object();
    if (!worker) {
        promise->addResult(closedError());
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

// A producer's publish, answered without append's list and continuation: on
// its own thread when it may go direct, else settled by the worker.
QFuture<PublishResult> RedisEventStore::appendOne(const AppEvent &event, Notifier *notifier)
{
    Result<QByteArray> payload = storedPayload(event);
    if (!payload)
        return PendingPublish::answered(notifier, payload.error());
    RedisRow row{event.typeName(), std::move(payload).value(), {}, event.worldId(), 0};
    if (std::optional<BatchPublishResult> done = appendDirect({row}))
        return PendingPublish::answered(notifier, *done ? PublishResult(done->value().first()) : PublishResult(done->error()));
    RedisWorker *worker = m_worker->object();
    if (!worker)
        return PendingPublish::answered(notifier, closedError());
    PendingPublish published(notifier);
    QFuture<PublishResult> future = published.future();
    worker->enqueuePublish(std::move(row), std::move(published));
    return future;
}

// Recorded messages (eventdesk record), each entry with its world in a field
// of its own: appended as one group, like any other.
QFuture<BatchPublishResult> RedisEventStore::appendRecorded(const QList<RecordedRow> &rows)
{
    QList<RedisRow> out;
    out.reserve(rows.size());
    for (const RecordedRow &r : rows)
        out.append(RedisRow{r.eventType, r.payload, r.receivedAt, r.worldId, 0, true});
    return appendRows(out);
}

// Recorded messages keep their text and world; a stream entry's time is its own.
QFuture<BatchPublishResult> RedisEventStore::appendImported(const QList<rows::ImportedRow> &rows)
{
    QList<RedisRow> out;
    out.reserve(rows.size());
    for (const rows::ImportedRow &r : rows) {
        if (r.recorded) {
            out.append(RedisRow{r.recorded->eventType, r.recorded->payload, {}, r.recorded->worldId, 0, true});
            continue;
        }
        Result<QByteArray> payload = storedPayload(r.event);
        if (!payload)
            return QtFuture::makeReadyFuture(BatchPublishResult(payload.error()));
        out.append(RedisRow{r.event.typeName(), std::move(payload).value(), {}, r.event.worldId(), 0});
    }
    return appendRows(out);
}

QFuture<BatchPublishResult> RedisEventStore::appendRows(const QList<RedisRow> &rows)
{
    if (std::optional<BatchPublishResult> done = appendDirect(rows))
        return QtFuture::makeReadyFuture(std::move(*done));
    RedisWorker *worker = m_worker->object();
    if (!worker)
        return QtFuture::makeReadyFuture(BatchPublishResult(closedError()));
    if (rows.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(QList<qint64>{}));
    auto promise = std::make_shared<QPromise<BatchPublishResult>>();
    promise->start();
    QFuture<BatchPublishResult> future = promise->future();
    worker->enqueueAppend(rows, [promise](BatchPublishResult r) {
        promise->addResult(std::move(r));
        promise->finish();
    });
    return future;
}

// A producer thread's small append, sent and answered on the producer's own
// thread. Not from the main thread (it never waits on the network), nor the
// worker's; not while anything is queued or out (so a thread's publishes stay
// in its order), nor while another thread uses the connection, nor while the
// worker's connection is down (the worker says why, and fails fast). Big
// batches go through the worker, as one transaction. As on the worker's
// connection, an append goes as a MULTI/EXEC transaction with its ids when
// the connection read the head after its last append and WATCHes it since,
// else (the first append, a new connection, another writer since) through
// the script; and the head is read again in the same round trip. After a
// transaction that read is the counter's alone (RedisAppend.h
// counterReadCalls), 8-13 us less per publish than with the stream's last id
// beside it, and it serves a single row only.
std::optional<BatchPublishResult> RedisEventStore::appendDirect(const QList<RedisRow> &rows)
{
    constexpr qsizetype DirectRows = 16;
    RedisWorker *worker = m_worker->object();
    if (!worker || rows.isEmpty() || rows.size() > DirectRows || !worker->commandsUp())
        return std::nullopt;
    QThread *here = QThread::currentThread();
    const QCoreApplication *app = QCoreApplication::instance();
    if (here == worker->thread() || (app && here == app->thread()))
        return std::nullopt;
    std::unique_lock lock(m_directLock, std::try_to_lock);
    if (!lock.owns_lock() || m_directDownAt == worker->commandsGeneration() || !worker->appendsIdle())
        return std::nullopt;
    if (!m_direct)
        m_direct = std::make_unique<RedisDirect>(m_endpoint);
    const int generation = worker->commandsGeneration();
    if (m_directWorldsAt != generation) {
        m_directWorlds.clear();  // Redis may have come back without them
        m_directWorldsAt = generation;
    }
    if (const DirectHead read = std::exchange(m_directHead, {});
        read.head >= 0 && m_direct->transactions() && (rows.size() == 1 || read.wholeStream)) {
        const QByteArrayList worlds = newWorlds(rows, m_directWorlds);
        QByteArray wire;
        wire.reserve(512 * rows.size());
        qsizetype exec = 0;
        transactionCall(m_endpoint, rows, read.head, worlds, [&](const QByteArrayList &call) {
            appendCommandResp(wire, call);
            ++exec;
        });
        wire += m_execAndRead;  // EXEC, then counterReadCalls
        const RedisDirect::Answer answer = m_direct->pipeline(wire, exec + 3, read.connection);
        if (answer.outcome == RedisDirect::Outcome::Lost)
            return BatchPublishResult(answer.error);
        if (answer.outcome == RedisDirect::Outcome::Answered) {
            directHeadRead(DirectHead{answer.connection, counterRead(answer.replies, exec + 1), false});
            if (std::optional<Result<QList<qint64>>> ids = transactionIds(answer.replies.at(exec), read.head, rows.size())) {
                if (*ids)
                    appendedDirect(**ids, worlds);
                else
                    qCWarning(lcRedis).noquote() << "an append transaction failed:" << ids->error().message;
                return std::move(*ids);
            }
        }
        // Not run (something touched the stream or the counter since the
        // WATCH, or the stream is past the counter), or the connection it
        // counted on is gone: the script.
    }
    const AppendCall call = appendCall(m_endpoint, rows, {}, m_directWorlds);
    const redisstream::Script &script = redisstream::appendScript();
    const QList<QByteArrayList> readHead = readHeadCalls(m_endpoint);
    RedisDirect::Answer answer = m_direct->pipeline(QList<QByteArrayList>{scriptCall("EVALSHA", script.sha, call.keys, call.args)} + readHead);
    if (isNoScript(answer.first()))
        answer = m_direct->pipeline(QList<QByteArrayList>{scriptCall("EVAL", QByteArray(script.body), call.keys, call.args)} + readHead);
    if (answer.outcome == RedisDirect::Outcome::NotSent) {
        // Not sent at all: the worker sends it, and this path waits until the
        // worker's connection has come up again.
        m_directDownAt = generation;
        return std::nullopt;
    }
    if (answer.outcome == RedisDirect::Outcome::Answered)
        directHeadRead(DirectHead{answer.connection, headRead(answer.replies, 1), true});
    Result<QList<qint64>> ids = appendIds(answer.first(), rows.size());
    if (ids)
        appendedDirect(*ids, call.worlds);
    return ids;
}

// What the direct connection read after an append. Behind what this store
// appended (RedisHead::lostIn): the worlds it added to the set go there again.
void RedisEventStore::directHeadRead(DirectHead read)
{
    if (m_head->lostIn(read.head))
        m_directWorlds.clear();
    m_directHead = read;
}

// The direct connection appended `ids`, adding `worlds` to the set.
void RedisEventStore::appendedDirect(const QList<qint64> &ids, const QByteArrayList &worlds)
{
    if (const qint64 others = m_head->appended(ids))
        Q_EMIT externalRowsDetected(others);
    m_directWorlds.unite(QSet<QByteArray>(worlds.begin(), worlds.end()));
}

QFuture<BatchPublishResult> RedisEventStore::appendForwarded(const QString &source, const QList<RedisRow> &rows)
{
    if (source.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(Error{ErrorCode::Usage, {}, u"a forward needs a source name"_s}));
    return onWorker<QList<qint64>>([source, rows](RedisWorker &w, Done<QList<qint64>> done) { w.appendForwarded(rows, source, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::forwardCursor(const QString &source)
{
    return onWorker<qint64>([source](RedisWorker &w, Done<qint64> done) { w.calls().forwardCursor(source, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::trimUpTo(qint64 lastId)
{
    return onWorker<qint64>([lastId](RedisWorker &w, Done<qint64> done) { w.calls().trim(lastId, std::move(done)); });
}

QFuture<Result<QList<StoredEvent>>> RedisEventStore::fetchSince(qint64 afterId, int limit)
{
    return onWorker<QList<StoredEvent>>([afterId, limit](RedisWorker &w, Done<QList<StoredEvent>> done) {
        w.calls().fetchSince(afterId, limit, std::move(done));
    });
}

QFuture<Result<QList<StoredEvent>>> RedisEventStore::fetchPage(const EventQuery &query)
{
    return onWorker<QList<StoredEvent>>([query](RedisWorker &w, Done<QList<StoredEvent>> done) { w.calls().fetchPage(query, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::count(const EventQuery &query)
{
    return onWorker<qint64>([query](RedisWorker &w, Done<qint64> done) { w.calls().count(query, std::move(done)); });
}

QFuture<Result<QStringList>> RedisEventStore::distinctWorlds()
{
    return onWorker<QStringList>([](RedisWorker &w, Done<QStringList> done) { w.calls().worlds(std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::headId()
{
    return onWorker<qint64>([](RedisWorker &w, Done<qint64> done) { w.calls().head(std::move(done)); });
}

QFuture<Result<int>> RedisEventStore::markProcessed(const QList<qint64> &ids, bool processed)
{
    if (ids.isEmpty())
        return QtFuture::makeReadyFuture(Result<int>(0));
    return onWorker<int>([ids, processed](RedisWorker &w, Done<int> done) { w.calls().mark(ids, processed, std::move(done)); });
}

QFuture<Result<qint64>> RedisEventStore::loadCursor(const QString &name)
{
    return onWorker<qint64>([name](RedisWorker &w, Done<qint64> done) { w.calls().loadCursor(name, std::move(done)); });
}

QFuture<Result<bool>> RedisEventStore::saveCursor(const QString &name, qint64 lastId)
{
    return onWorker<bool>([name, lastId](RedisWorker &w, Done<bool> done) { w.calls().saveCursor(name, lastId, std::move(done)); });
}

} // namespace eventdesk

