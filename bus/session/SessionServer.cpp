// The session server: listening, the clients it holds, refusals, heartbeat and kicks.
#include "SessionClient.h"

#include "Ids.h"
#include "BusLog.h"
#include "PlayerPage.h"
#include "DeskPorts.h"
#include "Subscriber.h"

#include <QHostInfo>
#include <QMessageAuthenticationCode>
#include <QTimer>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;
using namespace session_detail;

SessionServer::SessionServer(EventStore &store, EventBus &bus, Notifier &notifier, DeskBook *challengeBook,
                             SessionConfig config, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_bus(bus)
    , m_notifier(notifier)
    , m_challengeBook(challengeBook)
    , m_config(std::move(config))
    , m_transport(transportLimits(m_config))
    , m_challenges(bus, m_config.seed)
{
    if (m_config.joinCode.isEmpty())
        m_config.joinCode = newJoinCode();
    if (m_config.dmToken.isEmpty())
        m_config.dmToken = newDmToken();
    if (m_config.sessionId.isEmpty())
        m_config.sessionId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_transport.setOriginCheck([this](const QString &origin, const QString &host) { return originAllowed(origin, host); });
    m_transport.setHttpHandler([this](const session::HttpRequest &request) {
        if (m_metricsHandler && (request.target == "/metrics" || request.target.startsWith("/metrics?")))
            return m_metricsHandler(request);
        if (m_config.playerPage)
            return session::playerPage(request);
        return session::HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
    });
    connect(&m_transport, &session::Transport::connectionOpened, this, &SessionServer::onOpened);
    connect(&m_transport, &session::Transport::refused, this,
            [this](const QString &address, const QString &reason) { recordRefusal(address, {}, {}, reason); });
    connect(&m_heartbeat, &QTimer::timeout, this, &SessionServer::heartbeat);
}

SessionServer::~SessionServer()
{
    close();
}

QString SessionServer::newJoinCode()
{
    // No 0/O, 1/I/L: read aloud across a table without mistakes.
    static constexpr char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    QString code;
    for (int i = 0; i < 8; ++i)
        code += QLatin1Char(alphabet[QRandomGenerator::system()->bounded(int(sizeof alphabet - 1))]);
    return code;
}

// The join code players were given stays the database's own until the DM
// presses New (a --join-code given on the command line wins).
SessionConfig SessionServer::withStoredJoinCode(SessionConfig session, DeskBook *book)
{
    if (!session.joinCode.isEmpty() || !book)
        return session;
    QFuture<Result<QString>> stored = book->setting(u"join_code"_s);
    stored.waitForFinished();  // EventDesk's own database, on its own thread: a few milliseconds
    if (stored.result() && !stored.result().value().isEmpty()) {
        session.joinCode = stored.result().value();
    } else if (!book->isReadOnly()) {
        session.joinCode = SessionServer::newJoinCode();
        book->setSetting(u"join_code"_s, session.joinCode);
    }
    return session;
}

// HMAC-SHA256 of the world id under the database's secret, in the same
// read-aloud alphabet as the secret: 8 characters, about 40 bits, and the
// failed-join back-off makes guessing one hopeless.
QString SessionServer::worldJoinCode(const QString &secret, const QString &worldId)
{
    static constexpr char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    const QByteArray mac = QMessageAuthenticationCode::hash("eventdesk-join:" + worldId.toUtf8(), secret.toUtf8(),
                                                            QCryptographicHash::Sha256);
    QString code;
    for (int i = 0; i < 8; ++i)
        code += QLatin1Char(alphabet[uchar(mac.at(i)) % (sizeof alphabet - 1)]);
    return code;
}

void SessionServer::openWorld(const QString &worldId)
{
    if (worldId.isEmpty() || worldId == session::AllWorlds || m_worlds.contains(worldId))
        return;
    m_worlds.insert(worldId);
    Q_EMIT worldAdded(worldId);
}

QString SessionServer::newDmToken()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(words), sizeof words).toHex());
}

