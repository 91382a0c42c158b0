// Projections of the bus kept live in EventDesk's own tables: events per
// minute by type and world, challenge success by world and character,
// generation and suggestion jobs from queued to done (durations, stuck jobs) and
// the story timeline of each world. A subscriber like any other: it reads the
// bus from its cursor and applies each batch and the cursor in one transaction,
// so every event is counted exactly once, across restarts too.
#pragma once

#include "DeskPorts.h"
#include "Ports.h"
#include "CursorPump.h"
#include "DeskDatabase.h"

#include <QObject>

namespace eventdesk {

struct MinuteCount {
    QDateTime minute;   // UTC, start of the minute
    QString eventType;
    QString worldId;    // "" for events without a world
    qint64 count = 0;
};

struct JobState {
    enum class Kind { Generation, Suggestion };
    Kind kind = Kind::Generation;
    QString jobId;
    QString worldId;
    QString label;       // "portrait for character pc7", "npc_name"
    QString status;      // queued, running, completed, failed
    int progress = -1;   // -1: unknown
    QDateTime queuedAt;
    QDateTime updatedAt;
    QDateTime finishedAt;
    qint64 durationMs = -1;
    QString error;
};

struct TimelineEntry {
    qint64 eventId = 0;
    QString worldId;
    QDateTime createdAt;
    QString eventType;
    QString summary;
};

class Projector final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Projector)
public:
    // Reads from `source` (any EventStore), writes to `target`'s eventdesk_ tables.
    Projector(EventStore &source, Notifier &notifier, DeskDatabase &target, QObject *parent = nullptr);

    void start();
    qint64 cursor() const { return m_pump.cursor(); }

    static const QString CursorName;

    // Reads of the projections (on the target's reader thread).
    QFuture<Result<QList<MinuteCount>>> eventsPerMinute(const QDateTime &since);
    QFuture<Result<QList<ChallengeRate>>> challengeStats();
    // Jobs, most recent first; stuckAfterMs > 0 keeps only open jobs idle that long.
    QFuture<Result<QList<JobState>>> jobs(int limit, qint64 stuckAfterMs = 0);
    QFuture<Result<QList<TimelineEntry>>> timeline(const QString &worldId, int limit);

Q_SIGNALS:
    void projected(qint64 cursor);
    void errorOccurred(const eventdesk::Error &error);

private:
    QFuture<Result<bool>> project(const QList<StoredEvent> &rows);

    DeskDatabase &m_target;
    CursorPump m_pump;
};

} // namespace eventdesk
