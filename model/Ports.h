// The ports of the bus (DESIGN §1): what producers publish through (EventBus),
// where events are kept (EventStore) and what wakes subscribers (Notifier).
// Adapters in bus/ implement them on SQLite and on Redis Streams.
//
// Every operation returns a QFuture so that one shape serves a store that runs
// its queries on a worker thread and one that waits for a network reply; a
// failure is a Result holding an Error, never an exception.
#pragma once

#include "AppEvent.h"
#include "Result.h"

#include <QDateTime>
#include <QFuture>
#include <QFutureInterface>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <optional>

namespace eventdesk {

using PublishResult = Result<qint64>;
using BatchPublishResult = Result<QList<qint64>>;

// One row of app_events as stored, decoded where possible.
struct StoredEvent {
    qint64 id = 0;
    QString eventType;       // the event_type column
    QByteArray payload;      // the payload column, as written
    QDateTime createdAt;     // UTC
    QString createdAtText;   // the created_at column, as written
    bool processed = false;
    QDateTime processedAt;   // invalid when NULL
    std::optional<AppEvent> event;  // absent when the payload does not decode
    QString decodeError;            // why, when it does not
    // A message today's engine sent, kept by `eventdesk record` (or EventDesk's
    // own row about that recording): its tag, and the world it was received in.
    // Not an AppEvent, but no undecodable row either: shown by its own summary.
    QString engineTag;
    QString recordedWorld;

    bool isDecoded() const { return event.has_value(); }
    bool isEngineMessage() const { return !engineTag.isEmpty(); }
    // The row's world: the event's, or the world a recorded message came from.
    QString worldId() const { return event ? event->worldId() : recordedWorld; }
    // Decodes payload (falling back to event_type when the payload lacks "type").
    void decode();
};

// A filtered, paged read of the log. Every filter is optional; a default
// query is "every event, oldest first".
struct EventQuery {
    // World ids to keep; an empty string keeps events without a world. Empty list: all.
    QStringList worlds;
    QList<EventKind> kinds;          // empty: all
    // Recorded messages of today's engine to keep, by tag (eventdesk record);
    // with kinds, a row matching either is kept. A kind also keeps the
    // engine's messages that mean it (its GenerationQueued, …).
    QStringList tags;
    bool includeUndecodable = true;  // rows whose type is unknown (only when kinds is empty)
    // created_at as an instant, nanoseconds since the epoch (timestamp::nanos).
    std::optional<qint64> createdFrom;  // inclusive; nullopt: unbounded
    std::optional<qint64> createdTo;    // exclusive; nullopt: unbounded
    QString text;                    // substring of the payload, case-insensitive
    // With text: payloads holding any of these match as well (the ids of the
    // worlds and characters whose display names hold the text).
    QStringList textAlso;
    qint64 afterId = 0;              // id > afterId
    qint64 beforeId = 0;             // id < beforeId (0: unbounded)
    int limit = 500;
    bool newestFirst = false;
    // Matching rows to skip, in the query's order, before the first one
    // returned: rows by position (the window's scrollbar). Costs a walk over
    // the skipped ids; keyset bounds (afterId / beforeId) are cheaper.
    qint64 offset = 0;

    bool operator==(const EventQuery &) const = default;
    // The same filter applied to one row in memory (live rows, --follow):
    // everything but limit, order and offset.
    bool matches(const StoredEvent &row) const;
    // The event_type values kinds and tags keep (empty: no type filter).
    QStringList typeNames() const;
};

class Notifier;

class EventStore
{
public:
    virtual ~EventStore() = default;