QString SessionServer::regenerateJoinCode()
{
    m_config.joinCode = newJoinCode();
    // The code stays with the database until the DM asks for a new one.
    if (m_challengeBook && !m_challengeBook->isReadOnly())
        m_challengeBook->setSetting(u"join_code"_s, m_config.joinCode);
    return m_config.joinCode;
}

void SessionServer::setListenAddress(const QHostAddress &address, quint16 port)
{
    m_config.address = address;
    m_config.port = port;
}

Result<bool> SessionServer::listen()
{
    if (isListening())
        return true;
    if (Result<bool> listening = m_transport.listen(m_config.address, m_config.port, m_config.tlsCertificate, m_config.tlsKey);
        !listening)
        return listening;

    // The worlds players may join: every one the log has seen (new ones are
    // added as their events arrive, or opened by the DM).
    QFuture<Result<QStringList>> worlds = m_store.distinctWorlds();
    worlds.waitForFinished();
    if (worlds.result())
        for (const QString &w : worlds.result().value())
            openWorld(w);
    // Live events: everything after what is on disk now.
    QFuture<Result<qint64>> head = m_store.headId();
    head.waitForFinished();
    m_liveHead = head.result() ? head.result().value() : 0;
    m_live = std::make_unique<Subscriber>(m_store, m_notifier, Subscriber::Options{.startAfter = m_liveHead});
    connect(m_live.get(), &Subscriber::eventsReceived, this, &SessionServer::receive);
    connect(m_live.get(), &Subscriber::logWentBack, this, [this](qint64 was, qint64 head) {
        // The log was reset or replaced: everyone is brought along to its new start.
        qCWarning(lcSession).noquote() << "the event log went back in time (newest id" << head << "after" << was
                                       << "); clients follow it from its new start";
        m_liveHead = 0;
        for (const auto &c : m_clients)
            c->cursor = 0;
        Q_EMIT logWentBack(was, head);
    });
    m_live->start();
    m_heartbeat.start(1000);
    qCInfo(lcSession).noquote() << "listening on" << url().toString();
    return true;
}

void SessionServer::close()
{
    m_heartbeat.stop();
    for (auto &c : m_clients) {
        if (c->conn) {
            c->conn->disconnect(this);
            c->conn->close(CloseGoingAway, u"the session has ended"_s);
        }
    }
    const bool had = !m_clients.empty();
    m_byId.clear();
    m_clients.clear();
    m_live.reset();
    m_transport.close();
    if (had)
        Q_EMIT clientsChanged();
}

bool SessionServer::isListening() const { return m_transport.isListening(); }
quint16 SessionServer::port() const { return m_transport.port(); }

QUrl SessionServer::url() const
{
    QUrl u;
    u.setScheme(m_transport.isTls() ? u"wss"_s : u"ws"_s);
    u.setHost(m_config.address.toString());
    u.setPort(port());
    return u;
}

QUrl SessionServer::joinLink(const QString &worldId, const QString &page) const
{
    QUrl u = url();
    u.setScheme(m_transport.isTls() ? u"https"_s : u"http"_s);
    u.setPath(u'/' + page);
    u.setQuery(u"world="_s + QString::fromLatin1(QUrl::toPercentEncoding(worldId)) + u"&code="_s
               + QString::fromLatin1(QUrl::toPercentEncoding(joinCodeFor(worldId))));
    return u;
}

