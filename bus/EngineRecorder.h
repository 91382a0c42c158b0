// The flight recorder for today's engine (WrldBld/Game), which keeps no log
// and tells its clients everything over one WebSocket: joins one world as a
// spectator (never the DM's seat unless asked) and keeps every message the
// engine sends, exactly as it came, in EventDesk's log (EventStore::
// appendRecorded: event_type = the tag, payload = the text, created_at = when
// it arrived, the joined world beside it). A message is durable before it is
// announced to anyone. Replies to the recorder's own requests and Pong are
// not kept. A drop or an engine restart is reconnected with back-off and
// jitter, and the stretch without a connection is itself a row (a gap is never
// silent). A message over maxMessageBytes is kept truncated, with a marker;
// more than maxQueuedBytes waiting for the disk is dropped, counted, and said
// in a gap row: memory stays bounded whatever the engine sends.
#pragma once

#include "Ports.h"

#include <QDateTime>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <deque>
#include <memory>

class QWebSocket;

namespace eventdesk {

class EngineRecorder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EngineRecorder)
public:
    enum class Role { Spectator, Dm };
    struct Options {
        QUrl engine;                // ws://HOST:3000/ws
        QString worldId;            // the world's UUID
        Role role = Role::Spectator;
        QString spectate;           // a player character to spectate: its UUID, or its name
        QString userId;             // empty: eventdesk-recorder-<random> (never the DM's)
        qint64 maxMessageBytes = 1 << 20;   // kept truncated past this
        qint64 maxQueuedBytes = 64 << 20;   // waiting for the disk; past it, dropped and counted
        int heartbeatMs = 15000;            // Heartbeat → Pong (0: none)
        int backoffMinMs = 500;
        int backoffMaxMs = 30000;
        int maxRowsPerWrite = 2000;
    };
    struct Stats {
        bool connected = false;   // joined to the world, recording
        QString worldName;
        qint64 received = 0;      // messages the engine sent (not counting Pong and replies to us)
        qint64 stored = 0;        // durable
        qint64 lastId = 0;        // the last row written
        qint64 dropped = 0;       // over maxQueuedBytes, said in a gap row
        qint64 truncated = 0;
        int reconnects = 0;
        QDateTime lastGapFrom, lastGapTo;
    };

    EngineRecorder(EventStore &store, Notifier &notifier, Options options, QObject *parent = nullptr);
    ~EngineRecorder() override;

    void start();
    // Stops reading and closes the connection; stopped() once what was received is durable.
    void stop();
    Stats stats() const { return m_stats; }
    const Options &options() const { return m_options; }
    // The user id this recorder joins with.
    QString userId() const { return m_userId; }

    // The JoinWorld message, spelled as the engine's serde reads it.
    static QByteArray joinMessage(const QString &worldId, Role role, const QString &userId, const QString &spectatePcId);

Q_SIGNALS:
    void joined(const QString &worldName);
    void disconnected(const QString &why);
    // The engine refused the join (WorldNotFound, DmAlreadyConnected, …): recording stops.
    void refused(const QString &why);
    void storedUpTo(qint64 stored, qint64 lastId);
    void errorOccurred(const QString &message);
    void stopped();

private:
    void connectNow();
    void onConnected();
    void onText(const QString &text);
    void onDisconnected();
    void scheduleReconnect(const QString &why);
    void handleReply(const QJsonObject &message);
    void keep(const QString &tag, QByteArray payload, const QString &receivedAt);
    void keepGap(const QString &from, const QString &to, const QString &reason);
    void writeSoon();
    void write();
    void finishIfStopped();

    EventStore &m_store;
    Notifier &m_notifier;
    Options m_options;
    QString m_userId;
    QString m_spectateId;
    std::unique_ptr<QWebSocket> m_socket;
    QTimer m_heartbeat;
    QTimer m_reconnect;
    bool m_joined = false;
    bool m_stopping = false;
    bool m_done = false;
    bool m_writing = false;
    bool m_writeQueued = false;
    int m_attempt = 0;
    int m_requests = 0;
    QString m_pcRequest;         // the request id of our ListPlayerCharacters
    QString m_gapFrom;           // when the last connection was lost (empty: none open)
    QString m_gapReason;
    qint64 m_droppedSinceGap = 0;
    QString m_dropFrom;
    std::deque<EventStore::RecordedRow> m_queue;
    qint64 m_queuedBytes = 0;
    Stats m_stats;
};

} // namespace eventdesk
