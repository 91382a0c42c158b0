#include "Projector.h"

#include "BusLog.h"
#include "Timestamp.h"

#include <QSqlQuery>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr int BatchSize = 500;

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

QString minuteOf(const StoredEvent &row)
{
    const QDateTime at = row.createdAt.isValid() ? row.createdAt : QDateTime::currentDateTimeUtc();
    return at.toUTC().toString(u"yyyy-MM-ddTHH:mm"_s);
}

// Applies one row to the projection tables; q is reused for speed.
std::optional<Error> applyRow(SqliteConnection &conn, const StoredEvent &row)
{
    const QString at = row.createdAt.isValid() ? timestamp::format(row.createdAt) : timestamp::now();
    // Null QStrings bind as SQL NULL; these columns hold "" for "none".
    const QString world = row.event && !row.event->worldId().isEmpty() ? row.event->worldId() : u""_s;
    if (auto e = conn.exec(u"INSERT INTO eventdesk_stats_minute(minute, event_type, world_id, count) VALUES(?, ?, ?, 1) "
                           "ON CONFLICT(minute, event_type, world_id) DO UPDATE SET count = count + 1"_s,
                           {minuteOf(row), row.eventType, world}))
        return e;
    if (!row.event)
        return std::nullopt;
    const AppEvent &event = *row.event;
    if (event.category() == Category::Story || event.category() == Category::Narrative
        || event.category() == Category::Challenge) {
        if (auto e = conn.exec(u"INSERT OR REPLACE INTO eventdesk_timeline(event_id, world_id, created_at, event_type, summary) "
                               "VALUES(?, ?, ?, ?, ?)"_s,
                               {row.id, world, at, row.eventType, event.summary()}))
            return e;
    }

    // One job upsert: the first event seen creates it, later ones move it on.
    const auto job = [&](const char *kind, const QString &id, const QString &label, const QString &status,
                         const QVariant &progress, bool queued, bool finished, const QString &error) {
        const QVariant none{QMetaType(QMetaType::QString)};
        return conn.exec(
            u"INSERT INTO eventdesk_jobs(kind, job_id, world_id, label, status, progress, queued_at, updated_at, "
            "finished_at, duration_ms, error) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10) "
            "ON CONFLICT(kind, job_id) DO UPDATE SET "
            "world_id = CASE WHEN excluded.world_id != '' THEN excluded.world_id ELSE world_id END, "
            "label = CASE WHEN excluded.label != '' THEN excluded.label ELSE label END, "
            "status = CASE WHEN status IN ('completed','failed') AND excluded.status IN ('queued','running') "
            "         THEN status ELSE excluded.status END, "
            "progress = coalesce(excluded.progress, progress), "
            "queued_at = coalesce(queued_at, excluded.queued_at), "
            "updated_at = excluded.updated_at, "
            "finished_at = coalesce(excluded.finished_at, finished_at), "
            "duration_ms = CASE WHEN excluded.finished_at IS NOT NULL AND queued_at IS NOT NULL "
            "  THEN CAST(round((julianday(excluded.finished_at) - julianday(queued_at)) * 86400000) AS INTEGER) "
            "  ELSE duration_ms END, "
            "error = coalesce(excluded.error, error)"_s,
            {QString::fromLatin1(kind), id, world, label.isEmpty() ? u""_s : label, status, progress.isValid() ? progress : none,
             queued ? QVariant(at) : none, at, finished ? QVariant(at) : none, error.isEmpty() ? none : QVariant(error)});
    };
    const auto entity = [](const QString &assetType, const QString &entityType, const QString &entityId) {
        return u"%1 for %2 %3"_s.arg(assetType, entityType, entityId);
    };
    using namespace events;
    return std::visit(
        Overloaded{
            [](std::monostate) -> std::optional<Error> { return std::nullopt; },
            [](const StoryEventCreated &) -> std::optional<Error> { return std::nullopt; },
            [](const NarrativeEventTriggered &) -> std::optional<Error> { return std::nullopt; },
            [&](const ChallengeResolved &e) {
                return conn.exec(u"INSERT INTO eventdesk_challenge_stats(world_id, character_id, attempts, successes) "
                                 "VALUES(?, ?, 1, ?) ON CONFLICT(world_id, character_id) DO UPDATE SET "
                                 "attempts = attempts + 1, successes = successes + excluded.successes"_s,
                                 {e.worldId, e.characterId, e.success ? 1 : 0});
            },
            [&](const GenerationBatchQueued &e) {
                return job("generation", e.batchId, entity(e.assetType, e.entityType, e.entityId), u"queued"_s, QVariant(),
                           true, false, {});
            },
            [&](const GenerationBatchProgress &e) {
                return job("generation", e.batchId, {}, u"running"_s, e.progress, false, false, {});
            },
            [&](const GenerationBatchCompleted &e) {
                return job("generation", e.batchId, entity(e.assetType, e.entityType, e.entityId), u"completed"_s, 100,
                           false, true, {});
            },
            [&](const GenerationBatchFailed &e) {
                return job("generation", e.batchId, entity(e.assetType, e.entityType, e.entityId), u"failed"_s, QVariant(),
                           false, true, e.error);
            },
            [&](const SuggestionQueued &e) {
                return job("suggestion", e.requestId, e.fieldType, u"queued"_s, QVariant(), true, false, {});
            },
            [&](const SuggestionProgress &e) {
                return job("suggestion", e.requestId, {}, u"running"_s, QVariant(), false, false, {});
            },
            [&](const SuggestionCompleted &e) {
                return job("suggestion", e.requestId, e.fieldType, u"completed"_s, 100, false, true, {});
            },
            [&](const SuggestionFailed &e) {
                return job("suggestion", e.requestId, e.fieldType, u"failed"_s, QVariant(), false, true, e.error);
            },
        },
        event.data());
}

} // namespace

