#include "RedisUrl.h"

#include <QUrl>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

Error bad(const QString &what)
{
    return Error{ErrorCode::Usage, u"bus"_s, u"bad --bus URL: %1"_s.arg(what)};
}

} // namespace

Result<RedisEndpoint> RedisEndpoint::parse(const QString &text)
{
    if (text.size() > 2048)
        return bad(u"longer than 2048 characters"_s);
    if (text.startsWith("rediss://"_L1, Qt::CaseInsensitive))
        return bad(u"rediss:// (TLS to Redis) is not supported by this build; use a local tunnel"_s);
    if (!text.startsWith("redis://"_L1, Qt::CaseInsensitive))
        return bad(u"expected redis://[:password@]host:port/db?stream=NAME"_s);
    for (QChar c : text)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.isSpace())
            return bad(u"it contains spaces or control characters"_s);

    // The port by hand first: QUrl only says "invalid" about 99999.
    const QString authority = text.mid(8).section(u'/', 0, 0).section(u'?', 0, 0).section(u'@', -1);
    if (const qsizetype colon = authority.lastIndexOf(u':'); colon >= 0 && !authority.endsWith(u']')) {
        bool ok = false;
        const qint64 port = authority.mid(colon + 1).toLongLong(&ok);
        if (ok && (port < 1 || port > 65535))
            return bad(u"port %1 is out of range"_s.arg(port));
    }

    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid())  // QUrl's own message repeats the URL, password and all
        return bad(u"not a valid URL (look at the host and the port)"_s);

    RedisEndpoint ep;
    if (!url.host().isEmpty())
        ep.host = url.host();
    if (url.port() != -1) {
        if (url.port() < 1 || url.port() > 65535)
            return bad(u"port %1 is out of range"_s.arg(url.port()));
        ep.port = quint16(url.port());
    } else if (text.mid(8).section(u'/', 0, 0).section(u'?', 0, 0).endsWith(u':')) {
        return bad(u"the port is empty"_s);
    }
    ep.user = url.userName(QUrl::FullyDecoded);
    ep.password = url.password(QUrl::FullyDecoded);
    if (!ep.user.isEmpty() && ep.password.isEmpty())
        return bad(u"a user without a password (write redis://:password@host or redis://user:password@host)"_s);

    const QString path = url.path();
    if (!path.isEmpty() && path != "/"_L1) {
        bool ok = false;
        const int db = path.mid(1).toInt(&ok);
        if (!ok || db < 0 || db > 9999 || path.mid(1).startsWith(u'+'))
            return bad(u"the database must be a number 0–9999, not \"%1\""_s.arg(path.mid(1)));
        ep.db = db;
    }

    const QUrlQuery query(url);
    for (const auto &[key, rawValue] : query.queryItems(QUrl::FullyDecoded)) {
        const QString value = rawValue;
        if (key == "stream"_L1) {
            if (value.isEmpty() || value.size() > 200)
                return bad(u"stream must be 1–200 characters"_s);
            ep.stream = value;
        } else if (key == "maxlen"_L1) {
            bool ok = false;
            ep.maxLength = value.toLongLong(&ok);
            if (!ok || ep.maxLength < 0)
                return bad(u"maxlen must be a whole number ≥ 0, not \"%1\""_s.arg(value));
        } else if (key == "timeout_ms"_L1) {
            bool ok = false;
            ep.timeoutMs = value.toInt(&ok);
            if (!ok || ep.timeoutMs < 100 || ep.timeoutMs > 600000)
                return bad(u"timeout_ms must be 100–600000, not \"%1\""_s.arg(value));
        } else {
            return bad(u"unknown option \"%1\" (known: stream, maxlen, timeout_ms)"_s.arg(key));
        }
    }
    return ep;
}

QString RedisEndpoint::display() const
{
    QString host = this->host.contains(u':') ? u'[' + this->host + u']' : this->host;
    return u"redis://%1:%2/%3?stream=%4"_s.arg(host).arg(port).arg(db).arg(stream);
}

} // namespace eventdesk
