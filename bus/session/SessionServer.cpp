#include "SessionServer.h"

#include "Ids.h"
#include "Logging.h"
#include "DeskPorts.h"
#include "Subscriber.h"

#include <QPointer>
#include <QTimer>
#include <QUuid>

#include <deque>

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;

namespace {

constexpr int BackfillBatch = 500;
constexpr int KeptRefusals = 20;
constexpr int CloseGoingAway = 1001, ClosePolicy = 1008, CloseInternal = 1011;

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

// Equal-length comparison that does not stop at the first difference.
bool constantTimeEquals(const QString &a, const QString &b)
{
    const QByteArray x = a.toUtf8(), y = b.toUtf8();
    const qsizetype n = std::max(x.size(), y.size());
    unsigned diff = unsigned(x.size() ^ y.size());
    for (qsizetype i = 0; i < n; ++i)
        diff |= unsigned(uchar(i < x.size() ? x[i] : 0) ^ uchar(i < y.size() ? y[i] : 0));
    return diff == 0 && !a.isEmpty();
}

// What a client sent, fit for a log line: short, printable.
QString printable(const QString &text)
{
    QString out = text.left(64);
    for (QChar &ch : out)
        if (!ch.isPrint())
            ch = u'?';
    return out;
}

session::TransportLimits transportLimits(const SessionConfig &config)
{
    session::TransportLimits limits = config.transport;
    limits.maxMessageBytes = config.maxMessageBytes;
    return limits;
}

} // namespace

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
    int ticksOverLimit = 0;

    qint64 unsentBytes() const { return (conn ? conn->bytesToWrite() : 0) + pendingBytes; }
};

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
    m_transport.setOriginCheck([this](const QString &origin) { return originAllowed(origin); });
    connect(&m_transport, &session::Transport::connectionOpened, this, &SessionServer::onOpened);
    connect(&m_transport, &session::Transport::refused, this,
            [this](const QString &address, const QString &reason) { recordRefusal(address, {}, {}, reason); });
    connect(&m_heartbeat, &QTimer::timeout, this, &SessionServer::heartbeat);
    m_outboxTimer.setSingleShot(true);
    m_outboxTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_outboxTimer, &QTimer::timeout, this, [this] { dispatch(std::exchange(m_outbox, {})); });
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

QString SessionServer::newDmToken()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(words), sizeof words).toHex());
}