const QString Projector::CursorName = u"eventdesk.projections"_s;

Projector::Projector(EventStore &source, Notifier &notifier, DeskDatabase &target, QObject *parent)
    : QObject(parent)
    , m_target(target)
    , m_pump(source, [this] { return m_target.loadCursor(CursorName); },
             [this](const QList<StoredEvent> &rows) { return project(rows); }, CursorPump::Options{BatchSize, 1000, 1000, false},
             this)
{
    connect(&notifier, &Notifier::eventsAvailable, this, [this](qint64 head) {
        if (head == 0 || head > m_pump.cursor())
            m_pump.wake();
    });
    connect(&m_pump, &CursorPump::advanced, this, &Projector::projected);
    connect(&m_pump, &CursorPump::failed, this, [this](const Error &error) {
        qCWarning(lcStore).noquote() << "projections not updated:" << error.message;
        Q_EMIT errorOccurred(error);
    });
}

void Projector::start()
{
    m_pump.start();
}

// The rows and the cursor past them in one transaction: applied once each.
QFuture<Result<bool>> Projector::project(const QList<StoredEvent> &rows)
{
    const qint64 last = rows.last().id;
    return m_target.write([rows, last](SqliteConnection &conn) -> std::optional<Error> {
        for (const StoredEvent &row : rows) {
            if (auto e = applyRow(conn, row))
                return e;
        }
        return conn.exec(u"INSERT INTO eventdesk_cursors(name, last_id, updated_at) VALUES(?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET last_id = excluded.last_id, updated_at = excluded.updated_at"_s,
                         {CursorName, last, timestamp::now()});
    });
}

