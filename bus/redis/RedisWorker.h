// The Redis store's worker: it lives on the store's own thread and owns both
// Redis connections (commands, and the blocking watch for new entries). Every
// store call runs here, the appends in this file and the others in
// RedisCalls.h; results go back through the store's futures. Internal to
// RedisEventStore.cpp.
#pragma once

#include "RedisAppend.h"
#include "RedisCalls.h"
#include "RedisEventStore.h"

#include "BusLog.h"
#include "RedisClient.h"
#include "RedisStreamFormat.h"

#include <QMutex>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace eventdesk {

using namespace Qt::StringLiterals;  // internal header: included by RedisEventStore.cpp alone

class RedisWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisWorker)
public:
    template <typename T>
    using Done = std::function<void(Result<T>)>;
    static constexpr int WatchGatherMs = 1;
    // The watch rests while this store appended within this time: the
    // replies of its appends show another node's entries (RedisHead::appended),
    // and Redis is not woken for a read of this store's own entries.
    static constexpr int WatchRestMs = 2;
    // Groups of appends on the wire at once. One: each group's transaction
    // is built on the head read after the group before (readHeadAfter).
    static constexpr int MaxAppendsInFlight = 1;

    RedisWorker(RedisEndpoint endpoint, std::shared_ptr<RedisHead> head, RedisEventStore *store)
        : m_endpoint(std::move(endpoint))
        , m_head(std::move(head))
        , m_store(store)
        , m_calls(m_commands, m_endpoint, [this] { ++m_appendsSent; })  // which makes an append's head read stale
        , m_commands(m_endpoint, u"commands"_s)
        , m_watch(m_endpoint, u"watch"_s)
    {
        m_stream = m_endpoint.streamKey();
        connect(&m_watch, &RedisClient::ready, this, &RedisWorker::watchReady);
        m_watchGather.setSingleShot(true);  // started with the gather's or the rest's time
        m_watchGather.setTimerType(Qt::PreciseTimer);
        connect(&m_watchGather, &QTimer::timeout, this, [this] {
            if (m_watch.isReady())
                watchNext();  // else watchReady starts over when it is back
        });
        connect(&m_commands, &RedisClient::ready, this, &RedisWorker::commandsReady);
        for (RedisClient *c : {&m_commands, &m_watch}) {
            connect(c, &RedisClient::connectionLost, this, &RedisWorker::lost);
            connect(c, &RedisClient::refused, this, &RedisWorker::lost);
        }
    }

    void open(Done<bool> done)
    {
        m_opening = std::move(done);
        m_commands.start();
        m_watch.start();
    }

    // The store's calls other than appends (reads, marks, cursors, trims).
    RedisCalls &calls() { return m_calls; }

    // Any thread. Publishes queue up while append scripts are out and go
    // together in the next (group commit, as on SQLite): each still gets its
    // own ids, in order, once Redis has run the script. This thread is woken
    // once per drain, however many publishes arrive meanwhile.
    void enqueueAppend(QList<RedisRow> rows, Done<QList<qint64>> done)
    {
        enqueue(QueuedAppend{std::move(rows), std::move(done), {}});
    }
    // One event's publish: settled here (no continuation, no list of one id).
    void enqueuePublish(RedisRow row, PendingPublish published)
    {
        enqueue(QueuedAppend{{std::move(row)}, {}, std::move(published)});
    }

    // Any thread: nothing queued, posted or on its way. Only then may a
    // producer append on a connection of its own without overtaking one of
    // its earlier publishes.
    bool appendsIdle()
    {
        QMutexLocker lock(&m_queueLock);
        return m_appendQueue.isEmpty() && m_appendsInFlight == 0 && !m_drainPosted;
    }

    // Any thread: the command connection is up, and how many times it came up.
    bool commandsUp() const { return m_commandsUp.load(std::memory_order_acquire); }
    int commandsGeneration() const { return m_commandsGeneration.load(std::memory_order_acquire); }

    // A forwarded batch goes on its own (its source cursor moves with it).
    void appendForwarded(const QList<RedisRow> &rows, const QString &source, Done<QList<qint64>> done)
    {
        if (rows.isEmpty())
            done(QList<qint64>{});
        else
            sendAppend(rows, source, std::move(done));
    }

    ~RedisWorker() override
    {
        // Queued appends are answered; a reply that the connections' teardown
        // answers (with an error) starts no further script.
        m_closing = true;
        QList<QueuedAppend> left;
        {
            QMutexLocker lock(&m_queueLock);
            left = std::exchange(m_appendQueue, {});
        }
        const Result<QList<qint64>> closed = closedError();
        for (QueuedAppend &a : left)
            settle(a, closed, 0);
    }

