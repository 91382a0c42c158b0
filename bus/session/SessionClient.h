// Internal to the session server's files: a client as the server holds it,
// and the small helpers they share.
#pragma once

#include "SessionServer.h"

#include <QDateTime>
#include <QPointer>

#include <deque>

namespace eventdesk::session_detail {


inline constexpr int BackfillBatch = 500;
inline constexpr int KeptRefusals = 20;
inline constexpr int CloseGoingAway = 1001, ClosePolicy = 1008, CloseInternal = 1011;

inline qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

// Equal-length comparison that does not stop at the first difference.
inline bool constantTimeEquals(const QString &a, const QString &b)
{
    const QByteArray x = a.toUtf8(), y = b.toUtf8();
    const qsizetype n = std::max(x.size(), y.size());
    unsigned diff = unsigned(x.size() ^ y.size());
    for (qsizetype i = 0; i < n; ++i)
        diff |= unsigned(uchar(i < x.size() ? x[i] : 0) ^ uchar(i < y.size() ? y[i] : 0));
    return diff == 0 && !a.isEmpty();
}

// What a client sent, fit for a log line: short, printable.
inline QString printable(const QString &text)
{
    QString out = text.left(64);
    for (QChar &ch : out)
        if (!ch.isPrint())
            ch = u'?';
    return out;
}

inline session::TransportLimits transportLimits(const SessionConfig &config)
{
    session::TransportLimits limits = config.transport;
    limits.maxMessageBytes = config.maxMessageBytes;
    return limits;
}

} // namespace eventdesk::session_detail

namespace eventdesk {

struct SessionServer::Client {
    QPointer<session::Connection> conn;
    ClientInfo info;
    QHostAddress address;
    qint64 cursor = 0;         // the last id this client has been brought up to
    bool live = false;
    bool closing = false;
    bool judging = false;      // its Join is being decided (a throttled address waits)
    double tokens = 0;
    qint64 lastRefillMs = 0;
    int strikes = 0;
    qint64 joinDeadlineMs = 0;
    qint64 lastPingMs = 0;
    qint64 lastPongMs = 0;
    // Messages not yet handed to the socket. They are shared with every other
    // client that gets them (encoded once), so a queue costs little per client.
    struct Chunk {
        QByteArray bytes;  // one or more whole WebSocket frames
        int messages = 1;
    };
    std::deque<Chunk> pending;
    qint64 pendingBytes = 0;
    bool queued = false;  // listed for the server's next flushQueued()
    int ticksOverLimit = 0;

    qint64 unsentBytes() const { return (conn ? conn->bytesToWrite() : 0) + pendingBytes; }
};

} // namespace eventdesk