// Browsers send the page's Origin with the upgrade. Accepted: none (native
// clients), the loopback names, the DM's allow-list, and the player page's own
// origin: the same scheme, host and port as the Host the request was sent to,
// that port being ours and the host an address, localhost or this machine's
// name. Anything else (another site's page in the player's browser) is refused.
bool SessionServer::originAllowed(const QString &origin, const QString &hostHeader) const
{
    if (origin.isEmpty())
        return true;
    if (m_config.allowedOrigins.contains(origin))
        return true;
    const QUrl u(origin);
    const QString host = u.host();
    const bool web = u.scheme() == u"http"_s || u.scheme() == u"https"_s;
    if (web && (host == u"localhost"_s || host == u"127.0.0.1"_s || host == u"::1"_s))
        return true;
    if (!m_config.playerPage || u.scheme() != (m_transport.isTls() ? u"https"_s : u"http"_s) || !u.path().isEmpty())
        return false;
    const QUrl sentTo(u.scheme() + u"://"_s + hostHeader);
    const int defaultPort = m_transport.isTls() ? 443 : 80;
    if (!sentTo.isValid() || sentTo.host().compare(host, Qt::CaseInsensitive) != 0
        || sentTo.port(defaultPort) != u.port(defaultPort) || u.port(defaultPort) != port())
        return false;
    if (!QHostAddress(host).isNull())
        return true;
    const QString machine = QHostInfo::localHostName().toLower();
    return !machine.isEmpty() && (host.toLower() == machine || host.toLower() == machine + u".local"_s);
}

namespace {
// A refusal's reason as a metrics label: a short word from a fixed set.
QString refusalKind(const QString &reason)
{
    static const QList<std::pair<QString, QString>> kinds = {
        {u"wrong join code"_s, u"wrong_join_code"_s},
        {u"no such world"_s, u"unknown_world"_s},
        {u"wrong DM token"_s, u"wrong_dm_token"_s},
        {u"session is full"_s, u"session_full"_s},
        {u"origin"_s, u"origin"_s},
        {u"no Join within"_s, u"join_timeout"_s},
        {u"Join"_s, u"bad_join"_s},
        {u"from this address"_s, u"too_many_pending"_s},
        {u"waited longest"_s, u"evicted"_s},
        {u"handshake"_s, u"handshake_timeout"_s},
    };
    for (const auto &[text, kind] : kinds)
        if (reason.contains(text))
            return kind;
    return u"other"_s;
}
} // namespace

void SessionServer::recordRefusal(const QString &address, const QString &role, const QString &world, const QString &reason)
{
    ++m_stats.refusedByReason[refusalKind(reason)];
    // Never the secret that was tried: address, role, world and why. A flood of
    // refusals is summed up each second, not written out line by line.
    const qint64 second = nowMs() / 1000;
    if (second != m_refusalLogSecond) {
        if (m_refusalsUnlogged > 0)
            qCInfo(lcSession).noquote() << "refused" << m_refusalsUnlogged << "more connections in the last second";
        m_refusalLogSecond = second;
        m_refusalsLogged = m_refusalsUnlogged = 0;
    }
    if (++m_refusalsLogged <= 10)
        qCInfo(lcSession).noquote() << "refused" << address << (role.isEmpty() ? QString() : u"as "_s + role)
                                    << (world.isEmpty() ? QString() : u"of world "_s + printable(world)) << "-" << reason;
    else
        ++m_refusalsUnlogged;
    ++m_refusedCount;
    m_refusals.append(Refusal{QDateTime::currentDateTime(), address, role, printable(world), reason});
    while (m_refusals.size() > KeptRefusals)
        m_refusals.removeFirst();
    Q_EMIT refusalsChanged();
}