private:
    struct QueuedAppend {
        QList<RedisRow> rows;
        Done<QList<qint64>> done;                // a batch's, or
        std::optional<PendingPublish> published;  // one event's publish
    };

    // With the group's ids (at: this append's first), or the group's error.
    static void settle(QueuedAppend &a, const Result<QList<qint64>> &ids, qsizetype at)
    {
        if (a.published)
            a.published->settle(ids ? PublishResult(ids->at(at)) : PublishResult(ids.error()));
        else
            a.done(ids ? Result<QList<qint64>>(ids->mid(at, a.rows.size())) : Result<QList<qint64>>(ids.error()));
    }

    void enqueue(QueuedAppend append)
    {
        bool wake = false;
        {
            QMutexLocker lock(&m_queueLock);
            m_appendQueue.append(std::move(append));
            wake = !m_drainPosted && m_appendsInFlight < MaxAppendsInFlight;
            m_drainPosted = m_drainPosted || wake;
        }
        if (wake)
            QMetaObject::invokeMethod(this, &RedisWorker::flushAppends, Qt::QueuedConnection);
    }

    void flushAppends()
    {
        constexpr qsizetype MaxRows = 2000;
        constexpr qsizetype MaxBytes = 8 * 1024 * 1024;
        auto group = std::make_shared<QList<QueuedAppend>>();
        QList<RedisRow> rows;
        {
            QMutexLocker lock(&m_queueLock);
            m_drainPosted = false;
            if (m_closing || m_appendQueue.isEmpty() || m_appendsInFlight >= MaxAppendsInFlight)
                return;
            qsizetype bytes = 0;
            while (!m_appendQueue.isEmpty()) {
                const QueuedAppend &next = m_appendQueue.first();
                qsizetype nextBytes = 0;
                for (const RedisRow &r : next.rows)
                    nextBytes += r.payload.size();
                if (!group->isEmpty() && (rows.size() + next.rows.size() > MaxRows || bytes + nextBytes > MaxBytes))
                    break;
                rows += next.rows;
                bytes += nextBytes;
                group->append(m_appendQueue.takeFirst());
            }
            ++m_appendsInFlight;
        }
        sendGroup(group, rows, headReady());
    }

    // A group goes as a transaction with its ids when the connection knows
    // the head and WATCHes it, else (the first group, another append on this
    // connection since, a reconnect) as the script. Either way the head is
    // read again after it, and the next group goes when that is back.
    void sendGroup(const std::shared_ptr<QList<QueuedAppend>> &group, const QList<RedisRow> &rows, bool transaction)
    {
        // Done when both its append's answer (after any retry) and its head
        // read are back: only then is it answered, may a producer thread
        // append on its own connection (appendsIdle), and may the next group
        // go. (The head read's replies come with the append's, pipelined.)
        auto parts = std::make_shared<int>(2);
        auto answer = std::make_shared<std::optional<Result<QList<qint64>>>>();
        auto partDone = [this, parts, group, answer] {
            if (--*parts > 0)
                return;
            {
                QMutexLocker lock(&m_queueLock);
                --m_appendsInFlight;
            }
            if (*answer) {  // none when the script took the group over
                qsizetype at = 0;
                for (QueuedAppend &a : *group) {
                    settle(a, **answer, at);
                    at += a.rows.size();
                }
            }
            flushAppends();
        };
        auto settleGroup = [answer, partDone](const Result<QList<qint64>> &ids) {
            *answer = ids;
            partDone();
        };
        if (transaction)
            sendTransaction(rows, [this, group, rows, settleGroup, partDone](std::optional<Result<QList<qint64>>> ids) {
                if (ids) {
                    settleGroup(*ids);
                } else if (m_closing) {
                    settleGroup(closedError());
                } else {
                    // Something touched the stream since the WATCH, and nothing
                    // ran: the script gives the ids (before any later group).
                    {
                        QMutexLocker lock(&m_queueLock);
                        ++m_appendsInFlight;
                    }
                    sendGroup(group, rows, false);
                    partDone();
                }
            });
        else
            sendAppend(rows, {}, settleGroup);
        readHeadAfter(partDone);
    }

    void sendAppend(const QList<RedisRow> &rows, const QString &source, Done<QList<qint64>> done)
    {
        ++m_appendsSent;
        const AppendCall call = appendCall(m_endpoint, rows, source, m_worldsAdded);
        m_calls.eval(redisstream::appendScript(), call.keys, call.args,
             [this, worlds = call.worlds, generation = m_commandsGeneration.load(), expected = source.isEmpty() ? rows.size() : -1,
              done = std::move(done)](Result<RedisReply> reply) {
                 Result<QList<qint64>> ids = appendIds(reply, expected);
                 if (ids)
                     appendedHere(*ids, worlds, generation);
                 done(std::move(ids));
             });
    }

    // The group after the head this connection read and WATCHes (RedisAppend.h
    // transactionCall). nullopt to `done`: Redis ran none of it.
    void sendTransaction(const QList<RedisRow> &rows, std::function<void(std::optional<Result<QList<qint64>>>)> done)
    {
        ++m_appendsSent;  // the head read is spent
        const qint64 head = m_readHead.head;
        const QByteArrayList worlds = newWorlds(rows, m_worldsAdded);
        transactionCall(m_endpoint, rows, head, worlds, [this](const QByteArrayList &call) { m_commands.commandWithoutReply(call); });
        m_commands.command({"EXEC"}, [this, head, count = rows.size(), worlds, generation = m_commandsGeneration.load(),
                                          done = std::move(done)](Result<RedisReply> reply) {
            std::optional<Result<QList<qint64>>> ids = transactionIds(reply, head, count);
            if (ids && *ids)
                appendedHere(**ids, worlds, generation);
            else if (ids)
                qCWarning(lcRedis).noquote() << "an append transaction failed:" << ids->error().message;
            done(std::move(ids));
        });
    }

    // This connection appended `ids`, adding `worlds` to the set.
    void appendedHere(const QList<qint64> &ids, const QByteArrayList &worlds, int generation)
    {
        if (const qint64 others = m_head->appended(ids))
            Q_EMIT m_store->externalRowsDetected(others);
        if (generation == m_commandsGeneration.load())
            m_worldsAdded.unite(QSet<QByteArray>(worlds.begin(), worlds.end()));
    }

    // After an append: WATCH the stream and the counter, and read where the
    // next group goes on from. Valid for the next group only if no append was
    // sent on this connection meanwhile and it did not reconnect.
    void readHeadAfter(std::function<void()> then)
    {
        // The replies gathered in order (a lost one stands for its error), and
        // read as the producer connection's are (RedisAppend.h headRead).
        const QList<QByteArrayList> calls = readHeadCalls(m_endpoint);
        auto replies = std::make_shared<QList<RedisReply>>();
        for (qsizetype i = 0; i < calls.size(); ++i)
            m_commands.command(calls[i], [this, replies, last = i == calls.size() - 1, sent = m_appendsSent,
                                          generation = m_commandsGeneration.load(), then](Result<RedisReply> reply) {
                replies->append(reply ? *reply : RedisReply{RedisReply::Type::Error, 0, reply.error().message.toUtf8(), {}});
                if (!last)
                    return;
                m_readHead = ReadHead{sent, generation, headRead(*replies, 0)};
                if (m_head->lostIn(m_readHead.head))
                    m_worldsAdded.clear();  // their worlds went with them
                then();
            });
    }

    bool headReady() const
    {
        return m_readHead.head >= 0 && m_readHead.sent == m_appendsSent && m_readHead.generation == m_commandsGeneration.load()
               && m_transactionsAt == m_readHead.generation;
    }

    // The head the commands connection read after its last append, and
    // WATCHes since (readHeadAfter): the next group's transaction goes on
    // from it while no other append was sent (m_appendsSent) on the same
    // connection (generation).
    struct ReadHead {
        quint64 sent = 0;
        int generation = -1;
        qint64 head = -1;  // -1: not known
    };
    ReadHead m_readHead;
    quint64 m_appendsSent = 0;  // appends sent on the commands connection, ever
    int m_transactionsAt = -1;  // the generation whose connection may send MULTI

    QMutex m_queueLock;  // the three below
    QList<QueuedAppend> m_appendQueue;
    int m_appendsInFlight = 0;  // groups sent and not done (their head read back), at most MaxAppendsInFlight
    bool m_drainPosted = false;
    bool m_closing = false;
    std::atomic<bool> m_commandsUp{false};
    std::atomic<int> m_commandsGeneration{0};
    // Worlds this connection has added to the set: not sent again until it
    // reconnects (Redis may have come back without them).
    QSet<QByteArray> m_worldsAdded;