    // Durable append of one transaction's worth of events; ids in order.
    virtual QFuture<BatchPublishResult> append(const QList<AppEvent> &events) = 0;
    // One event, appended durably, then announced to `notifier` (if it is
    // still there) before the future holds its id: the publish a producer
    // makes and waits for, thousands of times a second. The default goes
    // through append and a continuation; a store may answer it with less.
    virtual QFuture<PublishResult> appendOne(const AppEvent &event, Notifier *notifier);
    // Rows with id > afterId, oldest first, at most limit.
    virtual QFuture<Result<QList<StoredEvent>>> fetchSince(qint64 afterId, int limit) = 0;
    virtual QFuture<Result<QList<StoredEvent>>> fetchPage(const EventQuery &query) = 0;
    // How many rows match (ignores limit and paging).
    virtual QFuture<Result<qint64>> count(const EventQuery &query) = 0;
    // Every world seen, sorted; events without a world are not listed here.
    virtual QFuture<Result<QStringList>> distinctWorlds() = 0;
    // The largest id, 0 for an empty log.
    virtual QFuture<Result<qint64>> headId() = 0;
    // Sets processed (and processed_at) on the given rows; returns rows changed.
    virtual QFuture<Result<int>> markProcessed(const QList<qint64> &ids, bool processed) = 0;
    // A named subscriber's cursor: the last id it handled (0 when new).
    virtual QFuture<Result<qint64>> loadCursor(const QString &name) = 0;
    virtual QFuture<Result<bool>> saveCursor(const QString &name, qint64 lastId) = 0;
    // Where the events live, for people ("/home/dm/.local/share/…/events.db").
    virtual QString location() const = 0;

    // Messages kept as they came (today's engine's, by `eventdesk record`):
    // event_type, the payload's exact bytes, when they were received and the
    // world they came from, appended durably in one transaction, ids in order.
    struct RecordedRow {
        QString eventType;
        QByteArray payload;
        QString receivedAt;  // created_at, as written
        QString worldId;
    };
    virtual QFuture<BatchPublishResult> appendRecorded(const QList<RecordedRow> &rows);
};

// Wakes subscribers. An adapter emits eventsAvailable() once per committed
// append (never per row, never before commit), and also when it notices rows
// that another process wrote.
class Notifier : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    // Called after a durable append; thread-safe.
    virtual void notifyAppended(qint64 lastId) = 0;
    // On the notifier's thread, part way through a long piece of work (a
    // fan-out to a thousand sockets): appends from other threads that are not
    // announced yet are announced now, not at the next turn of the event
    // loop. True if something was.
    virtual bool announcePending() { return false; }

Q_SIGNALS:
    // Rows up to at least headId may be readable now (0: unknown, go and look).
    void eventsAvailable(qint64 headId);
};

// After a durable append: subscribers are woken (through a notifier that is
// still there), or the failure is logged.
void announceAppended(const QPointer<Notifier> &notifier, const Result<qint64> &lastId);

// One event's publish that its store settles itself (EventStore::appendOne):
// the notifier hears of it, then the future holds the id or the error.
class PendingPublish
{
public:
    explicit PendingPublish(Notifier *notifier) : m_notifier(notifier) { m_future.reportStarted(); }
    QFuture<PublishResult> future() { return m_future.future(); }
    void settle(PublishResult r)
    {
        announceAppended(m_notifier, r);
        m_future.reportAndMoveResult(std::move(r));
        m_future.reportFinished();
    }
    // Settled at once (refused, closed, or appended on the caller's thread).
    static QFuture<PublishResult> answered(Notifier *notifier, PublishResult r)
    {
        PendingPublish p(notifier);
        p.settle(std::move(r));
        return p.future();
    }

private:
    QFutureInterface<PublishResult> m_future;
    QPointer<Notifier> m_notifier;
};

class EventBus
{
public:
    virtual ~EventBus() = default;

    // Validates, appends durably, then notifies. The id is on disk once the
    // future holds it. A failure is an Error in the result, already logged.
    virtual QFuture<PublishResult> publish(const AppEvent &event) = 0;
    // All or nothing: one transaction.
    virtual QFuture<BatchPublishResult> publishBatch(const QList<AppEvent> &events) = 0;
};

// The EventBus of DESIGN §1 over any store and notifier.
class StoreEventBus final : public EventBus
{
public:
    StoreEventBus(EventStore &store, Notifier &notifier);

    QFuture<PublishResult> publish(const AppEvent &event) override;
    QFuture<BatchPublishResult> publishBatch(const QList<AppEvent> &events) override;

private:
    EventStore &m_store;
    Notifier &m_notifier;
};

// Checks what the codec would reject on decode (string sizes, integer ranges,
// an empty event), so nothing is stored that cannot be read back.
std::optional<Error> validate(const AppEvent &event);

} // namespace eventdesk

Q_DECLARE_METATYPE(eventdesk::StoredEvent)
