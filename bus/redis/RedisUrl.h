// Where a Redis Streams bus lives, parsed from
// redis://[[user]:password@]host[:port][/db][?stream=NAME&maxlen=N&timeout_ms=T]
// (DESIGN §4). Every key EventDesk uses is derived from the stream name, so two
// buses can share one Redis database without seeing each other.
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

namespace eventdesk {

struct RedisEndpoint {
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    int db = 0;
    QString user;        // ACL user; empty: the default user
    QString password;    // empty: no AUTH
    QString stream = QStringLiteral("app_events");
    qint64 maxLength = 0;  // >0: XADD trims to about this many entries (retention by length)
    int timeoutMs = 5000;  // a command without a reply after this fails, and the connection is renewed

    static Result<RedisEndpoint> parse(const QString &url);
    // For people and logs: never the password.
    QString display() const;

    QByteArray streamKey() const { return stream.toUtf8(); }
    QByteArray key(const char *suffix) const { return stream.toUtf8() + ':' + suffix; }
};

} // namespace eventdesk