private:
    void commandsReady()
    {
        const int generation = m_commandsGeneration.fetch_add(1, std::memory_order_acq_rel) + 1;
        // May this connection run transactions (an ACL may refuse MULTI)? Asked
        // before anything else goes on it: a MULTI refused in the middle of a
        // group would leave its XADDs to run one by one, unprotected.
        m_commands.command({"MULTI"}, [this, generation](Result<RedisReply> reply) {
            if (reply && !reply->isError())
                m_transactionsAt = generation;
            else if (reply)  // (no reply: the connection is going away)
                qCInfo(lcRedis).noquote() << u"Redis refuses MULTI here (%1): appends go through the script"_s.arg(QString::fromUtf8(reply->text));
        });
        m_commands.command({"DISCARD"}, [](const Result<RedisReply> &) {});
        m_commandsUp.store(true, std::memory_order_release);
        m_worldsAdded.clear();
        finishOpening();
        if (m_wasDown) {
            m_wasDown = false;
            Q_EMIT m_store->connectionChanged(true, {});
        }
    }

    void finishOpening()
    {
        if (m_opening && m_commands.isReady() && m_watch.isReady()) {
            m_opened = true;
            std::exchange(m_opening, nullptr)(true);
        }
    }

    void lost(const QString &reason)
    {
        m_commandsUp.store(m_commands.isReady(), std::memory_order_release);
        if (m_opening) {
            // Absent, refused or unreachable at start: say so instead of waiting.
            std::exchange(m_opening, nullptr)(Error{ErrorCode::Unavailable, u"bus"_s, reason});
            return;
        }
        if (!m_opened)
            return;  // never opened: the caller has its error already
        if (!m_wasDown) {
            m_wasDown = true;
            qCWarning(lcRedis) << "lost Redis:" << reason;
            Q_EMIT m_store->connectionChanged(false, reason);
        }
    }

    // The watch connection waits in XREAD BLOCK for entries after the last one
    // it saw; it starts from the head when the store opens.
    void watchReady()
    {
        finishOpening();
        m_watchGather.stop();  // the read below starts the watch over
        m_watch.command({"XREVRANGE", m_stream, "+", "-", "COUNT", "1"}, [this](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "XREVRANGE");
            if (!r)
                return;  // the connection is going away; watchReady runs again
            const QByteArray head = r->elements.isEmpty() || r->elements[0].elements.isEmpty() ? QByteArray("0-0")
                                                                                               : r->elements[0].elements[0].text;
            if (m_watchFrom.isEmpty()) {
                m_watchFrom = head;
            } else if (redisstream::entryNumber(head) < redisstream::entryNumber(m_watchFrom)) {
                qCWarning(lcRedis) << "the stream went back from" << m_watchFrom << "to" << head
                                   << "- Redis lost data (is persistence off?)";
                m_watchFrom = head;
            }
            // Whatever arrived while we were away: subscribers go and look.
            Q_EMIT m_store->externalRowsDetected(0);
            watch();
        });
    }

    // After a read that found entries, the next waits a moment: entries that
    // come meanwhile are read together, so a busy stream (this store's own
    // appends among them) wakes this thread and Redis about once per gather,
    // not once per entry. An idle stream's first entry is seen at once.
    void watch()
    {
        constexpr int BlockMs = 2000;
        m_watch.command({"XREAD", "COUNT", "1000", "BLOCK", QByteArray::number(BlockMs), "STREAMS", m_stream, m_watchFrom},
                        [this](Result<RedisReply> reply) {
                            const Result<RedisReply> r = checked(reply, "XREAD");
                            if (!r)
                                return;  // reconnecting; watchReady resumes from m_watchFrom
                            bool found = false;
                            if (!r->isNil() && !r->elements.isEmpty() && r->elements[0].elements.size() == 2) {
                                const QList<RedisReply> &entries = r->elements[0].elements[1].elements;
                                if (!entries.isEmpty() && !entries.last().elements.isEmpty()) {
                                    found = true;
                                    m_watchFrom = entries.last().elements[0].text;
                                    const qint64 head = redisstream::entryNumber(m_watchFrom);
                                    if (head > m_head->known.load()) {
                                        m_head->raise(head);
                                        Q_EMIT m_store->externalRowsDetected(head);
                                    }
                                }
                            }
                            if (found)
                                m_watchGather.start(WatchGatherMs);
                            else
                                watchNext();
                        },
                        BlockMs + m_endpoint.timeoutMs);
    }

    // The next read, or a rest while this store is appending. It resumes past
    // what the store knows: its own entries, and others' that its appends' replies showed.
    void watchNext()
    {
        constexpr qint64 RestNs = qint64(WatchRestMs) * 1000 * 1000;
        if (m_head->appendedWithin(RestNs)) {
            m_watchGather.start(WatchRestMs);
            return;
        }
        if (const qint64 known = m_head->known.load(); known > redisstream::entryNumber(m_watchFrom))
            m_watchFrom = QByteArray::number(known) + "-0";
        watch();
    }

    RedisEndpoint m_endpoint;
    std::shared_ptr<RedisHead> m_head;
    RedisEventStore *m_store;
    QByteArray m_stream;
    // Before the connection: its callbacks, answered as it closes, may still use it.
    RedisCalls m_calls;
    RedisClient m_commands;
    RedisClient m_watch;
    QByteArray m_watchFrom;
    QTimer m_watchGather;  // the pause after a read that found entries, or the watch's rest
    Done<bool> m_opening;
    bool m_wasDown = false;
    bool m_opened = false;
};

} // namespace eventdesk