QFuture<Result<QList<MinuteCount>>> Projector::eventsPerMinute(const QDateTime &since)
{
    const QString from = since.toUTC().toString(u"yyyy-MM-ddTHH:mm"_s);
    return m_target.read<QList<MinuteCount>>([from](SqliteConnection &conn) -> Result<QList<MinuteCount>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT minute, event_type, world_id, count FROM eventdesk_stats_minute "
                                    "WHERE minute >= ? ORDER BY minute"_s,
                                 {from}))
            return conn.lastError(q, u"cannot read event rates"_s);
        QList<MinuteCount> out;
        while (q.next()) {
            QDateTime m = QDateTime::fromString(q.value(0).toString(), u"yyyy-MM-ddTHH:mm"_s);
            m.setTimeSpec(Qt::UTC);
            out.append({m, q.value(1).toString(), q.value(2).toString(), q.value(3).toLongLong()});
        }
        q.finish();
        return out;
    });
}

QFuture<Result<QList<ChallengeRate>>> Projector::challengeStats()
{
    return m_target.read<QList<ChallengeRate>>([](SqliteConnection &conn) -> Result<QList<ChallengeRate>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT world_id, character_id, attempts, successes FROM eventdesk_challenge_stats "
                                    "ORDER BY world_id, character_id"_s))
            return conn.lastError(q, u"cannot read challenge statistics"_s);
        QList<ChallengeRate> out;
        while (q.next())
            out.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toLongLong(), q.value(3).toLongLong()});
        q.finish();
        return out;
    });
}

QFuture<Result<QList<JobState>>> Projector::jobs(int limit, qint64 stuckAfterMs)
{
    const QString stuckBefore = timestamp::format(QDateTime::currentDateTimeUtc().addMSecs(-stuckAfterMs));
    return m_target.read<QList<JobState>>([limit, stuckAfterMs, stuckBefore](SqliteConnection &conn) -> Result<QList<JobState>> {
        QSqlQuery q(conn.database());
        const QString where = stuckAfterMs > 0 ? u"WHERE status IN ('queued','running') AND updated_at < ? "_s : QString();
        QVariantList values;
        if (stuckAfterMs > 0)
            values.append(stuckBefore);
        values.append(qBound(1, limit, 100000));
        if (!conn.prepareAndExec(q, u"SELECT kind, job_id, world_id, label, status, progress, queued_at, updated_at, "
                                    "finished_at, duration_ms, error FROM eventdesk_jobs "_s
                                        + where + u"ORDER BY updated_at DESC LIMIT ?"_s,
                                 values))
            return conn.lastError(q, u"cannot read jobs"_s);
        QList<JobState> out;
        while (q.next()) {
            JobState j;
            j.kind = q.value(0).toString() == u"suggestion"_s ? JobState::Kind::Suggestion : JobState::Kind::Generation;
            j.jobId = q.value(1).toString();
            j.worldId = q.value(2).toString();
            j.label = q.value(3).toString();
            j.status = q.value(4).toString();
            j.progress = q.value(5).isNull() ? -1 : q.value(5).toInt();
            j.queuedAt = timestamp::parse(q.value(6).toString());
            j.updatedAt = timestamp::parse(q.value(7).toString());
            j.finishedAt = timestamp::parse(q.value(8).toString());
            j.durationMs = q.value(9).isNull() ? -1 : q.value(9).toLongLong();
            j.error = q.value(10).toString();
            out.append(j);
        }
        q.finish();
        return out;
    });
}

QFuture<Result<QList<TimelineEntry>>> Projector::timeline(const QString &worldId, int limit)
{
    return m_target.read<QList<TimelineEntry>>([worldId, limit](SqliteConnection &conn) -> Result<QList<TimelineEntry>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT event_id, world_id, created_at, event_type, summary FROM eventdesk_timeline "
                                    "WHERE world_id = ? ORDER BY event_id DESC LIMIT ?"_s,
                                 {worldId, qBound(1, limit, 100000)}))
            return conn.lastError(q, u"cannot read the timeline"_s);
        QList<TimelineEntry> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toString(), timestamp::parse(q.value(2).toString()),
                        q.value(3).toString(), q.value(4).toString()});
        q.finish();
        return out;
    });
}

} // namespace eventdesk