QString SessionServer::regenerateJoinCode()
{
    m_config.joinCode = newJoinCode();
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
    m_outboxTimer.stop();
    m_outbox.clear();
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

bool SessionServer::originAllowed(const QString &origin) const
{
    if (origin.isEmpty())
        return true;
    if (m_config.allowedOrigins.contains(origin))
        return true;
    const QUrl u(origin);
    const QString host = u.host();
    return (u.scheme() == u"http"_s || u.scheme() == u"https"_s)
        && (host == u"localhost"_s || host == u"127.0.0.1"_s || host == u"::1"_s);
}

void SessionServer::recordRefusal(const QString &address, const QString &role, const QString &world, const QString &reason)
{
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

bool SessionServer::send(Client *c, const QByteArray &frame, int messages)
{
    if (c->closing)
        return false;
    c->pending.push_back(Client::Chunk{frame, messages});
    c->pendingBytes += frame.size();
    flush(c, false);
    // A burst far past the bound: no need to wait for the heartbeat to see it does not read.
    if (c->unsentBytes() > 4 * m_config.maxQueuedBytes) {
        drop(c, u"over %1 bytes unsent"_s.arg(c->unsentBytes()));
        return false;
    }
    return true;
}

// Hands queued messages to the socket while its own buffer is short; the rest
// follow as it drains (bytesWritten). all: everything, before a close frame.
void SessionServer::flush(Client *c, bool all)
{
    constexpr qint64 SocketWatermark = 256 * 1024;
    while (!c->pending.empty() && (all || c->unsentBytes() - c->pendingBytes < SocketWatermark)) {
        if (!c->conn)
            break;  // the socket is already gone; the client is on its way out
        const Client::Chunk &chunk = c->pending.front();
        c->conn->write(chunk.bytes);
        c->pendingBytes -= chunk.bytes.size();
        c->info.messagesSent += chunk.messages;
        c->pending.pop_front();
    }
}

void SessionServer::drop(Client *c, const QString &why)
{
    // It does not read: dropped before its backlog grows our memory. It can resume later.
    qCWarning(lcSession).noquote() << "client" << c->info.id << c->info.name << "dropped:" << why;
    c->closing = true;
    c->pending.clear();
    c->pendingBytes = 0;
    if (c->conn)
        c->conn->abort();
}

void SessionServer::sendError(Client *c, PErr code, const QString &message)
{
    send(c, textFrame(protocol::error(code, message)));
}

void SessionServer::closeClient(Client *c, int closeCode, const QString &reason)
{
    if (c->closing)
        return;
    flush(c, true);
    c->closing = true;
    if (c->conn)
        c->conn->close(closeCode, reason);
}

void SessionServer::onText(Client *c, const QByteArray &text)
{
    if (c->closing || c->judging)
        return;
    // Token bucket: about messagesPerSecond, bursts up to `burst`; a joined DM's is larger.
    const bool dm = c->info.joined && c->info.role == session::Role::Dm;
    const double rate = dm ? m_config.dmMessagesPerSecond : m_config.messagesPerSecond;
    const double burst = dm ? m_config.dmBurst : m_config.burst;
    const qint64 now = nowMs();
    c->tokens = std::min<double>(burst, c->tokens + double(now - c->lastRefillMs) * rate / 1000.0);
    c->lastRefillMs = now;
    if (c->tokens < 1.0) {
        if (++c->strikes >= m_config.floodLimit) {
            sendError(c, PErr::RateLimited, u"too many messages; closing"_s);
            closeClient(c, ClosePolicy, u"flooding"_s);
            return;
        }
        sendError(c, PErr::RateLimited, u"slow down: at most %1 messages a second"_s.arg(rate));
        return;
    }
    c->tokens -= 1.0;
    c->strikes = 0;

    const protocol::Decoded decoded = protocol::decodeClientMessage(text);
    if (const auto *err = std::get_if<protocol::ProtocolError>(&decoded)) {
        sendError(c, err->code, err->message);
        if (!c->info.joined) {
            recordRefusal(c->address.toString(), {}, {}, u"a first message that is not a valid Join"_s);
            closeClient(c, ClosePolicy, u"bad join"_s);
        }
        return;
    }
    const protocol::ClientMessage &message = std::get<protocol::ClientMessage>(decoded);
    const bool isJoin = std::holds_alternative<protocol::Join>(message);
    if (!c->info.joined && !isJoin) {
        sendError(c, PErr::Unauthorized, u"the first message must be a Join"_s);
        recordRefusal(c->address.toString(), {}, {}, u"a first message that is not a Join"_s);
        closeClient(c, ClosePolicy, u"no join"_s);
        return;
    }
    if (c->info.joined && isJoin) {
        sendError(c, PErr::BadMessage, u"already joined"_s);
        return;
    }
    std::visit([&](const auto &m) { handle(c, m); }, message);
}

// Failed joins from an address slow its next ones down, doubling each time (up
// to joinDelayMaxMs); an hour without failures forgets them. The right secret
// waits at most rightSecretDelayMaxMs: a DM locked out of their own table by a
// stranger's guesses would be worse than the guesses.
int SessionServer::joinDelayMs(const QString &address, bool rightSecret)
{
    auto it = m_joinFailures.find(address);
    if (it == m_joinFailures.end())
        return 0;
    if (nowMs() - it->lastMs > 3600 * 1000) {
        m_joinFailures.erase(it);
        return 0;
    }
    const int over = it->count - m_config.freeJoinFailures;
    if (over < 0)
        return 0;
    const qint64 delay = std::min<qint64>(m_config.joinDelayMaxMs, 250LL << std::min(over, 20));
    return int(rightSecret ? std::min<qint64>(delay, m_config.rightSecretDelayMaxMs) : delay);
}

void SessionServer::handle(Client *c, const protocol::Join &m)
{
    const QString &expected = m.role == session::Role::Dm ? m_config.dmToken : m_config.joinCode;
    const bool right = constantTimeEquals(m.secret, expected);
    const QString address = c->address.toString();
    const int delay = joinDelayMs(address, right);
    if (!right) {
        // Counted now, so that guesses sent side by side escalate too.
        if (m_joinFailures.size() >= 4096 && !m_joinFailures.contains(address))
            m_joinFailures.erase(m_joinFailures.begin());  // bounded, whatever a scanner does
        JoinFailures &f = m_joinFailures[address];
        ++f.count;
        f.lastMs = nowMs();
    }
    if (delay == 0) {
        decideJoin(c->info.id, m);
        return;
    }
    c->judging = true;
    QTimer::singleShot(delay, this, [this, id = c->info.id, m] { decideJoin(id, m); });
}

void SessionServer::decideJoin(const QString &clientId, const protocol::Join &m)
{
    Client *c = find(clientId);
    if (!c || c->closing)
        return;
    c->judging = false;
    const QString role = protocol::roleName(m.role);
    const QString &expected = m.role == session::Role::Dm ? m_config.dmToken : m_config.joinCode;
    if (!constantTimeEquals(m.secret, expected)) {
        const QString why = m.role == session::Role::Dm ? u"wrong DM token"_s : u"wrong join code"_s;
        recordRefusal(c->address.toString(), role, m.worldId, why);
        sendError(c, PErr::Unauthorized, why);
        closeClient(c, ClosePolicy, u"unauthorized"_s);
        return;
    }
    if (clientCount() >= m_config.maxClients) {
        recordRefusal(c->address.toString(), role, m.worldId, u"the session is full"_s);
        sendError(c, PErr::Forbidden, u"the session is full (%1 clients); try again later"_s.arg(m_config.maxClients));
        // 1013 (try again later) would be apt, but Qt's own clients reject it as invalid.
        closeClient(c, ClosePolicy, u"session full"_s);
        return;
    }
    m_transport.admit(c->conn);
    c->info.joined = true;
    c->info.role = m.role;
    c->info.worldId = m.worldId;
    c->info.name = m.name;
    if (m.role == session::Role::Dm)
        c->tokens = m_config.dmBurst;
    send(c, textFrame(protocol::joined(c->info.id, m.role, m.worldId, m_liveHead)));
    qCInfo(lcSession).noquote() << role << printable(m.name) << "joined world" << printable(m.worldId) << "from"
                                << c->info.peer;
    Q_EMIT clientsChanged();
    if (m.lastEventId && *m.lastEventId < m_liveHead) {
        c->cursor = *m.lastEventId;
        backfill(c);
    } else {
        c->cursor = std::max(m_liveHead, m.lastEventId.value_or(0));
        c->live = true;
    }
}

void SessionServer::backfill(Client *c)
{
    const QString id = c->info.id;
    m_store.fetchSince(c->cursor, BackfillBatch).then(this, [this, id](const Result<QList<StoredEvent>> &rows) {
        Client *c = find(id);
        if (!c || c->closing)
            return;
        if (!rows) {
            qCWarning(lcSession).noquote() << "cannot resume client" << id << ":" << rows.error().message;
            closeClient(c, CloseInternal, u"cannot read the event log"_s);
            return;
        }
        for (const StoredEvent &row : rows.value()) {
            if (row.id <= c->cursor)
                continue;
            c->cursor = row.id;
            if (row.event && session::mayReceive(c->info.role, c->info.worldId, *row.event))
                if (!send(c, textFrame(session::encodeEventMessage(*row.event, {row.id, row.createdAtText, false, &m_names}))))
                    return;
        }
        // Events dispatched live while we read are fetched too: no gap.
        if (rows->size() >= BackfillBatch || c->cursor < m_liveHead) {
            backfill(c);
            return;
        }
        c->live = true;
    });
}

// A big session gathers what arrives within a few milliseconds into one
// dispatch: each socket then gets one write for several events instead of one
// each, and on loopback or a LAN the kernel's cost is per write, not per byte.
// The window grows with the session (10 ms at 200 clients, 50 ms from a
// thousand); a session under 200 clients dispatches at once.
void SessionServer::receive(const QList<StoredEvent> &events)
{
    const int windowMs = m_clients.size() < 200 ? 0 : std::min(50, int(m_clients.size()) / 20);
    if (windowMs == 0 && m_outbox.isEmpty()) {
        dispatch(events);
        return;
    }
    m_outbox += events;
    if (!m_outboxTimer.isActive())
        m_outboxTimer.start(windowMs);
}

void SessionServer::dispatch(const QList<StoredEvent> &events)
{
    if (events.isEmpty())
        return;
    const qint64 first = events.first().id;
    const qint64 last = events.last().id;
    m_liveHead = std::max(m_liveHead, last);
    // Each event is encoded and framed once. Clients that see the same events
    // (same role and world) share one buffer with this batch's frames for them,
    // handed to each socket in one write: a thousand players cost a thousand
    // writes a batch, not a thousand a message.
    std::vector<QByteArray> frames(size_t(events.size()));
    const auto frameOf = [&](qsizetype i) -> const QByteArray & {
        QByteArray &f = frames[size_t(i)];
        if (f.isEmpty()) {
            const StoredEvent &row = events[i];
            f = textFrame(session::encodeEventMessage(*row.event, {row.id, row.createdAtText, false, &m_names}));
        }
        return f;
    };
    const auto collect = [&](const Client *c, qint64 after, QByteArray &bytes, int &count) {
        for (qsizetype i = 0; i < events.size(); ++i) {
            const StoredEvent &row = events[i];
            if (row.id > after && row.event && session::mayReceive(c->info.role, c->info.worldId, *row.event)) {
                bytes += frameOf(i);
                ++count;
            }
        }
    };
    QHash<QString, std::pair<QByteArray, int>> audiences;
    for (const auto &client : m_clients) {
        Client *c = client.get();
        if (!c->info.joined || !c->live || c->closing || c->cursor >= last)
            continue;
        if (c->cursor < first) {
            const QString key = QString::number(int(c->info.role)) + u'\n' + c->info.worldId;
            auto it = audiences.find(key);
            if (it == audiences.end()) {
                std::pair<QByteArray, int> batch;
                collect(c, 0, batch.first, batch.second);
                it = audiences.insert(key, batch);
            }
            c->cursor = last;
            if (it->second > 0)
                send(c, it->first, it->second);
        } else {
            // Part of this batch reached it already (its backfill overlapped): the rest only.
            QByteArray bytes;
            int count = 0;
            collect(c, c->cursor, bytes, count);
            c->cursor = last;
            if (count > 0)
                send(c, bytes, count);
        }
    }
}

void SessionServer::handle(Client *c, const protocol::Ping &m)
{
    send(c, textFrame(protocol::pong(m.nonce)));
}

void SessionServer::handle(Client *c, const protocol::ChallengeRoll &m)
{
    if (!m_challengeBook) {
        sendError(c, PErr::NotFound, u"this session has no challenges"_s);
        return;
    }
    const QString id = c->info.id;
    m_challengeBook->challenge(m.challengeId).then(this, [this, id, m](const Result<std::optional<Challenge>> &r) {
        Client *c = find(id);
        if (!c)
            return;
        const bool visible = r && r.value()
            && (r.value()->worldId == c->info.worldId
                || (c->info.role == session::Role::Dm && c->info.worldId == session::AllWorlds));
        if (!visible) {
            sendError(c, PErr::NotFound, u"no challenge \"%1\" in world %2"_s.arg(m.challengeId.left(80), c->info.worldId));
            return;
        }
        const Challenge &ch = *r.value();
        // The engine wants UUIDs: a character the player named ("Aria") gets a
        // stable name-based id in that world, and its name is kept for display.
        QString characterId = m.characterId;
        if (!ids::isUuid(characterId)) {
            characterId = ids::characterUuid(ch.worldId, m.characterId);
            if (m_names.value(characterId) != m.characterId.trimmed()) {
                m_names.insert(characterId, m.characterId.trimmed());
                m_challengeBook->setDisplayName(u"character"_s, characterId, m.characterId);
            }
        }
        // The roll itself is the producer's (d20 + modifier against the difficulty).
        ChallengeRollOutcome outcome = m_challenges.resolve(ch.id, ch.name, ch.worldId, characterId, ch.difficulty,
                                                            m.modifier, m_config.sessionId);
        outcome.published.then(this, [this, id](const PublishResult &published) {
            if (Client *c = find(id)) {
                if (published)
                    send(c, textFrame(protocol::published(published.value())));
                else
                    sendError(c, PErr::BadMessage, u"the roll could not be recorded: %1"_s.arg(published.error().message));
            }
        });
    });
}

void SessionServer::handle(Client *c, const protocol::Publish &m)
{
    if (c->info.role != session::Role::Dm) {
        sendError(c, PErr::Forbidden, u"only a DM may publish"_s);
        return;
    }
    const QString world = m.event.worldId();
    if (c->info.worldId != session::AllWorlds && !world.isEmpty() && world != c->info.worldId) {
        sendError(c, PErr::Forbidden, u"a DM of world %1 may not publish to world %2"_s.arg(c->info.worldId, world));
        return;
    }
    const QString id = c->info.id;
    m_bus.publish(m.event).then(this, [this, id](const PublishResult &r) {
        Client *c = find(id);
        if (!c)
            return;
        if (r)
            send(c, textFrame(protocol::published(r.value())));
        else
            sendError(c, r.error().code == eventdesk::ErrorCode::InvalidEvent || r.error().code == eventdesk::ErrorCode::TooLarge
                             ? PErr::InvalidEvent
                             : PErr::BadMessage,
                      r.error().message);
    });
}

void SessionServer::handle(Client *c, const protocol::Replay &m)
{
    if (c->info.role != session::Role::Dm) {
        sendError(c, PErr::Forbidden, u"only a DM may replay"_s);
        return;
    }
    QString world = m.worldId;
    if (c->info.worldId != session::AllWorlds) {
        if (!world.isEmpty() && world != c->info.worldId) {
            sendError(c, PErr::Forbidden, u"a DM of world %1 may not replay world %2"_s.arg(c->info.worldId, world));
            return;
        }
        world = c->info.worldId;
    }
    const QString id = c->info.id;
    replay(m.fromEventId, m.toEventId, world, c->info.name).then(this, [this, id, m](const Result<int> &r) {
        Client *c = find(id);
        if (c && r)
            send(c, textFrame(protocol::replayed(m.fromEventId, m.toEventId, m_lastReplayEvents, r.value())));
        else if (c)
            sendError(c, r.error().code == eventdesk::ErrorCode::TooLarge ? PErr::TooLarge : PErr::NotFound,
                      r.error().message);
    });
}

QFuture<Result<int>> SessionServer::replay(qint64 fromId, qint64 toId, const QString &worldId, const QString &actor)
{
    EventQuery q;
    q.afterId = fromId - 1;
    q.beforeId = toId + 1;
    q.limit = m_config.maxReplay + 1;
    if (!worldId.isEmpty())
        q.worlds = {worldId};
    return m_store.fetchPage(q).then(this, [this, fromId, toId, worldId, actor](const Result<QList<StoredEvent>> &rows) -> Result<int> {
        if (!rows)
            return rows.error();
        if (rows->size() > m_config.maxReplay)
            return Error{eventdesk::ErrorCode::TooLarge, {},
                         u"that range holds more than %1 events; replay a smaller one"_s.arg(m_config.maxReplay)};
        if (rows->isEmpty())
            return Error{eventdesk::ErrorCode::NotFound, {}, u"no events with ids %1–%2"_s.arg(fromId).arg(toId)};
        int messages = 0;
        QSet<QString> reached;
        for (const StoredEvent &row : rows.value()) {
            if (!row.event)
                continue;
            QByteArray frame;
            for (const auto &client : m_clients) {
                Client *c = client.get();
                if (!c->info.joined || c->closing || !session::mayReceive(c->info.role, c->info.worldId, *row.event))
                    continue;
                if (frame.isEmpty())
                    frame = textFrame(session::encodeEventMessage(*row.event, {row.id, row.createdAtText, true, &m_names}));
                if (send(c, frame)) {
                    ++messages;
                    reached.insert(c->info.id);
                }
            }
        }
        m_lastReplayEvents = int(rows->size());
        if (m_challengeBook)
            m_challengeBook->audit(actor, u"replay"_s,
                                   u"ids %1–%2%3: %4 events, %5 messages to %6 clients"_s.arg(fromId).arg(toId)
                                       .arg(worldId.isEmpty() ? QString() : u" of world "_s + worldId)
                                       .arg(rows->size()).arg(messages).arg(reached.size()));
        return messages;
    });
}

int SessionServer::audienceFor(const AppEvent &event) const
{
    int n = 0;
    for (const auto &c : m_clients)
        if (c->info.joined && !c->closing && session::mayReceive(c->info.role, c->info.worldId, event))
            ++n;
    return n;
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
