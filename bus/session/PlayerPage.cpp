#include "PlayerPage.h"

#include <QFile>
#include <QHash>

using namespace Qt::StringLiterals;

namespace eventdesk::session {

namespace {

struct Asset {
    QByteArray contentType;
    QByteArray body;
    bool page = false;  // a page (never cached) or an asset (cached for a while)
};

QByteArray typeFor(const QString &name)
{
    if (name.endsWith(u".html"_s))
        return "text/html; charset=utf-8";
    if (name.endsWith(u".css"_s))
        return "text/css; charset=utf-8";
    if (name.endsWith(u".js"_s))
        return "text/javascript; charset=utf-8";
    if (name.endsWith(u".svg"_s))
        return "image/svg+xml";
    return "application/octet-stream";
}

// Read once, on the first request; the resources never change while running.
const QHash<QByteArray, Asset> &assets()
{
    static const QHash<QByteArray, Asset> all = [] {
        QHash<QByteArray, Asset> out;
        const auto add = [&out](const QByteArray &path, const QString &file, bool page) {
            QFile f(u":/player/"_s + file);
            if (f.open(QIODevice::ReadOnly))
                out.insert(path, Asset{typeFor(file), f.readAll(), page});
        };
        add("/join", u"join.html"_s, true);
        add("/table", u"table.html"_s, true);
        for (const QString &name : {u"player.css"_s, u"feed.js"_s, u"join.js"_s, u"table.js"_s, u"icon.svg"_s})
            add("/assets/" + name.toLatin1(), name, false);
        return out;
    }();
    return all;
}

// The Host header, if it is a plain host[:port] (it goes into a header we send).
QByteArray safeHost(const QByteArray &host)
{
    if (host.isEmpty() || host.size() > 255)
        return {};
    for (const char ch : host)
        if (!(std::isalnum(uchar(ch)) || ch == '.' || ch == ':' || ch == '-' || ch == '[' || ch == ']'))
            return {};
    return host;
}

HttpResponse plain(int status, const QByteArray &text)
{
    HttpResponse r;
    r.status = status;
    r.body = text + '\n';
    return r;
}

} // namespace

HttpResponse playerPage(const HttpRequest &request)
{
    QByteArray path = request.target;
    if (const qsizetype q = path.indexOf('?'); q >= 0)
        path.truncate(q);
    if (path == "/")
        path = "/join";
    const auto it = assets().constFind(path);
    if (it == assets().constEnd())
        return plain(404, "not found");
    HttpResponse r;
    r.status = 200;
    r.contentType = it->contentType;
    r.body = it->body;
    // Scripts only from this page's origin, none inline; sockets only to it.
    QByteArray connect = "'self'";
    if (const QByteArray host = safeHost(request.header("host")); !host.isEmpty())
        connect += " ws://" + host + " wss://" + host;
    r.headers = {
        {"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                    "connect-src " + connect + "; base-uri 'none'; form-action 'none'; "
                                    "frame-ancestors 'none'"},
        // The link holds the join code: it goes nowhere else.
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
    };
    if (!it->page) {
        r.cacheable = true;
        r.headers.append(std::pair<QByteArray, QByteArray>("Cache-Control", "max-age=300"));
    }
    return r;
}

QStringList playerPagePaths()
{
    QStringList out;
    for (auto it = assets().constBegin(); it != assets().constEnd(); ++it)
        out.append(QString::fromLatin1(it.key()));
    out.sort();
    return out;
}

qint64 playerPageBytes()
{
    qint64 n = 0;
    for (const Asset &a : assets())
        n += a.body.size();
    return n;
}

} // namespace eventdesk::session