void SessionServer::onOpened(session::Connection *connection)
{
    auto client = std::make_unique<Client>();
    Client *c = client.get();
    c->conn = connection;
    c->address = connection->peerAddress();
    c->info.id = QString::number(m_nextClient++);
    c->info.peer = connection->peer();
    c->info.connectedSince = QDateTime::currentDateTime();
    c->tokens = m_config.burst;
    c->lastRefillMs = c->lastPingMs = c->lastPongMs = nowMs();
    c->joinDeadlineMs = nowMs() + m_config.joinTimeoutMs;
    const QString id = c->info.id;
    connect(connection, &session::Connection::textReceived, this, [this, id](const QByteArray &text) {
        if (Client *c = find(id))
            onText(c, text);
    });
    connect(connection, &session::Connection::binaryReceived, this, [this, id] {
        if (Client *c = find(id))
            sendError(c, PErr::BadMessage, u"binary frames are not part of the protocol; send JSON text"_s);
    });
    connect(connection, &session::Connection::bytesWritten, this, [this, id] {
        if (Client *c = find(id); c && !c->closing)
            flush(c, false);
    });
    connect(connection, &session::Connection::pongReceived, this, [this, id] {
        if (Client *c = find(id))
            c->lastPongMs = nowMs();
    });
    // Always queued (the transport sees to it): never inside a walk of the client list.
    connect(connection, &session::Connection::disconnected, this, [this, id] {
        const auto it = std::find_if(m_clients.begin(), m_clients.end(), [&](const auto &c) { return c->info.id == id; });
        if (it == m_clients.end())
            return;
        const bool joined = (*it)->info.joined;
        qCDebug(lcSession).noquote() << "client" << id << "left";
        m_byId.remove(id);
        m_clients.erase(it);
        if (joined)
            Q_EMIT clientsChanged();
    });
    m_byId.insert(id, c);
    m_clients.push_back(std::move(client));
    qCDebug(lcSession).noquote() << "client" << id << "connected from" << c->info.peer;
}

SessionServer::Client *SessionServer::find(const QString &id) const
{
    // Called for every write a socket finishes: a hash, not a walk of a thousand clients.
    return m_byId.value(id);
}

QList<ClientInfo> SessionServer::clients() const
{
    QList<ClientInfo> out;
    for (const auto &c : m_clients) {
        if (!c->info.joined)
            continue;
        ClientInfo info = c->info;
        info.bytesQueued = c->unsentBytes();
        out.append(info);
    }
    return out;
}

int SessionServer::clientCount() const
{
    return int(std::count_if(m_clients.begin(), m_clients.end(), [](const auto &c) { return c->info.joined; }));
}

bool SessionServer::kick(const QString &clientId, const QString &reason)
{
    Client *c = find(clientId);
    if (!c)
        return false;
    sendError(c, PErr::Forbidden, reason.isEmpty() ? u"removed from the session by the DM"_s : reason);
    closeClient(c, ClosePolicy, u"kicked"_s);
    if (m_challengeBook)
        m_challengeBook->audit(u"dm"_s, u"kick"_s, u"client %1 (%2, %3)"_s.arg(clientId, c->info.name, c->info.peer));
    return true;
}

void SessionServer::heartbeat()
{
    const qint64 now = nowMs();
    for (const auto &client : m_clients) {
        Client *c = client.get();
        if (c->closing)
            continue;
        if (!c->info.joined) {
            if (!c->judging && now > c->joinDeadlineMs) {
                recordRefusal(c->address.toString(), {}, {}, u"no Join within %1 s"_s.arg(m_config.joinTimeoutMs / 1000));
                sendError(c, PErr::Unauthorized, u"no Join within %1 s"_s.arg(m_config.joinTimeoutMs / 1000));
                closeClient(c, ClosePolicy, u"join timeout"_s);
            }
            continue;
        }
        if (now - c->lastPongMs > m_config.pongTimeoutMs) {
            drop(c, u"no pong for %1 s"_s.arg(m_config.pongTimeoutMs / 1000));
            continue;
        }
        if (now - c->lastPingMs >= m_config.pingIntervalMs) {
            c->lastPingMs = now;
            if (c->conn)
                c->conn->ping();
        }
        // Over the bound at two ticks in a row: it is not draining.
        c->ticksOverLimit = c->unsentBytes() > m_config.maxQueuedBytes ? c->ticksOverLimit + 1 : 0;
        if (c->ticksOverLimit >= 2)
            drop(c, u"%1 bytes unsent for over a second"_s.arg(c->unsentBytes()));
    }
}

} // namespace eventdesk
